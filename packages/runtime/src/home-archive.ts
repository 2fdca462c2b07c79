// A folder as a tar stream and back, through the system's `tar` (as fast as a backup can be: the
// bench compares backups with `tar` of the same folders).
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { RuntimeError } from './runtime.ts';

/** What `tar` said on stderr, for an error that ends the stream. */
function failure(action: string, code: number | null, stderr: string): RuntimeError {
  return new RuntimeError(
    'internal',
    `${action} failed (tar exited with ${code}): ${stderr.trim().slice(-500) || 'no message'}`,
  );
}

/** `dir`'s contents as a tar (entries `./…`); the stream errors if tar fails. */
export function packFolder(dir: string): Readable {
  const tar = spawn('tar', ['-C', dir, '--numeric-owner', '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Piped at once: Node discards what a child wrote to an unread stdout when the child exits.
  const archive = new PassThrough({ highWaterMark: 1024 * 1024 });
  tar.stdout.pipe(archive, { end: false });
  tar.on('close', (code) => {
    if (code === 0) archive.end();
    else archive.destroy(failure(`Packing ${dir}`, code, stderr));
  });
  // A reader that stops early must not leave tar blocked on a full pipe.
  archive.on('close', () => {
    if (tar.exitCode === null) tar.kill();
  });
  return archive;
}

/**
 * Unpacks `archive` into `dir`; what it unpacked belongs to `owner` (`uid:gid`), or to whoever
 * owns `dir`.
 */
export async function unpackInto(dir: string, archive: Readable, owner?: string): Promise<void> {
  const tar = spawn('tar', ['-C', dir, '--no-same-owner', '-xf', '-'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => tar.on('close', resolve));
  // tar stops reading at the end-of-archive blocks and may exit before the padding after them
  // arrives: a closed stdin is only a failure when tar says so, or the archive itself broke.
  let broken: unknown = null;
  archive.on('error', (error) => (broken ??= error));
  tar.stdin.on('error', () => {});
  archive.pipe(tar.stdin);
  const code = await exited;
  archive.destroy();
  if (broken) throw broken;
  if (code !== 0) throw failure(`Unpacking into ${dir}`, code, stderr);
  // As root, tar leaves root's files; the workspace's user (owner of its home) must own them.
  if (process.getuid?.() === 0) await run('chown', ['-R', owner ?? `--reference=${dir}`, dir]);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(failure(`${command} ${args.join(' ')}`, code, stderr)),
    );
  });
}
