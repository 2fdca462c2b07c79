import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  DataDirLockedError,
  openDatabase,
  users,
  type DatabaseHandle,
} from './index.ts';

const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'studio-db-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** Runs the same behaviour against both engines the product supports. */
const engines: Array<{
  name: string;
  open: () => Promise<{ config: Parameters<typeof openDatabase>[0]; cleanup: () => Promise<void> }>;
}> = [
  {
    name: 'pglite',
    open: async () => {
      const dir = await mkdtemp(join(dataDir, 'pglite-'));
      return { config: { dataDir: dir }, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    open: async () => {
      const test = await createTestDatabase(POSTGRES_URL);
      return { config: { url: test.url, dataDir }, cleanup: test.drop };
    },
  },
];

describe.each(engines)('openDatabase on $name', ({ open }) => {
  const handles: DatabaseHandle[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const handle of handles.splice(0)) await handle.close();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('creates every table and round-trips a user', async () => {
    const { config, cleanup } = await open();
    cleanups.push(cleanup);
    const handle = await openDatabase(config);
    handles.push(handle);
    await handle.ping();
    const tables = await handle.db.execute<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    const names = rowsOf<{ table_name: string }>(tables).map((row) => row.table_name);
    expect(names).toEqual([
      'accounts',
      'ai_conversations',
      'ai_mcp_servers',
      'ai_messages',
      'ai_model_roles',
      'ai_policies',
      'ai_providers',
      'ai_run_events',
      'ai_run_inputs',
      'ai_run_messages',
      'ai_runs',
      'ai_usage',
      'api_tokens',
      'audit_events',
      'git_credentials',
      'invites',
      'jobs',
      'missions',
      'preview_links',
      'quotas',
      'rate_limits',
      'sessions',
      'team_members',
      'teams',
      'templates',
      'usage_samples',
      'users',
      'verifications',
      'warm_workspaces',
      'workspace_members',
      'workspace_presence',
      'workspace_teams',
      'workspaces',
    ]);
    await handle.db.insert(users).values({ id: 'u1', name: 'Ada', email: 'ada@example.com' });
    const [ada] = await handle.db.select().from(users).where(eq(users.id, 'u1'));
    expect(ada).toMatchObject({ role: 'member', disabled: false, email: 'ada@example.com' });
  });

  it('keeps data across a reopen and does not re-apply migrations', async () => {
    const { config, cleanup } = await open();
    cleanups.push(cleanup);
    const first = await openDatabase(config);
    await first.db.insert(users).values({ id: 'u2', name: 'Grace', email: 'grace@example.com' });
    await first.close();
    const second = await openDatabase(config);
    handles.push(second);
    expect(await second.db.select({ id: users.id }).from(users)).toEqual([{ id: 'u2' }]);
  });
});

describe('the bus between servers', () => {
  it('carries a message from one PostgreSQL client to every listener, until it stops', async () => {
    const test = await createTestDatabase(POSTGRES_URL);
    const [one, two] = await Promise.all([
      openDatabase({ url: test.url, dataDir }),
      openDatabase({ url: test.url, dataDir }),
    ]);
    try {
      const heard: string[] = [];
      const stop = await two!.bus.subscribe('studio_test', (payload) => heard.push(payload));
      await one!.bus.publish('studio_test', '{"hello":"from one"}');
      await expect.poll(() => heard).toEqual(['{"hello":"from one"}']);
      await stop();
      await one!.bus.publish('studio_test', 'after the stop');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heard).toHaveLength(1);
    } finally {
      await Promise.all([one!.close(), two!.close()]);
      await test.drop();
    }
  });
});

describe('concurrent starts', () => {
  it('two servers migrating one PostgreSQL database at once both come up, migrated once', async () => {
    const test = await createTestDatabase(POSTGRES_URL);
    try {
      const opened = await Promise.all([
        openDatabase({ url: test.url, dataDir }),
        openDatabase({ url: test.url, dataDir }),
        openDatabase({ url: test.url, dataDir }),
      ]);
      const applied = await opened[0]!.db.execute<{ count: string }>(
        sql`select count(*)::text as count from drizzle.__drizzle_migrations`,
      );
      // One row per migration file: each applied exactly once although two servers raced.
      const journal = JSON.parse(
        await readFile(new URL('../migrations/meta/_journal.json', import.meta.url), 'utf8'),
      ) as { entries: unknown[] };
      expect(rowsOf<{ count: string }>(applied)[0]?.count).toBe(String(journal.entries.length));
      await Promise.all(opened.map((handle) => handle.close()));
    } finally {
      await test.drop();
    }
  });

  it('a second server on the same embedded data dir is refused with a clear error', async () => {
    const dir = await mkdtemp(join(dataDir, 'locked-'));
    const first = await openDatabase({ dataDir: dir });
    try {
      await expect(openDatabase({ dataDir: dir })).rejects.toBeInstanceOf(DataDirLockedError);
    } finally {
      await first.close();
    }
    // Released on close: a later start works.
    const again = await openDatabase({ dataDir: dir });
    await again.close();
  });

  it('a lock left by a killed process is taken over', async () => {
    const dir = await mkdtemp(join(dataDir, 'stale-'));
    // pid 2^22 + 1 is above Linux's pid_max default, so it is never a live process.
    await writeFile(join(dir, 'db.lock'), String(4_194_305));
    const handle = await openDatabase({ dataDir: dir });
    await handle.close();
  });
});

function rowsOf<T>(result: unknown): T[] {
  // postgres-js returns the rows array; PGlite returns { rows }.
  return Array.isArray(result) ? (result as T[]) : ((result as { rows: T[] }).rows ?? []);
}
