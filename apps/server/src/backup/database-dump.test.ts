// A dump of a server's database restores row for row into an empty database of either engine,
// leaving out what a restore starts without, and refuses a dump from a newer schema.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, openDatabase, schema, type DatabaseHandle } from '@studio/db';
import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectAs, signedInUser, startTestServer, type TestServer } from '../testing.ts';
import { dumpDatabase, parseHeader, restoreDatabase, type DumpRow } from './database-dump.ts';

let server: TestServer;
let lines: string[];

beforeAll(async () => {
  server = await startTestServer();
  const root = await signedInUser(server, { email: 'root@example.com', role: 'admin' });
  await injectAs(server, root, 'POST', '/api/admin/teams', { name: 'ünïcode "team"' });
  await injectAs(server, root, 'PUT', '/api/admin/quotas/user/root@example.com', {
    runningWorkspaces: 3,
    cpus: 1.5,
    memoryMiB: null,
    diskMiB: null,
    aiUsdPerMonth: 2.25,
  });
  lines = await dumpDatabase(server.services.database.db, 'the secret', new Date());
}, 60_000);

afterAll(async () => {
  await server?.close();
});

async function* rowsOf(dump: string[]): AsyncGenerator<DumpRow> {
  for (const line of dump.slice(1)) yield JSON.parse(line) as DumpRow;
}

async function roundTrip(target: DatabaseHandle) {
  const header = parseHeader(lines[0]);
  await restoreDatabase(target.db, header, rowsOf(lines));
  const table = async (handle: DatabaseHandle) => ({
    users: await handle.db.select().from(schema.users).orderBy(asc(schema.users.email)),
    teams: await handle.db.select().from(schema.teams),
    quotas: await handle.db.select().from(schema.quotas),
    audit: await handle.db.select().from(schema.auditEvents).orderBy(asc(schema.auditEvents.id)),
  });
  expect(await table(target)).toEqual(await table(server.services.database));
  // Serial ids go on after the restored ones.
  const [next] = await target.db
    .insert(schema.auditEvents)
    .values({ action: 'after.restore', outcome: 'success' })
    .returning();
  const before = await server.services.database.db.select().from(schema.auditEvents);
  expect(next!.id).toBeGreaterThan(Math.max(...before.map((event) => event.id)));
  expect(await target.db.select().from(schema.sessions)).toEqual([]);
}

describe('database dump', () => {
  it('has a header with the secret and leaves out sessions, rate limits and jobs', () => {
    expect(parseHeader(lines[0])).toMatchObject({ secret: 'the secret', version: 1 });
    const tables = new Set(lines.slice(1).map((line) => (JSON.parse(line) as DumpRow).table));
    expect(tables).toContain('users');
    expect(tables).toContain('accounts');
    for (const left of ['sessions', 'rate_limits', 'jobs']) expect(tables).not.toContain(left);
    // Each table comes after the ones it points at.
    const order = [...tables];
    expect(order.indexOf('users')).toBeLessThan(order.indexOf('accounts'));
    expect(() => parseHeader('{"format":"zip"}')).toThrow(/not a Prometheus Studio backup/);
  });

  it('restores into an empty PGlite row for row', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studio-restore-'));
    const target = await openDatabase({ dataDir: dir });
    try {
      await roundTrip(target);
    } finally {
      await target.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses a dump from a newer schema', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studio-restore-'));
    const target = await openDatabase({ dataDir: dir });
    try {
      const header = { ...parseHeader(lines[0]), migrations: 10_000 };
      await expect(restoreDatabase(target.db, header, rowsOf(lines))).rejects.toThrow(
        /comes from a newer Prometheus Studio/,
      );
    } finally {
      await target.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it.runIf(process.env.TEST_DATABASE_URL)(
    'restores a PGlite dump into PostgreSQL',
    async () => {
      const database = await createTestDatabase(process.env.TEST_DATABASE_URL!);
      const target = await openDatabase({ url: database.url, dataDir: '' });
      try {
        await roundTrip(target);
      } finally {
        await target.close();
        await database.drop();
      }
    },
    60_000,
  );
});
