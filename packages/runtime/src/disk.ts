import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RuntimeError } from './runtime.ts';

// A workspace's disk limit is a filesystem of its own: a sparse ext4 image, loop-mounted. Filling
// it ends in ENOSPC inside the workspace and nowhere else. Quotas would be lighter, but they need
// a kernel built with CONFIG_QUOTA and an XFS or ext4 mounted with project quotas; a loop device
// needs only root. The image is sparse, so a workspace uses the host's disk only as it writes.

const run = promisify(execFile);

/** Where a workspace disk lives and whom its root folder belongs to. */
export interface DiskSpec {
  /** The image file (created on first use). */
  image: string;
  /** Where it is mounted. */
  mountpoint: string;
  sizeMiB: number;
  uid: number;
  gid: number;
}

let probe: Promise<boolean> | null = null;

/**
 * Whether this process can give workspaces disks of their own: root, `mkfs.ext4`, loop devices
 * and `mount` all work. Tried once for real (an 8 MiB image), then remembered.
 */
export function loopDisksAvailable(): Promise<boolean> {
  probe ??= (async () => {
    if (process.getuid?.() !== 0 || !existsSync('/dev/loop-control')) return false;
    const dir = await mkdtemp(join(tmpdir(), 'studio-disk-probe-'));
    const spec = { image: join(dir, 'disk.img'), mountpoint: join(dir, 'fs'), uid: 0, gid: 0 };
    try {
      await ensureDisk({ ...spec, sizeMiB: 8 });
      await writeFile(join(spec.mountpoint, 'probe'), 'ok');
      return true;
    } catch {
      return false;
    } finally {
      await releaseDisk(spec.mountpoint).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return probe;
}

/** Create the image if it is missing and mount it if it is not mounted (idempotent). */
export async function ensureDisk(spec: DiskSpec): Promise<void> {
  await mkdir(spec.mountpoint, { recursive: true });
  if (await isMounted(spec.mountpoint)) return;
  const fresh = !existsSync(spec.image);
  if (fresh) {
    await writeFile(spec.image, '');
    await truncate(spec.image, spec.sizeMiB * 1024 * 1024);
    await tool('mkfs.ext4', [
      '-q',
      '-F',
      // No blocks reserved for root (the workspace user gets all of it); inode tables and the
      // journal are zeroed lazily, so creating a large disk takes milliseconds.
      '-m',
      '0',
      '-E',
      `lazy_itable_init=1,lazy_journal_init=1,root_owner=${spec.uid}:${spec.gid}`,
      spec.image,
    ]);
  }
  await tool('mount', ['-o', 'loop,nodev,nosuid', spec.image, spec.mountpoint]);
  // mkfs leaves lost+found in the root, which would show in the workspace's file tree.
  if (fresh) await rmdir(join(spec.mountpoint, 'lost+found')).catch(() => {});
}

/** Unmount the disk if it is mounted (its image stays). */
export async function releaseDisk(mountpoint: string): Promise<void> {
  for (let attempt = 0; attempt < 20 && (await isMounted(mountpoint)); attempt++) {
    try {
      await run('umount', [mountpoint]);
    } catch {
      // Busy: a process that is still exiting holds a file open. Retry, then detach lazily.
      if (attempt < 19) await new Promise((resolve) => setTimeout(resolve, 50));
      else await run('umount', ['--lazy', mountpoint]);
    }
  }
}

/** Whether `path` is a mount point, from /proc/self/mountinfo. */
export async function isMounted(path: string): Promise<boolean> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  return table.split('\n').some((line) => unescapeMountPath(line.split(' ')[4] ?? '') === path);
}

function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

async function tool(command: string, args: string[]): Promise<void> {
  try {
    await run(command, args, { timeout: 30_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new RuntimeError(
      'internal',
      `Could not prepare the workspace disk: ${command} failed${stderr ? `: ${stderr}` : ''}`,
    );
  }
}
