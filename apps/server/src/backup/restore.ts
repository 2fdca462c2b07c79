// `studio restore --from DIR` (run as `node dist/main.js restore --from DIR`): brings a backup
// made by `studio backup` into a fresh data dir (or empty database) on this machine. Checks every
// file against the manifest before touching anything, then loads the database, keeps the old
// server's secret (sealed credentials open with it), and recreates each workspace on this
// machine's driver with its home unpacked. Sessions are not restored: everyone signs in again.
import { createReadStream, existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BackupManifest } from '@studio/backup';
import { workspaces, users, type DatabaseHandle } from '@studio/db';
import { count, eq } from 'drizzle-orm';
import { AppError } from '../errors.ts';

type Say = (line: string) => void;
import type { WorkspaceService } from '../workspaces/workspace-service.ts';
import { parseHeader, restoreDatabase, type DumpHeader, type DumpRow } from './database-dump.ts';

/** The dump's lines after the header. */
async function* dumpRows(path: string): AsyncGenerator<DumpRow> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let first = true;
  for await (const line of lines) {
    if (first) {
      first = false;
      continue;
    }
    if (line) yield JSON.parse(line) as DumpRow;
  }
}

/** The dump's header line. */
export async function readHeader(dir: string): Promise<DumpHeader> {
  const lines = createInterface({
    input: createReadStream(join(dir, 'database.ndjson')),
    crlfDelay: Infinity,
  });
  for await (const line of lines) {
    lines.close();
    return parseHeader(line);
  }
  return parseHeader(undefined);
}

/**
 * Keeps the backup's secret in the data dir (`STUDIO_SECRET` given instead must be the same):
 * a different one would leave every sealed credential unreadable.
 */
export async function keepSecret(
  dataDir: string,
  header: DumpHeader,
  given: string | undefined,
): Promise<void> {
  if (given !== undefined) {
    if (given !== header.secret)
      throw new AppError(
        'conflict',
        'STUDIO_SECRET differs from the secret of the server that made the backup; its sealed credentials would not open. Unset it (the backup’s is kept in the data dir) or set it to that server’s.',
      );
    return;
  }
  const file = join(dataDir, 'secret');
  if (existsSync(file)) {
    if ((await readFile(file, 'utf8')).trim() !== header.secret)
      throw new AppError(
        'conflict',
        `${dataDir} already has another server's secret: restore into a fresh data dir.`,
      );
    return;
  }
  await writeFile(file, `${header.secret}\n`, { mode: 0o600, flag: 'wx' });
}

/** Loads the dump into an empty database; answers how many people it brought back. */
export async function restorePeople(
  dir: string,
  header: DumpHeader,
  database: DatabaseHandle,
  say: Say,
): Promise<number> {
  const { db } = database;
  const [{ value: people }] = (await db.select({ value: count() }).from(users)) as [
    { value: number },
  ];
  if (people > 0)
    throw new AppError(
      'conflict',
      `This server already has ${people} ${people === 1 ? 'person' : 'people'}: a backup restores into a fresh data dir (or an empty database), never over one in use.`,
    );
  say('loading the database');
  const counts = await restoreDatabase(db, header, dumpRows(join(dir, 'database.ndjson')));
  say(`loaded ${[...counts.values()].reduce((a, b) => a + b, 0)} rows of ${counts.size} tables`);
  await db.delete(workspaces).where(eq(workspaces.status, 'deleting'));
  return counts.get('users') ?? 0;
}

/** Recreates each restored workspace on this machine's driver, with its home unpacked. */
export async function restoreWorkspaces(
  dir: string,
  manifest: BackupManifest,
  header: DumpHeader,
  database: DatabaseHandle,
  workspaceService: WorkspaceService,
  say: Say,
): Promise<number> {
  const rows = await database.db.select().from(workspaces);
  let done = 0;
  for (const row of rows) {
    const entry = manifest.workspaces.find((workspace) => workspace.id === row.id);
    const label = `[${++done}/${rows.length}] ${entry?.owner ?? row.ownerId}/${row.name}`;
    say(`${label}: recreating on this machine`);
    const home = entry?.home ? join(dir, entry.home) : null;
    await workspaceService.restoreHome(
      row,
      home ? createReadStream(home) : null,
      (step, detail) => say(`${label}: ${step}${detail ? ` (${detail})` : ''}`),
      home
        ? `Restored from the backup of ${header.createdAt}.`
        : `Restored from the backup of ${header.createdAt} without its files: ${entry?.skipped ?? 'the backup has none'}.`,
    );
  }
  return rows.length;
}
