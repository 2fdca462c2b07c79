import { realpathSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ErrorCode } from '@studio/protocol';
import type * as TarModule from 'tar';
import { DaemonFailure } from './errors.ts';
import { isInside, resolveInRoot } from './paths.ts';
import type { OutStream } from './streams.ts';

/** Default upload cap (unpacked bytes): a zip bomb stops here. */
export const DEFAULT_UPLOAD_MAX_BYTES = 1024 * 1024 * 1024;
// Each entry costs an inode and a header even when empty; an archive of millions of empty files
// is a bomb too.
const MAX_UPLOAD_ENTRIES = 200_000;
const HEADER_BYTES = 512;

type Tar = typeof TarModule;
let tarModule: Promise<Tar> | null = null;

// node-tar is only needed for uploads and downloads; loading it at start would cost idle memory.
function loadTar(): Promise<Tar> {
  tarModule ??= import('tar');
  return tarModule;
}

/**
 * Send `workspacePath` as a tar archive on channel 0. A directory's archive holds its contents
 * (so uploading it into another directory recreates the tree there); a file's holds the file.
 * Symlinks are archived as links, never followed, so nothing outside the workspace leaks out.
 */
export async function startDownload(
  root: string,
  workspacePath: string,
  stream: OutStream,
): Promise<void> {
  const target = await resolveInRoot(root, workspacePath);
  const stats = await stat(target);
  const tar = await loadTar();
  const pack = stats.isDirectory()
    ? tar.c({ cwd: target, portable: true, follow: false }, ['.'])
    : tar.c({ cwd: path.dirname(target), portable: true, follow: false }, [path.basename(target)]);
  pack.on('data', (chunk: Buffer) => {
    if (!stream.write(chunk)) pack.pause();
  });
  pack.on('end', () => stream.end());
  pack.on('error', () => stream.end({ code: 'internal', message: 'Reading the files failed' }));
  stream.handlers = {
    onBlocked: (blocked) => (blocked ? pack.pause() : pack.resume()),
    onCancel: () => {
      pack.pause();
      pack.removeAllListeners('data');
    },
  };
}

/** Limits and bookkeeping of one upload. */
export interface UploadOptions {
  maxBytes?: number;
}

/** What the archive filter decided for an entry, and the running totals. */
export interface ArchiveGuard {
  /** `true` to extract the entry; `false` after recording why the whole upload must fail. */
  allow(entryPath: string, type: string, size: number, entry?: { mode?: number }): boolean;
  readonly failure: DaemonFailure | null;
  readonly files: number;
  readonly bytes: number;
}

/**
 * The upload filter: regular files and directories only, relative paths without `..`, nothing that
 * resolves (through an existing symlink) outside the root, and a cap on total unpacked bytes.
 * The first refused entry fails the whole upload, so a hostile archive is not half-trusted.
 */
export function createArchiveGuard(
  root: string,
  target: string,
  maxBytes = DEFAULT_UPLOAD_MAX_BYTES,
): ArchiveGuard {
  let failure: DaemonFailure | null = null;
  let files = 0;
  let bytes = 0;
  let entries = 0;
  const refuse = (code: ErrorCode, message: string, entryPath: string) => {
    failure ??= new DaemonFailure(code, message, { entry: entryPath });
    return false;
  };
  return {
    get failure() {
      return failure;
    },
    get files() {
      return files;
    },
    get bytes() {
      return bytes;
    },
    allow(entryPath, type, size, entry) {
      if (failure) return false;
      if (entryPath.includes('\0')) return refuse('bad_request', 'NUL in an entry name', entryPath);
      if (path.posix.isAbsolute(entryPath) || /^[A-Za-z]:/.test(entryPath)) {
        return refuse(
          'path_outside_workspace',
          `Absolute path "${entryPath}" in archive`,
          entryPath,
        );
      }
      if (entryPath.split(/[/\\]/).includes('..')) {
        return refuse(
          'path_outside_workspace',
          `Entry "${entryPath}" climbs out with ..`,
          entryPath,
        );
      }
      if (!['File', 'OldFile', 'ContiguousFile', 'Directory'].includes(type)) {
        return refuse(
          'bad_request',
          `Entry "${entryPath}" is a ${type}; only files and directories are accepted`,
          entryPath,
        );
      }
      entries += 1;
      bytes += size;
      if (
        entries > MAX_UPLOAD_ENTRIES ||
        bytes + entries * HEADER_BYTES > maxBytes + HEADER_BYTES
      ) {
        return refuse(
          'payload_too_large',
          `The archive unpacks to more than ${maxBytes} bytes`,
          entryPath,
        );
      }
      const destination = path.resolve(target, entryPath);
      if (!isInside(target, destination) || !existingPrefixInside(root, destination)) {
        return refuse(
          'path_outside_workspace',
          `Entry "${entryPath}" leads outside the workspace`,
          entryPath,
        );
      }
      // setuid/setgid/sticky bits from someone else's archive are not wanted in a workspace.
      if (entry && typeof entry.mode === 'number') entry.mode &= 0o777;
      if (type !== 'Directory') files += 1;
      return true;
    },
  };
}

