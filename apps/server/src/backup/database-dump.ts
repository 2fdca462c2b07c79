// The database as JSON lines, and back: one consistent snapshot (a repeatable-read transaction)
// of every table that outlives a restart, in an order that restores without breaking a foreign
// key. Plain JSON of each row (`row_to_json`) and `json_populate_recordset` back make a dump of
// PGlite restore into PostgreSQL and the other way round, and an older dump into a newer schema
// (columns it lacks take their defaults).
import type { Database } from '@studio/db';
import { sql } from 'drizzle-orm';
import { AppError } from '../errors.ts';
import { rowsOf } from '../sql-results.ts';

export const BACKUP_FORMAT = 'prometheus-studio-backup';
export const BACKUP_VERSION = 1;

/**
 * Tables a restore starts without: sign-in sessions (everyone signs in again), one-time
 * verifications, rate-limit windows, presence heartbeats and lifecycle jobs of the old machine.
 */
const LEFT_OUT = new Set([
  'sessions',
  'verifications',
  'rate_limits',
  'workspace_presence',
  'jobs',
]);

/** The first line of a dump. */
export interface DumpHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  createdAt: string;
  /** How many schema migrations the database had: a restore refuses a newer one. */
  migrations: number;
  /** The server's secret: sealed credentials in the rows open only with it. */
  secret: string;
}

/** Each further line. */
export interface DumpRow {
  table: string;
  row: Record<string, unknown>;
}

type Executor = Pick<Database, 'execute'>;

async function migrationCount(db: Executor): Promise<number> {
  const [row] = rowsOf<{ n: number | string }>(
    await db.execute(sql`select count(*) as n from drizzle.__drizzle_migrations`),
  );
  return Number(row?.n ?? 0);
}

/** Our tables, each after the tables its foreign keys point at. */
async function tablesInOrder(db: Executor): Promise<string[]> {
  const tables = rowsOf<{ name: string }>(
    await db.execute(
      sql`select table_name as name from information_schema.tables
          where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`,
    ),
  ).map((row) => row.name);
  const edges = rowsOf<{ child: string; parent: string }>(
    await db.execute(
      sql`select c.conrelid::regclass::text as child, c.confrelid::regclass::text as parent
          from pg_constraint c join pg_namespace n on n.oid = c.connamespace
          where c.contype = 'f' and n.nspname = 'public'`,
    ),
  );
  const unquote = (name: string) => name.replace(/^"|"$/g, '');
  const ordered: string[] = [];
  const visit = (table: string, path: Set<string>) => {
    if (ordered.includes(table) || path.has(table)) return;
    path.add(table);
    for (const edge of edges)
      if (unquote(edge.child) === table && unquote(edge.parent) !== table)
        visit(unquote(edge.parent), path);
    ordered.push(table);
  };
  for (const table of tables) visit(table, new Set());
  return ordered.filter((table) => tables.includes(table));
}

/** The whole dump as lines (header first), read in one repeatable-read snapshot. */
export async function dumpDatabase(db: Database, secret: string, now: Date): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set transaction isolation level repeatable read`);
    const header: DumpHeader = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      createdAt: now.toISOString(),
      migrations: await migrationCount(tx),
      secret,
    };
    const lines = [JSON.stringify(header)];
    for (const table of await tablesInOrder(tx)) {
      if (LEFT_OUT.has(table)) continue;
      const rows = rowsOf<{ json: string }>(
        await tx.execute(sql`select row_to_json(t)::text as json from ${sql.identifier(table)} t`),
      );
      for (const { json } of rows) lines.push(`{"table":${JSON.stringify(table)},"row":${json}}`);
    }
    return lines;
  });
}

/** Reads and checks a dump's first line. */
export function parseHeader(line: string | undefined): DumpHeader {
  let header: Partial<DumpHeader> = {};
  try {
    header = JSON.parse(line ?? '') as Partial<DumpHeader>;
  } catch {
    // reported below
  }
  if (header.format !== BACKUP_FORMAT || typeof header.secret !== 'string')
    throw new AppError('bad_request', 'database.ndjson is not a Prometheus Studio backup.');
  if (header.version !== BACKUP_VERSION)
    throw new AppError(
      'bad_request',
      `This backup is format version ${header.version}; this server reads version ${BACKUP_VERSION}.`,
    );
  return header as DumpHeader;
}

const BATCH = 500;

/**
 * Loads a dump's rows into an empty database of the current schema, in one transaction, and
 * moves each serial column's sequence past the largest restored id. Answers rows per table.
 */
export async function restoreDatabase(
  db: Database,
  header: DumpHeader,
  rows: AsyncIterable<DumpRow>,
): Promise<Map<string, number>> {
  const have = await migrationCount(db);
  if (header.migrations > have)
    throw new AppError(
      'conflict',
      `This backup comes from a newer Prometheus Studio (schema migration ${header.migrations}; this one has ${have}). Restore it with that version or a later one.`,
    );
  const counts = new Map<string, number>();
  await db.transaction(async (tx) => {
    let table = '';
    let batch: Array<Record<string, unknown>> = [];
    const flush = async () => {
      if (batch.length === 0) return;
      // The columns the dump has: any the schema added since take their defaults.
      const columns = sql.join(
        Object.keys(batch[0]!).map((column) => sql.identifier(column)),
        sql`, `,
      );
      await tx.execute(
        sql`insert into ${sql.identifier(table)} (${columns})
            select ${columns} from json_populate_recordset(null::${sql.identifier(table)}, ${JSON.stringify(batch)}::json)`,
      );
      counts.set(table, (counts.get(table) ?? 0) + batch.length);
      batch = [];
    };
    for await (const line of rows) {
      if (line.table !== table || batch.length >= BATCH) {
        await flush();
        table = line.table;
      }
      batch.push(line.row);
    }
    await flush();
    const serials = rowsOf<{ table: string; column: string }>(
      await tx.execute(
        sql`select table_name as table, column_name as column from information_schema.columns
            where table_schema = 'public' and column_default like 'nextval(%'`,
      ),
    );
    for (const { table: name, column } of serials) {
      if (!counts.has(name)) continue;
      await tx.execute(
        sql`select setval(pg_get_serial_sequence(${name}, ${column}),
                          (select max(${sql.identifier(column)}) from ${sql.identifier(name)}))`,
      );
    }
  });
  return counts;
}
