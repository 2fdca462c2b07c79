// Writes a backup folder from a source: the CLI's reads a server over HTTP, the server's own
// (scheduled backups) reads its database and engine directly. The same files either way.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BackupError,
  DATABASE,
  MANIFEST,
  mb,
  type BackupFile,
  type BackupManifest,
} from './format.ts';

/** Where a backup's contents come from. */
export interface BackupSource {
  /** Where it is made from (the server's URL), for the manifest. */
  server: string;
  /** The database dump: its lines, header first. */
  database(): Promise<string[]>;
  /** A workspace's home as a tar stream; throws `HomeUnavailable` when its driver cannot read it. */
  home(workspaceId: string): Promise<NodeJS.ReadableStream & AsyncIterable<Buffer>>;
}

/** A home its driver cannot read (Kubernetes for now): the rest of the backup still counts. */
export class HomeUnavailable extends Error {
  override name = 'HomeUnavailable';
}

/** What a long backup says as it goes: `update` overwrites the last line, `done` ends one. */
export interface BackupProgress {
  update(text: string): void;
  done(text: string): void;
}

/** Bytes a stream of the backup holds before it waits: large, for fewer, bigger writes. */
const CHUNK = 1024 * 1024;
/** Homes read at once. */
const PARALLEL_HOMES = 3;

/** Streams `source` into `dir/path`, counting and hashing; `onBytes` hears the running total. */
async function save(
  source: NodeJS.ReadableStream & AsyncIterable<Buffer>,
  dir: string,
  path: string,
  onBytes: (bytes: number) => void,
): Promise<BackupFile> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    highWaterMark: CHUNK,
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      onBytes(bytes);
      done(null, chunk);
    },
  });
  await pipeline(
    source,
    tap,
    createWriteStream(join(dir, path), { mode: 0o600, highWaterMark: CHUNK }),
  );
  return { path, bytes, sha256: hash.digest('hex') };
}

/** The workspaces (and their owners' emails) in a dump, from its rows. */
export function workspacesOf(lines: string[]) {
  const emails = new Map<string, string>();
  const found: Array<{ id: string; name: string; ownerId: string }> = [];
  for (const line of lines) {
    // The header first, then one `{ table, row }` per line.
    const { table, row } = JSON.parse(line) as {
      table?: string;
      row: { id: string; email: string; name: string; owner_id: string; status: string };
    };
    if (table === 'users') emails.set(row.id, row.email);
    if (table === 'workspaces' && row.status !== 'deleting')
      found.push({ id: row.id, name: row.name, ownerId: row.owner_id });
  }
  return found.map((workspace) => ({ ...workspace, owner: emails.get(workspace.ownerId) ?? '' }));
}

/**
 * Writes a whole backup into `dir` (new or empty): the database, then every workspace's home,
 * a few at a time, each checksummed on its way to disk; the manifest last. Answers the manifest
 * and the bytes written.
 */
export async function writeBackup(
  dir: string,
  source: BackupSource,
  progress: BackupProgress,
): Promise<{ manifest: BackupManifest; bytes: number }> {
  if (existsSync(dir) && (await readdir(dir)).length > 0)
    throw new BackupError(`${dir} is not empty; back up into a new or empty folder.`);
  await mkdir(join(dir, 'homes'), { recursive: true, mode: 0o700 });
  const createdAt = new Date().toISOString();

  const lines = await source.database();
  const text = lines.map((line) => `${line}\n`).join('');
  await writeFile(join(dir, DATABASE), text, { mode: 0o600 });
  const files: BackupFile[] = [
    {
      path: DATABASE,
      bytes: Buffer.byteLength(text),
      sha256: createHash('sha256').update(text).digest('hex'),
    },
  ];
  const found = workspacesOf(lines);
  progress.done(`database: ${lines.length - 1} rows (${mb(files[0]!.bytes)})`);

  const workspaces: BackupManifest['workspaces'] = [];
  let total = files[0]!.bytes;
  let streaming = 0;
  let finished = 0;
  const backUp = async ({ id, name, owner }: (typeof found)[number]) => {
    const label = `${owner}/${name}`;
    const path = `homes/${id}.tar`;
    try {
      const home = await source.home(id);
      let seen = 0;
      const file = await save(home, dir, path, (bytes) => {
        streaming += bytes - seen;
        seen = bytes;
        progress.update(`homes ${finished}/${found.length}: ${mb(total + streaming)}`);
      });
      streaming -= seen;
      files.push(file);
      total += file.bytes;
      workspaces.push({ id, name, owner, home: path });
      progress.done(`[${++finished}/${found.length}] ${label}: ${mb(file.bytes)}`);
    } catch (error) {
      if (!(error instanceof HomeUnavailable)) throw error;
      workspaces.push({ id, name, owner, home: null, skipped: error.message });
      progress.done(`[${++finished}/${found.length}] ${label}: SKIPPED: ${error.message}`);
    }
  };
  const queue = [...found];
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL_HOMES, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await backUp(next);
    }),
  );
  files.sort((a, b) => a.path.localeCompare(b.path));
  const order = new Map(found.map((workspace, index) => [workspace.id, index]));
  workspaces.sort((a, b) => order.get(a.id)! - order.get(b.id)!);

  const manifest: BackupManifest = {
    format: 'prometheus-studio-backup',
    version: 1,
    createdAt,
    server: source.server,
    files,
    workspaces,
  };
  await writeFile(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return { manifest, bytes: total };
}