// The deepest existing ancestor, resolved through symlinks, must still be inside the root.
function existingPrefixInside(root: string, destination: string): boolean {
  let current = destination;
  for (;;) {
    try {
      return isInside(root, realpathSync(current));
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return false;
      current = parent;
    }
  }
}

/**
 * Receive a tar archive (optionally gzipped) as the stream's input and unpack it into
 * `workspacePath`; answer `uploaded` with the totals, then `end`. Files unpacked before a refused
 * entry stay, but nothing is ever written outside the workspace.
 */
export async function startUpload(
  root: string,
  workspacePath: string,
  options: UploadOptions,
  stream: OutStream,
): Promise<void> {
  const target = await resolveInRoot(root, workspacePath);
  const existing = await stat(target).catch(() => null);
  if (existing && !existing.isDirectory()) {
    throw new DaemonFailure('not_a_directory', `"${workspacePath}" is not a directory`);
  }
  await mkdir(target, { recursive: true });
  const guard = createArchiveGuard(root, target, options.maxBytes ?? DEFAULT_UPLOAD_MAX_BYTES);
  const tar = await loadTar();
  let settled = false;
  const unpack = new tar.Unpack({
    cwd: target,
    strict: true,
    preserveOwner: false,
    preservePaths: false,
    filter: (entryPath, entry) => {
      const readEntry = entry as { type?: string; size?: number; mode?: number };
      const allowed = guard.allow(
        entryPath,
        readEntry.type ?? 'File',
        readEntry.size ?? 0,
        readEntry,
      );
      if (!allowed && guard.failure) queueMicrotask(() => unpack.abort(guard.failure!));
      return allowed;
    },
  });
  const fail = (error: unknown) => {
    if (settled) return;
    settled = true;
    const failure =
      guard.failure ??
      (error instanceof DaemonFailure
        ? error
        : new DaemonFailure(
            'bad_request',
            `The archive could not be unpacked: ${describe(error)}`,
          ));
    stream.end({ code: failure.code, message: failure.message });
  };
  unpack.on('error', fail);
  unpack.on('abort', fail);
  unpack.on('close', () => {
    if (settled) return;
    if (guard.failure) return fail(guard.failure);
    settled = true;
    stream.event({ kind: 'uploaded', files: guard.files, bytes: guard.bytes });
    stream.end();
  });
  stream.handlers = {
    onInput: (payload) => {
      if (settled) return;
      if (!unpack.write(Buffer.from(payload))) stream.holdInputUntilDrain(unpack);
    },
    onClientEnd: () => {
      if (!settled) unpack.end();
    },
    onCancel: () => {
      settled = true;
      unpack.abort(new Error('cancelled'));
    },
  };
}

function describe(error: unknown): string {
  const message = (error as Error | undefined)?.message ?? String(error);
  // node-tar messages name absolute host paths; keep only the first clause.
  return message.split(/[:\n]/)[0] ?? 'unknown error';
}
