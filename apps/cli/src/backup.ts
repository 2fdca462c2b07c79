// `studio backup --to DIR`: everything a server needs to come back on another machine, read from
// the running server by an admin: the database (one snapshot, with the server's secret) and each
// workspace's home as a tar. Every file is checksummed on the way to disk; manifest.json, written
// last, lists them — a folder without it is a backup that did not finish.
// `studio restore --from DIR` runs the server's restore (the server must be stopped).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OutputFlags } from './connection.ts';
import type { CliContext } from './context.ts';
import { ApiError, CliError } from './errors.ts';
import { ensureServerBuilt, SERVER_MAIN } from './start.ts';
import { openSession, type Session } from './workspaces.ts';

export interface BackupFlags extends OutputFlags {
  to: string;
}

interface WrittenFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** Streams `source` into `dir/path`, counting and hashing; `onBytes` hears the running total. */
async function save(
  source: AsyncIterable<Buffer> & NodeJS.ReadableStream,
  dir: string,
  path: string,
  onBytes: (bytes: number) => void,
): Promise<WrittenFile> {
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

/** Bytes a stream of the backup holds before it waits: large, for fewer, bigger writes. */
const CHUNK = 1024 * 1024;
/** Homes read at once. */
const PARALLEL_HOMES = 3;

function mb(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** A line of progress: rewritten in place at a terminal, one line per step elsewhere. */
function progressLine(ctx: CliContext) {
  const tty = Boolean((ctx.stderr as { isTTY?: boolean }).isTTY);
  let last = 0;
  return {
    update(text: string) {
      if (!tty || Date.now() - last < 100) return;
      last = Date.now();
      ctx.stderr.write(`\r\x1b[2K${text}`);
    },
    done(text: string) {
      ctx.stderr.write(tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
    },
  };
}

/** The workspaces (and their owners' emails) in a dump, from its rows. */
function workspacesOf(lines: string[]) {
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

async function readAll(source: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** `studio backup --to DIR`. */
export async function backup(flags: BackupFlags, ctx: CliContext): Promise<void> {
  const dir = flags.to;
  if (existsSync(dir) && (await readdir(dir)).length > 0)
    throw new CliError('bad_option', `${dir} is not empty; back up into a new or empty folder.`);
  await mkdir(join(dir, 'homes'), { recursive: true, mode: 0o700 });
  const session: Session = await openSession(flags, ctx);
  const started = Date.now();
  const line = progressLine(ctx);

  const files: WrittenFile[] = [];
  const dump = await session.api.stream('/api/admin/backup/database', { auth: session.auth });
  const text = await readAll(dump);
  await writeFile(join(dir, 'database.ndjson'), text, { mode: 0o600 });
  files.push({
    path: 'database.ndjson',
    bytes: Buffer.byteLength(text),
    sha256: createHash('sha256').update(text).digest('hex'),
  });
  const lines = text.split('\n').filter(Boolean);
  const found = workspacesOf(lines);
  line.done(`database: ${lines.length - 1} rows (${mb(files[0]!.bytes)})`);

  const workspaces: Array<{
    id: string;
    name: string;
    owner: string;
    home: string | null;
    skipped?: string;
  }> = [];
  // A few homes at a time: each is a pipeline of processes (tar, the server, this one), and
  // overlapping them keeps both the disk and the cores busy.
  let total = files[0]!.bytes;
  let streaming = 0;
  let finished = 0;
  const backUp = async (workspace: (typeof found)[number]) => {
    const label = `${workspace.owner}/${workspace.name}`;
    const path = `homes/${workspace.id}.tar`;
    try {
      const home = await session.api.stream(
        `/api/admin/backup/homes/${encodeURIComponent(workspace.id)}`,
        { auth: session.auth },
      );
      let seen = 0;
      const file = await save(home, dir, path, (bytes) => {
        streaming += bytes - seen;
        seen = bytes;
        line.update(`homes ${finished}/${found.length}: ${mb(total + streaming)}`);
      });
      streaming -= seen;
      files.push(file);
      total += file.bytes;
      workspaces.push({ ...workspace, home: path });
      line.done(`[${++finished}/${found.length}] ${label}: ${mb(file.bytes)}`);
    } catch (error) {
      // A driver that cannot read homes yet (Kubernetes): the rest of the backup still counts.
      if (!(error instanceof ApiError) || error.code !== 'unavailable') throw error;
      workspaces.push({ ...workspace, home: null, skipped: error.message });
      line.done(`[${++finished}/${found.length}] ${label}: SKIPPED: ${error.message}`);
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

  const manifest = {
    format: 'prometheus-studio-backup',
    version: 1,
    createdAt: new Date(started).toISOString(),
    server: session.connection.url,
    files,
    workspaces: workspaces.map(({ id, name, owner, home, skipped }) => ({
      id,
      name,
      owner,
      home,
      ...(skipped ? { skipped } : {}),
    })),
  };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, {
    mode: 0o600,
  });
  const skipped = workspaces.filter((workspace) => workspace.home === null).length;
  if (flags.json) ctx.stdout.write(`${JSON.stringify(manifest)}\n`);
  else
    ctx.stdout.write(
      `Backed up the database and ${workspaces.length - skipped} workspace homes (${mb(total)}) to ${dir} in ${((Date.now() - started) / 1000).toFixed(1)} s.${skipped ? ` ${skipped} skipped (see above).` : ''}\n`,
    );
  if (skipped) process.exitCode = 1;
}

/** `studio restore --from DIR`: the server's own restore, on this machine's data dir. */
export async function restore(
  flags: { from: string; dataDir?: string },
  ctx: CliContext,
): Promise<number> {
  await ensureServerBuilt(ctx);
  const child = spawn(process.execPath, [SERVER_MAIN, 'restore', '--from', flags.from], {
    env: { ...ctx.env, ...(flags.dataDir ? { STUDIO_DATA_DIR: flags.dataDir } : {}) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}
