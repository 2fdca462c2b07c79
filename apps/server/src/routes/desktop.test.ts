import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  signedInUser,
  startTestServer,
  waitForWorkspace,
  injectAs,
  wsUrl,
  type TestServer,
} from '../testing.ts';
import { VNC_PORT } from './desktop.ts';

// A local workspace shares this machine's network, so a stand-in VNC server here is what the
// daemon's tunnel reaches on the workspace's loopback. It speaks RFB's first line, as x11vnc does.
let server: TestServer;
let vnc: Server;
const fromViewer: Buffer[] = [];
let alice: { id: string; cookie: string };
let bob: { id: string; cookie: string };

function startVnc(): Promise<Server> {
  const listener = createServer((socket: Socket) => {
    socket.write('RFB 003.008\n');
    socket.on('data', (chunk) => fromViewer.push(chunk));
  });
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(VNC_PORT, '127.0.0.1', () => resolve(listener));
  });
}

function open(who: { cookie: string }, name: string, origin = server.origin) {
  return new WebSocket(wsUrl(server, `/api/workspaces/${name}/desktop/vnc`), {
    headers: { cookie: who.cookie, origin },
  });
}

async function closeOf(socket: WebSocket): Promise<{ code: number; reason: string }> {
  const [code, reason] = (await once(socket, 'close')) as [number, Buffer];
  return { code, reason: reason.toString() };
}

beforeAll(async () => {
  server = await startTestServer();
  alice = await signedInUser(server, { email: 'alice@example.com' });
  bob = await signedInUser(server, { email: 'bob@example.com' });
  await injectAs(server, alice, 'POST', '/api/workspaces', { name: 'desk' });
  await waitForWorkspace(server, alice, 'desk', 'running');
}, 60_000);

afterAll(async () => {
  vnc?.close();
  await server?.close();
});

describe('the desktop socket', () => {
  it('carries RFB both ways through the daemon tunnel', async () => {
    vnc = await startVnc();
    const socket = open(alice, 'desk');
    const [greeting] = (await once(socket, 'message')) as [Buffer];
    expect(greeting.toString()).toBe('RFB 003.008\n');
    socket.send(Buffer.from('RFB 003.008\n'));
    for (let i = 0; i < 50 && Buffer.concat(fromViewer).length < 12; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(Buffer.concat(fromViewer).toString()).toBe('RFB 003.008\n');
    socket.close();
  });

  it('refuses a foreign Origin, another person’s workspace, and says when no desktop runs', async () => {
    const foreign = open(alice, 'desk', 'http://evil.example');
    const [error] = (await once(foreign, 'error')) as [Error];
    expect(error.message).toMatch(/403/);

    expect(await closeOf(open(bob, 'desk'))).toMatchObject({ code: 4404 });

    await new Promise<void>((resolve) => vnc.close(() => resolve()));
    const nothing = await closeOf(open(alice, 'desk'));
    expect(nothing.code).toBe(4503);
    expect(nothing.reason).toMatch(/desk has no desktop running/);
  });
});
