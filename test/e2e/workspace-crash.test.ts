// THREATS.md 20: `kill -9` the server while a terminal streams → on restart the workspace is
// still there (no orphan, no duplicate) and the terminal re-attaches with its scrollback.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type ServerProcess } from './server-process.ts';

const ADMIN = { email: 'crash@example.com', password: 'crash-test-password' };
const env = {
  STUDIO_ADMIN_EMAIL: ADMIN.email,
  STUDIO_ADMIN_PASSWORD: ADMIN.password,
  LOG_LEVEL: 'warn',
};
let server: ServerProcess | undefined;

afterAll(async () => {
  await server?.stop();
});

async function signIn(origin: string): Promise<string> {
  const response = await fetch(`${origin}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify(ADMIN),
  });
  expect(response.status).toBe(200);
  return response.headers
    .getSetCookie()
    .map((header) => header.split(';', 1)[0])
    .join('; ');
}

/** The fields of API answers this test reads. */
interface Body {
  id: string;
  status: string;
  statusReason: string | null;
}

function client(origin: string, cookie: string) {
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${origin}${path}`, {
      method,
      headers: {
        cookie,
        origin,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as Body };
  };
}

async function waitForStatus(call: ReturnType<typeof client>, status: string): Promise<Body> {
  for (let i = 0; i < 1200; i++) {
    const { body } = await call('GET', '/api/workspaces/crashy');
    if (body?.status === status) return body;
    if (body?.status === 'error') throw new Error(`workspace error: ${body.statusReason}`);
    await sleep(50);
  }
  throw new Error(`never ${status}`);
}

async function attach(origin: string, cookie: string, id: string) {
  const socket = new WebSocket(
    `${origin.replace('http', 'ws')}/api/workspaces/crashy/terminals/${id}/attach`,
    { headers: { origin, cookie } },
  );
  let output = '';
  socket.on('message', (data, binary) => {
    if (binary) output += Buffer.from(data as Buffer).toString('utf8');
  });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return { socket, output: () => output };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

it('survives kill -9 of the server: the workspace and its terminal come back', async () => {
  server = await startServer(env);
  let cookie = await signIn(server.origin);
  let call = client(server.origin, cookie);
  expect((await call('POST', '/api/workspaces', { name: 'crashy' })).status).toBe(201);
  await waitForStatus(call, 'running');
  const terminal = await call('POST', '/api/workspaces/crashy/terminals', {});
  const first = await attach(server.origin, cookie, terminal.body.id);
  // A terminal that keeps streaming while the server dies.
  first.socket.send(
    Buffer.from('echo before-$((6*7)); while true; do echo tick; sleep 0.1; done\r'),
  );
  await until(() => first.output().includes('before-42'), 'the first output');

  server.child.kill('SIGKILL');
  await server.exited;
  server = await startServer({ ...env, STUDIO_DATA_DIR: server.dataDir });
  cookie = await signIn(server.origin);
  call = client(server.origin, cookie);

  const listed = await call('GET', '/api/workspaces');
  const names = (listed.body as unknown as Array<{ name: string }>).map((item) => item.name);
  expect(names).toEqual(['crashy']);
  await waitForStatus(call, 'running');
  const again = await attach(server.origin, cookie, terminal.body.id);
  await until(() => again.output().includes('before-42'), 'the scrollback replay');
  again.socket.send(Buffer.from('\u0003echo after-$((7*6))\r'));
  await until(() => again.output().includes('after-42'), 'the same shell answering').catch(
    (error: Error) => {
      throw new Error(`${error.message}; it printed:\n${again.output().slice(-500)}`);
    },
  );
  again.socket.close();

  expect((await call('DELETE', '/api/workspaces/crashy')).status).toBe(202);
  for (let i = 0; i < 400 && (await call('GET', '/api/workspaces/crashy')).status !== 404; i++) {
    await sleep(50);
  }
  await sleep(500);
}, 180_000);
