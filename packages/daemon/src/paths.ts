import { lstat, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { DaemonFailure } from './errors.ts';

/** How to treat the last path component when it is a symlink. */
export interface ResolveOptions {
  /**
   * `false` operates on a symlink itself (delete, move, stat) instead of its target, so a link
   * pointing outside the workspace can still be removed.
   */
  followLast?: boolean;
}

const MAX_LINK_HOPS = 40;

/** True when `candidate` is `root` or below it (both absolute and normalized). */
export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  // Compare whole segments: a name like `..foo` is inside.
  return (
    relative === '' ||
    (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  );
}

/**
 * Map a workspace path to an absolute host path inside `root` (which must already be a realpath).
 * Absolute paths are taken relative to the root; nothing is URL-decoded or Unicode-normalized, so
 * `%2e%2e` and look-alike dots stay literal names. Symlinks are resolved on the existing prefix and
 * refused when they lead outside the root.
 */
export async function resolveInRoot(
  root: string,
  workspacePath: string,
  options: ResolveOptions = {},
): Promise<string> {
  if (workspacePath.includes('\0')) {
    throw new DaemonFailure('bad_request', 'Paths must not contain NUL bytes');
  }
  const lexical = path.resolve(root, `.${path.sep}${workspacePath}`);
  if (!isInside(root, lexical)) {
    throw outside(workspacePath);
  }
  if (options.followLast === false && lexical !== root) {
    const parent = await resolveExisting(root, path.dirname(lexical), workspacePath, 0);
    return path.join(parent, path.basename(lexical));
  }
  return resolveExisting(root, lexical, workspacePath, 0);
}

/** The workspace-relative form of an absolute path inside the root (`.` for the root itself). */
export function toWorkspacePath(root: string, absolute: string): string {
  const relative = path.relative(root, absolute);
  return relative === '' ? '.' : relative.split(path.sep).join('/');
}

// realpath() the longest existing prefix, then re-append the components that do not exist yet.
async function resolveExisting(
  root: string,
  lexical: string,
  original: string,
  hops: number,
): Promise<string> {
  const missing: string[] = [];
  let current = lexical;
  for (;;) {
    try {
      const real = await realpath(current);
      if (!isInside(root, real)) throw outside(original);
      return missing.length === 0 ? real : path.join(real, ...missing.reverse());
    } catch (error) {
      if (error instanceof DaemonFailure) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    }
    // A dangling symlink exists but realpath() cannot follow it; writing through it would create
    // its target, so the target must be checked like any other path.
    const danglingTarget = await readDanglingLink(current);
    if (danglingTarget !== null) {
      if (hops >= MAX_LINK_HOPS) {
        throw new DaemonFailure('bad_request', 'Too many levels of symbolic links');
      }
      const target = path.resolve(path.dirname(current), danglingTarget);
      if (!isInside(root, target)) throw outside(original);
      const resolved = await resolveExisting(root, target, original, hops + 1);
      return missing.length === 0 ? resolved : path.join(resolved, ...missing.reverse());
    }
    if (current === root) throw outside(original);
    missing.push(path.basename(current));
    current = path.dirname(current);
  }
}

async function readDanglingLink(candidate: string): Promise<string | null> {
  try {
    const stats = await lstat(candidate);
    return stats.isSymbolicLink() ? await readlink(candidate) : null;
  } catch {
    return null;
  }
}

function outside(workspacePath: string): DaemonFailure {
  return new DaemonFailure(
    'path_outside_workspace',
    `The path "${workspacePath}" leads outside the workspace`,
    { path: workspacePath },
  );
}
