import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { cp, lstat, mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { DaemonParsedParams, DaemonResult, FileEntry } from '@studio/protocol';
import { DaemonFailure } from './errors.ts';
import { resolveInRoot, toWorkspacePath } from './paths.ts';

/** Default `files.read` cap: editors do not open larger files, and a JSON frame must stay small. */
export const DEFAULT_READ_MAX_BYTES = 5 * 1024 * 1024;
// Binary detection looks at the start of a file, like git and most editors do.
const BINARY_SNIFF_BYTES = 8 * 1024;

/** The opaque content version: a short sha256 prefix, enough to detect a concurrent change. */
export function contentVersion(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 16);
}

/** True for content an editor should not show as text: a NUL early on, or invalid UTF-8. */
export function isBinary(content: Uint8Array): boolean {
  if (content.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(content);
    return false;
  } catch {
    return true;
  }
}

/**
 * Where the daemon keeps shared documents with unsaved edits, in the home (so they go where the
 * home goes, backups too); its own bookkeeping, so file watches do not report it.
 */
export const KEPT_FOLDER = '.local/state/studio/collab';

/** The name of the temporary file used by an atomic write; watchers skip these. */
export const TEMP_FILE_PATTERN = /\.studio-[0-9a-f]{12}\.tmp$/;

/** The file operations of one workspace root. */
export class FileService {
  // Writes to one path are serialized so the version check and the rename are one step.
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly root: string) {}

  /** List a directory. */
  async list(params: DaemonParsedParams<'files.list'>): Promise<DaemonResult<'files.list'>> {
    const dir = await resolveInRoot(this.root, params.path);
    const stats = await stat(dir);
    if (!stats.isDirectory()) throw notADirectory(params.path);
    // A save in flight (its temporary file, renamed over the target) is not a file of the tree.
    const names = (await readdir(dir)).filter((name) => !TEMP_FILE_PATTERN.test(name));
    const entries: FileEntry[] = [];
    await Promise.all(
      names.map(async (name) => {
        try {
          entries.push(this.entry(path.join(dir, name), await lstat(path.join(dir, name))));
        } catch {
          // Deleted between readdir and lstat: it is simply not there any more.
        }
      }),
    );
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { entries };
  }

  /** Stat one path (a symlink is described, not followed). */
  async stat(params: DaemonParsedParams<'files.stat'>): Promise<DaemonResult<'files.stat'>> {
    const target = await resolveInRoot(this.root, params.path, { followLast: false });
    const stats = await lstat(target);
    let version: string | null = null;
    if (stats.isFile() && stats.size <= DEFAULT_READ_MAX_BYTES) {
      version = await this.versionOf(target);
    }
    return { ...this.entry(target, stats), version };
  }

  /** Read a file as text or base64. */
  async read(params: DaemonParsedParams<'files.read'>): Promise<DaemonResult<'files.read'>> {
    const target = await resolveInRoot(this.root, params.path);
    const maxBytes = params.maxBytes ?? DEFAULT_READ_MAX_BYTES;
    const handle = await open(target, 'r');
    try {
      const stats = await handle.stat();
      if (stats.isDirectory()) throw isADirectory(params.path);
      if (!stats.isFile()) {
        throw new DaemonFailure('bad_request', `"${params.path}" is not a regular file`);
      }
      if (stats.size > maxBytes) {
        throw new DaemonFailure(
          'payload_too_large',
          `"${params.path}" is ${stats.size} bytes; the limit is ${maxBytes}`,
          { size: stats.size, maxBytes },
        );
      }
      const content = await handle.readFile();
      if (content.byteLength > maxBytes) {
        throw new DaemonFailure(
          'payload_too_large',
          `"${params.path}" grew past ${maxBytes} bytes`,
          {
            size: content.byteLength,
            maxBytes,
          },
        );
      }
      const binary = isBinary(content);
      return {
        content: content.toString(binary ? 'base64' : 'utf8'),
        encoding: binary ? 'base64' : 'utf8',
        binary,
        size: content.byteLength,
        version: contentVersion(content),
      };
    } finally {
      await handle.close();
    }
  }

  /** Write a file atomically, optionally only if it is still at an expected version. */
  async write(params: DaemonParsedParams<'files.write'>): Promise<DaemonResult<'files.write'>> {
    const target = await resolveInRoot(this.root, params.path);
    const content = Buffer.from(params.content, params.encoding);
    return this.withLock(target, async () => {
      const existing = await statOrNull(target);
      if (existing?.isDirectory()) throw isADirectory(params.path);
      if (params.expectedVersion === null && existing) {
        throw new DaemonFailure('already_exists', `"${params.path}" already exists`);
      }
      if (typeof params.expectedVersion === 'string') {
        const currentVersion = existing ? await this.versionOf(target) : null;
        if (currentVersion !== params.expectedVersion) {
          throw new DaemonFailure(
            'conflict',
            `"${params.path}" changed since it was read; reload it or overwrite it`,
            { currentVersion },
          );
        }
      }
      if (params.createParents) {
        await mkdir(path.dirname(target), { recursive: true });
      }
      await writeFileAtomic(target, content, existing);
      return { version: contentVersion(content), size: content.byteLength };
    });
  }

  /** Create a directory. */
  async mkdir(params: DaemonParsedParams<'files.mkdir'>): Promise<DaemonResult<'files.mkdir'>> {
    const target = await resolveInRoot(this.root, params.path);
    if (params.recursive) {
      const existing = await statOrNull(target);
      if (existing && !existing.isDirectory()) throw notADirectory(params.path);
      await mkdir(target, { recursive: true });
    } else {
      await mkdir(target);
    }
    return {};
  }

  /** Move or rename a file or directory (a symlink is moved, not its target). */
  async move(params: DaemonParsedParams<'files.move'>): Promise<DaemonResult<'files.move'>> {
    const from = await resolveInRoot(this.root, params.from, { followLast: false });
    const to = await resolveInRoot(this.root, params.to, { followLast: false });
    if (from === this.root || to === this.root) {
      throw new DaemonFailure('bad_request', 'The workspace root cannot be moved or replaced');
    }
    await lstat(from);
    if (!params.overwrite && (await lstatOrNull(to))) {
      throw new DaemonFailure('already_exists', `"${params.to}" already exists`);
    }
    if (to.startsWith(from + path.sep)) {
      throw new DaemonFailure('bad_request', 'A directory cannot be moved into itself');
    }
    try {
      await rename(from, to);
    } catch (error) {
      // Different mounts inside one workspace (a volume under the root): copy, then remove.
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      await cp(from, to, { recursive: true, force: params.overwrite, verbatimSymlinks: true });
      await rm(from, { recursive: true, force: true });
    }
    return {};
  }

  /** Delete a file, a symlink, or a directory (`recursive` for a non-empty one). */
  async delete(params: DaemonParsedParams<'files.delete'>): Promise<DaemonResult<'files.delete'>> {
    const target = await resolveInRoot(this.root, params.path, { followLast: false });
    if (target === this.root) {
      throw new DaemonFailure('bad_request', 'The workspace root cannot be deleted');
    }
    const stats = await lstat(target);
    if (!stats.isDirectory()) {
      await unlink(target);
    } else if (params.recursive) {
      await rm(target, { recursive: true });
    } else {
      try {
        await rmdir(target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOTEMPTY') {
          throw new DaemonFailure(
            'conflict',
            `"${params.path}" is not empty; delete it recursively`,
          );
        }
        throw error;
      }
    }
    return {};
  }

  private entry(absolute: string, stats: Stats): FileEntry {
    return {
      name: path.basename(absolute),
      path: toWorkspacePath(this.root, absolute),
      type: stats.isFile()
        ? 'file'
        : stats.isDirectory()
          ? 'directory'
          : stats.isSymbolicLink()
            ? 'symlink'
            : 'other',
      size: stats.size,
      mtimeMs: stats.mtimeMs,
    };
  }

  private async versionOf(target: string): Promise<string> {
    const handle = await open(target, 'r');
    try {
      return contentVersion(await handle.readFile());
    } finally {
      await handle.close();
    }
  }

  private async withLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.locks.set(key, settled);
    try {
      return await next;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }
}

