import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Older copies kept beside the current one: workspaces started before a rebuild still use them. */
const KEEP_OLD = 2;

/**
 * Whether an unprivileged user can reach every file below `dir`: every folder above and below
 * it lets others pass, and every file lets them read.
 */
export async function readableByOthers(dir: string): Promise<boolean> {
  for (let current = dir; ; current = dirname(current)) {
    const mode = (await stat(current)).mode;
    if ((mode & 0o001) === 0) return false;
    if (current === dirname(current)) break;
  }
  const walk = async (folder: string): Promise<boolean> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const mode = (await stat(path)).mode;
      if (entry.isDirectory()) {
        if ((mode & 0o005) !== 0o005 || !(await walk(path))) return false;
      } else if ((mode & 0o004) === 0) return false;
    }
    return true;
  };
  return walk(dir);
}

/** A short hash of the names, sizes and mtimes below `dir`: it changes whenever a build does. */
async function treeStamp(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (folder: string, prefix: string) => {
    const entries = await readdir(folder, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path, `${prefix}${entry.name}/`);
      else {
        const stats = await stat(path);
        hash.update(`${prefix}${entry.name}\0${stats.size}\0${stats.mtimeMs}\0`);
      }
    }
  };
  await walk(dir, '');
  return hash.digest('hex').slice(0, 16);
}

/**
 * The daemon runtime where the workspace user can read it. A server running as root from a
 * checkout under a private folder (`/root`, a 0700 home) has a runtime the sandbox cannot
 * mount; it gets a copy in `<workspaces dir>-runtime/<stamp>`, made once per build, readable by
 * all. A runtime others can already read is used where it is.
 */
export async function stageRuntime(runtimeDir: string, workspacesDir: string): Promise<string> {
  if (await readableByOthers(runtimeDir)) return runtimeDir;
  const parent = join(dirname(workspacesDir), `${basename(workspacesDir)}-runtime`);
  const target = join(parent, await treeStamp(runtimeDir));
  if (existsSync(target)) return target;
  await mkdir(parent, { recursive: true, mode: 0o755 });
  await chmod(parent, 0o755);
  const partial = `${target}.partial-${randomBytes(4).toString('hex')}`;
  try {
    await cp(runtimeDir, partial, { recursive: true, preserveTimestamps: true });
    await openUp(partial);
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    // Another server process staged the same build at the same moment.
    if (existsSync(target)) return target;
    throw error;
  }
  await pruneOld(parent, basename(target));
  return target;
}

/** Folders 0755; files readable by all, executable by all where the owner may execute. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await openUp(path);
    else if (entry.isFile()) {
      const mode = (await stat(path)).mode & 0o777;
      await chmod(path, mode & 0o100 ? 0o755 : 0o644);
    }
  }
}

async function pruneOld(parent: string, current: string): Promise<void> {
  const others = await Promise.all(
    (await readdir(parent))
      .filter((name) => name !== current && !name.includes('.partial-'))
      .map(async (name) => ({ name, mtime: (await stat(join(parent, name))).mtimeMs })),
  );
  others.sort((a, b) => b.mtime - a.mtime);
  for (const { name } of others.slice(KEEP_OLD))
    await rm(join(parent, name), { recursive: true, force: true });
}
