import { setTimeout as sleep } from 'node:timers/promises';
import { type ServerEvent, type Workspace } from '@studio/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  injectAs,
  type InjectArgs,
  signedInUser,
  startTestServer,
  waitForWorkspace,
  wsUrl as wsUrlOf,
  type TestServer,
} from '../testing.ts';

let server: TestServer;
let alice: { id: string; cookie: string };
let mallory: { id: string; cookie: string };

beforeAll(async () => {
  server = await startTestServer();
  alice = await signedInUser(server, { email: 'alice@example.com' });
  mallory = await signedInUser(server, { email: 'mallory@example.com' });
}, 60_000);

afterAll(async () => server?.close(), 60_000);

const api = (...args: InjectArgs) => injectAs(server, ...args);

const waitForStatus = (name: string, status: Workspace['status']) =>
  waitForWorkspace(server, alice, name, status);

const wsUrl = (path: string) => wsUrlOf(server, path);

describe('workspaces API', () => {
  it('creates a workspace, streaming progress to the owner', async () => {
    const events: ServerEvent[] = [];
    const socket = new WebSocket(wsUrl('/api/events'), {
      headers: { origin: server.origin, cookie: alice.cookie },
    });
    socket.on('message', (data) => events.push(JSON.parse(String(data)) as ServerEvent));
    await new Promise((resolve) => socket.once('open', resolve));

    const created = await api(alice, 'POST', '/api/workspaces', { name: 'demo' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'demo', template: 'base', status: 'creating' });
    const running = await waitForStatus('demo', 'running');
    expect(running.isolation).toBe(server.services.workspaces.isolation);
    expect(events.some((event) => event.type === 'workspace.progress')).toBe(true);
    // The row says running a moment before its event crosses the socket.
    const sawRunning = () =>
      events.some((event) => event.type === 'workspace' && event.workspace.status === 'running');
    for (let i = 0; i < 100 && !sawRunning(); i++) await sleep(50);
    expect(sawRunning()).toBe(true);
    socket.close();
  }, 60_000);

  it('refuses bad input with errors that say what is wrong', async () => {
    const duplicate = await api(alice, 'POST', '/api/workspaces', { name: 'demo' });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json()).toMatchObject({ code: 'already_exists' });

    const template = await api(alice, 'POST', '/api/workspaces', { name: 'x', template: 'nope' });
    expect(template.statusCode).toBe(404);
    expect(template.json().message).toMatch(/no template "nope".*base/);

    const git = await api(alice, 'POST', '/api/workspaces', { name: 'y', repoUrl: 'file:///etc' });
    expect(git.statusCode).toBe(400);
    expect(git.json().message).toMatch(/repoUrl/);

    const name = await api(alice, 'POST', '/api/workspaces', { name: '../Bad Name' });
    expect(name.statusCode).toBe(400);
    expect(name.json().message).toMatch(/body.name/);
  });

  it('takes the resources picked at creation, within what this machine has', async () => {
    const created = await api(alice, 'POST', '/api/workspaces', {
      name: 'small',
      resources: { cpus: 1, memoryMiB: 512 },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().resources).toMatchObject({ cpus: 1, memoryMiB: 512 });
    await waitForStatus('small', 'running');
    const stats = await api(alice, 'GET', '/api/workspaces/small/stats');
    expect(stats.json().memoryLimitBytes).toBe(512 * 1024 * 1024);

    const greedy = await api(alice, 'POST', '/api/workspaces', {
      name: 'greedy',
      resources: { cpus: 64 },
    });
    expect(greedy.statusCode).toBe(400);
    expect(greedy.json().message).toMatch(
      /resources\.cpus: workspaces here run on a machine with \d+ CPU cores/,
    );
    const silly = await api(alice, 'POST', '/api/workspaces', {
      name: 'silly',
      resources: { memoryMiB: 12 },
    });
    expect(silly.statusCode).toBe(400);
    expect(silly.json().message).toMatch(/memoryMiB/);
    expect((await api(alice, 'DELETE', '/api/workspaces/small')).statusCode).toBe(202);
  }, 60_000);

  it('runs commands and streams their output as NDJSON', async () => {
    const response = await api(alice, 'POST', '/api/workspaces/demo/exec', {
      command: 'sh',
      args: ['-c', 'echo out; echo err >&2; exit 4'],
    });
    expect(response.statusCode).toBe(200);
    const lines = response.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toContainEqual({ type: 'stdout', data: 'out\n' });
    expect(lines).toContainEqual({ type: 'stderr', data: 'err\n' });
    expect(lines.at(-1)).toMatchObject({ type: 'exit', code: 4 });
  });

  it('renames a terminal, and the name stays with the shell', async () => {
    const opened = await api(alice, 'POST', '/api/workspaces/demo/terminals', {});
    const { id } = opened.json() as { id: string };
    const renamed = await api(alice, 'PATCH', `/api/workspaces/demo/terminals/${id}`, {
      title: '  dev server ',
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ id, title: 'dev server' });
    const listed = (await api(alice, 'GET', '/api/workspaces/demo/terminals')).json() as {
      id: string;
      title: string;
    }[];
    expect(listed.find((terminal) => terminal.id === id)?.title).toBe('dev server');
    const empty = await api(alice, 'PATCH', `/api/workspaces/demo/terminals/${id}`, { title: ' ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().message).toMatch(/title/);
    const missing = await api(alice, 'PATCH', '/api/workspaces/demo/terminals/nope', {
      title: 'x',
    });
    expect(missing.statusCode).toBe(404);
    await api(alice, 'DELETE', `/api/workspaces/demo/terminals/${id}`);
  });

  it('bridges a browser terminal to a shell that survives a reconnect', async () => {
    const opened = await api(alice, 'POST', '/api/workspaces/demo/terminals', {
      cols: 80,
      rows: 24,
    });
    expect(opened.statusCode).toBe(201);
    const { id } = opened.json() as { id: string };

    const attach = async () => {
      const socket = new WebSocket(wsUrl(`/api/workspaces/demo/terminals/${id}/attach`), {
        headers: { origin: server.origin, cookie: alice.cookie },
      });
      let output = '';
      socket.on('message', (data, binary) => {
        if (binary) output += Buffer.from(data as Buffer).toString('utf8');
      });
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      return { socket, output: () => output };
    };

    const first = await attach();
    first.socket.send(Buffer.from('echo one-$((20+1))\r'));
    await until(() => first.output().includes('one-21'));
    first.socket.send(JSON.stringify({ type: 'resize', cols: 100, rows: 30 }));
    first.socket.close();

    const second = await attach();
    await until(() => second.output().includes('one-21'));
    second.socket.send(Buffer.from('exit 0\r'));
    const closed = await new Promise<number>((resolve) => second.socket.once('close', resolve));
    expect(closed).toBe(4000);
  }, 30_000);

  it('refuses a terminal socket from a foreign origin before the upgrade', async () => {
    const socket = new WebSocket(wsUrl('/api/workspaces/demo/terminals/x/attach'), {
      headers: { origin: 'https://evil.example', cookie: alice.cookie },
    });
    const status = await new Promise<number>((resolve) =>
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)),
    );
    expect(status).toBe(403);
  });

  it("hides another user's workspace behind 404 on every route", async () => {
    const routes: Array<['GET' | 'POST' | 'DELETE', string, unknown?]> = [
      ['GET', '/api/workspaces/demo'],
      ['POST', '/api/workspaces/demo/start'],
      ['POST', '/api/workspaces/demo/stop'],
      ['POST', '/api/workspaces/demo/restart'],
      ['DELETE', '/api/workspaces/demo'],
      ['GET', '/api/workspaces/demo/logs'],
      ['GET', '/api/workspaces/demo/stats'],
      ['GET', '/api/workspaces/demo/terminals'],
      ['POST', '/api/workspaces/demo/terminals', {}],
      ['DELETE', '/api/workspaces/demo/terminals/1'],
      ['POST', '/api/workspaces/demo/exec', { command: 'id' }],
    ];
    for (const [method, url, payload] of routes) {
      const response = await api(mallory, method, url, payload);
      expect({ url, status: response.statusCode }).toEqual({ url, status: 404 });
    }
    expect((await api(mallory, 'GET', '/api/workspaces')).json()).toEqual([]);

    const socket = new WebSocket(wsUrl('/api/workspaces/demo/terminals/1/attach'), {
      headers: { origin: server.origin, cookie: mallory.cookie },
    });
    const code = await new Promise<number>((resolve) => socket.once('close', resolve));
    expect(code).toBe(4404);
  });

  it('stops a workspace left idle past its template timeout, and says why', async () => {
    const { workspaces: table } = await import('@studio/db');
    const { eq } = await import('drizzle-orm');
    const row = await server.services.workspaces.get(alice.id, 'demo');
    const held = server.services.workspaces.hold(row.id);
    await server.services.database.db
      .update(table)
      .set({ lastActiveAt: new Date(Date.now() - 2 * 3600_000) })
      .where(eq(table.id, row.id));
    // An open terminal keeps it alive however old the last keystroke is.
    await server.services.workspaces.sweep();
    expect((await server.services.workspaces.get(alice.id, 'demo')).status).toBe('running');
    held();
    await server.services.database.db
      .update(table)
      .set({ lastActiveAt: new Date(Date.now() - 2 * 3600_000) })
      .where(eq(table.id, row.id));
    await server.services.workspaces.sweep();
    const stopped = await waitForStatus('demo', 'stopped');
    expect(stopped.statusReason).toBe('stopped after 60 minutes without activity');
    await api(alice, 'POST', '/api/workspaces/demo/start');
    await waitForStatus('demo', 'running');
  }, 60_000);

  it('stops, starts with files kept, and deletes', async () => {
    await api(alice, 'POST', '/api/workspaces/demo/exec', {
      command: 'sh',
      args: ['-c', 'echo kept > kept.txt'],
    });
    expect((await api(alice, 'POST', '/api/workspaces/demo/stop')).statusCode).toBe(202);
    await waitForStatus('demo', 'stopped');
    const refused = await api(alice, 'POST', '/api/workspaces/demo/exec', { command: 'true' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'workspace_not_running' });

    await api(alice, 'POST', '/api/workspaces/demo/start');
    await waitForStatus('demo', 'running');
    const read = await api(alice, 'POST', '/api/workspaces/demo/exec', {
      command: 'cat',
      args: ['kept.txt'],
    });
    expect(read.body).toContain('kept');

    expect((await api(alice, 'DELETE', '/api/workspaces/demo')).statusCode).toBe(202);
    await until(async () => (await api(alice, 'GET', '/api/workspaces/demo')).statusCode === 404);
    expect(await server.services.workspaces.list(alice.id)).toEqual([]);
  }, 60_000);
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error('condition not met in time');
}
