// `studio backup --to DIR`: everything a server needs to come back on another machine, read from
// the running server by an admin: the database (one snapshot, with the server's secret) and each
// workspace's home as a tar. The folder's format and its writing are @studio/backup's, shared
// with the server's scheduled backups.
// `studio restore --from DIR` runs the server's restore (the server must be stopped).
import { spawn } from 'node:child_process';
import { BackupError, HomeUnavailable, mb, writeBackup } from '@studio/backup';
import type { OutputFlags } from './connection.ts';
import type { CliContext } from './context.ts';
import { ApiError, CliError } from './errors.ts';
import { ensureServerBuilt, SERVER_MAIN } from './start.ts';
import { openSession, type Session } from './workspaces.ts';

export interface BackupFlags extends OutputFlags {
  to: string;
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

async function readAll(source: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** `studio backup --to DIR`. */
export async function backup(flags: BackupFlags, ctx: CliContext): Promise<void> {
  const session: Session = await openSession(flags, ctx);
  const started = Date.now();
  const { manifest, bytes } = await writeBackup(
    flags.to,
    {
      server: session.connection.url,
      database: async () => {
        const dump = await session.api.stream('/api/admin/backup/database', { auth: session.auth });
        return (await readAll(dump)).split('\n').filter(Boolean);
      },
      home: async (id) => {
        try {
          return await session.api.stream(`/api/admin/backup/homes/${encodeURIComponent(id)}`, {
            auth: session.auth,
          });
        } catch (error) {
          // A driver that cannot read homes yet (Kubernetes), or a workspace created or deleted
          // since the dump, with no home on the engine: the rest of the backup still counts.
          if (error instanceof ApiError && ['unavailable', 'not_found'].includes(error.code))
            throw new HomeUnavailable(error.message);
          throw error;
        }
      },
    },
    progressLine(ctx),
  ).catch((error: unknown) => {
    throw error instanceof BackupError ? new CliError('bad_option', error.message) : error;
  });
  const skipped = manifest.workspaces.filter((workspace) => workspace.home === null).length;
  if (flags.json) ctx.stdout.write(`${JSON.stringify(manifest)}\n`);
  else
    ctx.stdout.write(
      `Backed up the database and ${manifest.workspaces.length - skipped} workspace homes (${mb(bytes)}) to ${flags.to} in ${((Date.now() - started) / 1000).toFixed(1)} s.${skipped ? ` ${skipped} skipped (see above).` : ''}\n`,
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
