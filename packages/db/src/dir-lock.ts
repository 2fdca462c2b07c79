import { open, readFile, rm } from 'node:fs/promises';

/** Thrown when another live process holds the lock. */
export class DataDirLockedError extends Error {
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(
      `the data directory is in use by another Prometheus Studio process (pid ${pid}); lock file ${path}`,
    );
    this.name = 'DataDirLockedError';
  }
}

/** A held lock; release it once. */
export interface DirLock {
  release(): Promise<void>;
}

/** Takes an exclusive lock file holding our pid; a lock left by a dead process is taken over. */
export async function acquireDirLock(path: string): Promise<DirLock> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(holder) && isAlive(holder)) {
        throw new DataDirLockedError(path, holder);
      }
      // Stale: its process is gone (e.g. kill -9). Remove it and try again.
      await rm(path, { force: true });
    }
  }
  throw new Error(`could not take the lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
