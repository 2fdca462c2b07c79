import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createTestDatabase, type TestDatabase } from '@studio/db';
import { serverEventSchema, type ServerEvent } from '@studio/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  injectAs,
  signIn,
  signedInUser,
  startTestServer,
  waitForWorkspace,
  wsUrl,
  type TestServer,
} from './testing.ts';

// Two servers on one PostgreSQL database, as replicas run: what one does, the other's browsers see.
const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let database: TestDatabase;
let one: TestServer;
let two: TestServer;

let dataDir: string;

beforeAll(async () => {
  database = await createTestDatabase(POSTGRES_URL);
  // Replicas share the secret (a session started on one is good on the other) and, with the local
  // driver, the data dir: a lifecycle step may run on either.
  const env = { DATABASE_URL: database.url, STUDIO_SECRET: randomBytes(32).toString('hex') };
  dataDir = await mkdtemp(join(tmpdir(), 'studio-replicas-'));
  one = await startTestServer(env, { dataDir });
  two = await startTestServer(env, { dataDir });
}, 60_000);

afterAll(async () => {
  for (const workspace of (await one?.services.workspaces.listAll()) ?? []) {
    await one!.services.workspaces.removeRow(workspace);
    await one!.services.workspaces.settled(workspace.id);
  }
  await one?.close();
  await two?.close();
  await rm(dataDir, { recursive: true, force: true });
  await database?.drop();
}, 60_000);

describe('two servers on one database', () => {
  it('shows a workspace created through one server, and its status changes, through the other', async () => {
    const alice = await signedInUser(one, { email: 'alice@example.com' });
    const onTwo = { cookie: await signIn(two, 'alice@example.com', alice.password) };
    const socket = new WebSocket(wsUrl(two, '/api/events'), {
      headers: { cookie: onTwo.cookie, origin: two.origin },
    });
    const seen: ServerEvent[] = [];
    socket.on('message', (data: Buffer) => {
      const parsed = serverEventSchema.safeParse(JSON.parse(data.toString()));
      if (parsed.success) seen.push(parsed.data);
    });
    await once(socket, 'open');

    const created = await injectAs(one, alice, 'POST', '/api/workspaces', { name: 'shared' });
    expect(created.statusCode, created.body).toBe(201);
    await waitForWorkspace(one, alice, 'shared', 'running');

    const statuses = () =>
      seen.flatMap((event) =>
        event.type === 'workspace' && event.workspace.name === 'shared'
          ? [event.workspace.status]
          : [],
      );
    await expect.poll(statuses).toContain('running');
    expect(statuses()).toEqual(expect.arrayContaining(['creating', 'starting', 'running']));
    const listed = await injectAs(two, onTwo, 'GET', '/api/workspaces/shared');
    expect(listed.json()).toMatchObject({ name: 'shared', status: 'running' });

    // Someone else's events stay theirs, whichever server they come from.
    const bob = await signedInUser(two, { email: 'bob@example.com' });
    const bobSocket = new WebSocket(wsUrl(two, '/api/events'), {
      headers: { cookie: bob.cookie, origin: two.origin },
    });
    const bobSeen: unknown[] = [];
    bobSocket.on('message', (data: Buffer) => bobSeen.push(JSON.parse(data.toString())));
    await once(bobSocket, 'open');
    await injectAs(one, alice, 'POST', '/api/workspaces/shared/stop');
    await expect.poll(statuses).toContain('stopped');
    expect(bobSeen.filter((event) => JSON.stringify(event).includes('shared'))).toEqual([]);
    socket.close();
    bobSocket.close();
  }, 60_000);

  it('forgets a revoked token and a person’s old role on the other server at once', async () => {
    const admin = await signedInUser(one, { email: 'root@example.com', role: 'admin' });
    const carol = await signedInUser(one, { email: 'carol@example.com' });
    const { secret, token } = await one.services.tokens.create(carol.id, { name: 'ci' });
    const bearer = { authorization: `Bearer ${secret}` };
    const status = (server: TestServer, url: string) =>
      server.app.inject({ method: 'GET', url, headers: bearer }).then((reply) => reply.statusCode);
    // Both servers now remember the token as a member's.
    expect(await status(one, '/api/me')).toBe(200);
    expect(await status(two, '/api/me')).toBe(200);
    expect(await status(two, '/api/admin/users')).toBe(403);

    const promoted = await injectAs(one, admin, 'PATCH', `/api/admin/users/${carol.id}`, {
      role: 'admin',
    });
    expect(promoted.statusCode, promoted.body).toBe(200);
    // Long before the cache's 30 s: the bus carried the change.
    await expect.poll(() => status(two, '/api/admin/users'), { timeout: 1_000 }).toBe(200);

    const revoked = await injectAs(one, carol, 'DELETE', `/api/tokens/${token.id}`);
    expect(revoked.statusCode, revoked.body).toBe(204);
    expect(await status(one, '/api/me')).toBe(401);
    await expect.poll(() => status(two, '/api/me'), { timeout: 1_000 }).toBe(401);
  });
});