/**
 * Replace `target` with `content` so that a reader, or a crash, sees the old bytes or the new
 * bytes and never a mix: write a temp file in the same directory, fsync it, rename over the target.
 */
export async function writeFileAtomic(
  target: string,
  content: Uint8Array,
  existing: Stats | null = null,
): Promise<void> {
  const temp = path.join(
    path.dirname(target),
    `.${path.basename(target).slice(0, 200)}.studio-${randomBytes(6).toString('hex')}.tmp`,
  );
  const handle = await open(temp, 'wx', existing ? existing.mode & 0o7777 : 0o666);
  try {
    try {
      await handle.writeFile(content);
      if (existing) {
        // The umask applied at open(); the old file's mode (e.g. an executable script) wins.
        await handle.chmod(existing.mode & 0o7777);
        if (process.getuid?.() === 0) await handle.chown(existing.uid, existing.gid);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(path.dirname(target));
}

// Make the rename itself durable; some filesystems refuse to fsync a directory, which is fine.
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort.
  }
}

async function statOrNull(target: string): Promise<Stats | null> {
  try {
    return await stat(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function lstatOrNull(target: string): Promise<Stats | null> {
  try {
    return await lstat(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function notADirectory(workspacePath: string): DaemonFailure {
  return new DaemonFailure('not_a_directory', `"${workspacePath}" is not a directory`);
}

function isADirectory(workspacePath: string): DaemonFailure {
  return new DaemonFailure('is_a_directory', `"${workspacePath}" is a directory`);
}
