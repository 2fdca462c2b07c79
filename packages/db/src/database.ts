import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { acquireDirLock } from './dir-lock.ts';
import * as schema from './schema.ts';

/** The Drizzle database, the same type over PGlite and PostgreSQL. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Where the data lives: PostgreSQL when `url` is set, else PGlite under `dataDir`. */
export interface DatabaseConfig {
  url?: string | undefined;
  dataDir: string;
  /** Folder of drizzle-kit migrations; defaults to the one shipped with this package. */
  migrationsFolder?: string;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
}

/**
 * Messages between the servers sharing one database: PostgreSQL's LISTEN/NOTIFY. A server hears
 * its own messages too. PGlite belongs to one process: its messages go to that process's own
 * listeners, so code that follows them works the same on either.
 */
export interface DatabaseBus {
  /** At most 8000 bytes of payload (PostgreSQL's limit). */
  publish(channel: string, payload: string): Promise<void>;
  /**
   * Resolves once listening; the returned function stops. `onListen` runs each time listening
   * (re)starts: notifications sent while the connection was down are lost, so a cache fed by
   * them must start over.
   */
  subscribe(
    channel: string,
    listener: (payload: string) => void,
    onListen?: () => void,
  ): Promise<() => Promise<void>>;
}

/** An open database: query it through `db`, and close it once. */
export interface DatabaseHandle {
  db: Database;
  kind: 'pglite' | 'postgres';
  bus: DatabaseBus;
  /** Throws when the database cannot answer (for `/readyz`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// Any constant works; it only has to be the same in every server that migrates this database.
const MIGRATION_LOCK_KEY = 7_237_010_461;

/** Opens the database and applies pending migrations, holding a lock so concurrent starts are safe. */
export async function openDatabase(config: DatabaseConfig): Promise<DatabaseHandle> {
  const migrationsFolder = config.migrationsFolder ?? defaultMigrationsFolder();
  return config.url
    ? openPostgres(config.url, migrationsFolder, config.maxConnections ?? 10)
    : openPglite(join(config.dataDir, 'db'), migrationsFolder);
}

async function openPostgres(
  url: string,
  migrationsFolder: string,
  max: number,
): Promise<DatabaseHandle> {
  // Migrate on a one-connection client: a session-level advisory lock belongs to its connection.
  const migrator = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await migrator`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migratePostgres(drizzlePostgres({ client: migrator }), { migrationsFolder });
    await migrator`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
  } finally {
    // Closing the connection also releases the lock if the migration failed.
    await migrator.end({ timeout: 5 });
  }
  const client = postgres(url, { max, onnotice: () => {}, connect_timeout: 10 });
  const db = drizzlePostgres({ client, schema });
  return {
    db,
    kind: 'postgres',
    // postgres.js keeps one extra connection for LISTEN and re-listens after a reconnect.
    bus: {
      publish: async (channel, payload) => {
        await client.notify(channel, payload);
      },
      subscribe: async (channel, listener, onListen) => {
        const { unlisten } = await client.listen(channel, listener, onListen);
        return unlisten;
      },
    },
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => client.end({ timeout: 5 }),
  };
}

async function openPglite(dir: string, migrationsFolder: string): Promise<DatabaseHandle> {
  await mkdir(dir, { recursive: true });
  // PGlite is single-process: a second server on the same data dir would corrupt it, so refuse.
  const lock = await acquireDirLock(join(dir, '..', 'db.lock'));
  let client: PGlite | undefined;
  try {
    client = await PGlite.create(dir);
    const db = drizzlePglite({ client, schema });
    await migratePglite(db, { migrationsFolder });
    const pglite = client;
    return {
      db,
      kind: 'pglite',
      bus: localBus(),
      ping: async () => {
        await db.execute(sql`select 1`);
      },
      close: async () => {
        await pglite.close();
        await lock.release();
      },
    };
  } catch (error) {
    await client?.close();
    await lock.release();
    throw error;
  }
}

/** One process's LISTEN/NOTIFY: delivered after the publisher's turn, as a notification would be. */
function localBus(): DatabaseBus {
  const channels = new EventEmitter();
  channels.setMaxListeners(0);
  return {
    publish: async (channel, payload) => {
      setImmediate(() => channels.emit(channel, payload));
    },
    subscribe: async (channel, listener, onListen) => {
      channels.on(channel, listener);
      onListen?.();
      return async () => {
        channels.off(channel, listener);
      };
    },
  };
}

/** The migrations folder beside this package's source, or beside a bundle that copied it. */
function defaultMigrationsFolder(): string {
  const candidates = ['../migrations', './migrations'].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  );
  const found = candidates.find((folder) => existsSync(join(folder, 'meta', '_journal.json')));
  if (!found) throw new Error(`migrations not found in ${candidates.join(' or ')}`);
  return found;
}
