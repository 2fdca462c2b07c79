import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  signedInUser,
  startTestServer,
  waitForWorkspace,
  injectAs,
  socketAs,
  closeOf,
  type TestServer,
} from '../testing.ts';
import { VNC_PORT } from '../workspaces/desktop.ts';

// A stand-in VNC server inside the workspace, where the daemon's tunnel reaches its loopback. It
// speaks RFB's first line, as x11vnc does, and reports what the viewer sent.
let server: TestServer;
let vnc: { close(): void };
const fromViewer: Buffer[] = [];
let alice: { id: string; cookie: string };
let bob: { id: string; cookie: string };

const STAND_IN = `require('net').createServer((socket) => {
  socket.write('RFB 003.008\\n');
  socket.on('data', (chunk) => console.log('viewer ' + chunk.toString('base64')));
}).listen(${VNC_PORT}, '127.0.0.1', () => console.log('listening'));`;

async function startVnc(): Promise<{ close(): void }> {
  const row = await server.services.workspaces.get(alice.id, 'desk');
  const daemon = await server.services.workspaces.connect(row);
  const stream = await daemon.open('exec.start', { command: 'node', args: ['-e', STAND_IN] });
  let output = '';
  stream.onData((payload) => {
    output += Buffer.from(payload).toString();
    for (const match of output.matchAll(/viewer (\S+)\n/g))
      fromViewer.push(Buffer.from(match[1]!, 'base64'));
    output = output.replace(/viewer \S+\n/g, '');
  });
  for (let i = 0; i < 200 && !output.includes('listening'); i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  return { close: () => stream.cancel() };
}

function open(who: { cookie: string }, name: string, origin = server.origin) {
  return socketAs(server, who, `/api/workspaces/${name}/desktop/vnc`, origin);
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

    vnc.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const nothing = await closeOf(open(alice, 'desk'));
    expect(nothing.code).toBe(4503);
    expect(nothing.reason).toMatch(/desk has no desktop running/);
  });
});
