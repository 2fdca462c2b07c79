import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceResources } from '../runtime.ts';

const ROOT = '/sys/fs/cgroup';
const GROUP = 'studio';

/**
 * Hard limits for one local workspace through the kernel's cgroups (v2, or v1's `pids`, `memory`
 * and `cpu` hierarchies). Only usable where the server may write the cgroup tree (root, or a
 * delegated subtree); elsewhere the local driver runs without limits and says so.
 */
export interface CgroupLimits {
  /** Folders whose `cgroup.procs` a process writes its pid into to join every controller. */
  procsFiles: string[];
  /** Pids still in the workspace's cgroup. */
  pids(): Promise<number[]>;
  memoryBytes(): Promise<number>;
  /** Whether the kernel's OOM killer hit this workspace since it was created. */
  oomKilled(): Promise<boolean>;
  /** Apply the template's limits (before the workspace starts). */
  setLimits(resources: WorkspaceResources): Promise<void>;
  /** Remove the (empty) cgroup. */
  remove(): Promise<void>;
}

type Layout =
  { version: 2 } | { version: 1; controllers: Record<'pids' | 'memory' | 'cpu', string> };

async function writable(path: string): Promise<boolean> {
  return access(path, constants.W_OK).then(
    () => true,
    () => false,
  );
}

/** Which cgroup layout this machine has, and whether we may use it; `null` when we may not. */
export async function detectCgroups(): Promise<Layout | null> {
  if (await writable(join(ROOT, 'cgroup.subtree_control'))) return { version: 2 };
  const controllers = {
    pids: join(ROOT, 'pids'),
    memory: join(ROOT, 'memory'),
    cpu: join(ROOT, 'cpu'),
  };
  for (const dir of Object.values(controllers)) if (!(await writable(dir))) return null;
  return { version: 1, controllers };
}

/** The cgroup of workspace `id`: its folders, created when missing, limits untouched. */
export async function cgroupOf(layout: Layout, id: string): Promise<CgroupLimits> {
  if (layout.version === 2) {
    const parent = join(ROOT, GROUP);
    const dir = join(parent, id);
    await mkdir(dir, { recursive: true });
    return {
      procsFiles: [join(dir, 'cgroup.procs')],
      pids: () => readPids(join(dir, 'cgroup.procs')),
      memoryBytes: async () => Number(await readFile(join(dir, 'memory.current'), 'utf8')),
      oomKilled: async () =>
        /oom_kill [1-9]/.test(await readFile(join(dir, 'memory.events'), 'utf8').catch(() => '')),
      setLimits: async (resources) => {
        // Controllers must be enabled in every ancestor's subtree_control before a child can use them.
        await writeFile(join(ROOT, 'cgroup.subtree_control'), '+pids +memory +cpu').catch(() => {});
        await writeFile(join(parent, 'cgroup.subtree_control'), '+pids +memory +cpu').catch(
          () => {},
        );
        await writeFile(join(dir, 'pids.max'), String(resources.pids));
        await writeFile(join(dir, 'memory.max'), bytes(resources));
        await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => {});
        await writeFile(join(dir, 'cpu.max'), `${quota(resources)} ${PERIOD}`).catch(() => {});
      },
      remove: () => rmdir(dir).catch(() => {}),
    };
  }
  const dirs = {
    pids: join(layout.controllers.pids, GROUP, id),
    memory: join(layout.controllers.memory, GROUP, id),
    cpu: join(layout.controllers.cpu, GROUP, id),
  };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  return {
    procsFiles: Object.values(dirs).map((dir) => join(dir, 'cgroup.procs')),
    pids: () => readPids(join(dirs.pids, 'cgroup.procs')),
    memoryBytes: async () =>
      Number(await readFile(join(dirs.memory, 'memory.usage_in_bytes'), 'utf8')),
    oomKilled: async () =>
      /oom_kill [1-9]/.test(
        await readFile(join(dirs.memory, 'memory.oom_control'), 'utf8').catch(() => ''),
      ),
    setLimits: async (resources) => {
      await writeFile(join(dirs.pids, 'pids.max'), String(resources.pids));
      // memsw must stay >= memory: lower it last when shrinking, raise it first when growing.
      await writeFile(join(dirs.memory, 'memory.memsw.limit_in_bytes'), '-1').catch(() => {});
      await writeFile(join(dirs.memory, 'memory.limit_in_bytes'), bytes(resources));
      // Without a swap limit a memory bomb would page out instead of being stopped.
      await writeFile(join(dirs.memory, 'memory.memsw.limit_in_bytes'), bytes(resources)).catch(
        () => {},
      );
      await writeFile(join(dirs.cpu, 'cpu.cfs_period_us'), String(PERIOD)).catch(() => {});
      await writeFile(join(dirs.cpu, 'cpu.cfs_quota_us'), quota(resources)).catch(() => {});
    },
    remove: async () => {
      for (const dir of Object.values(dirs)) await rmdir(dir).catch(() => {});
    },
  };
}

const PERIOD = 100_000;
const bytes = (resources: WorkspaceResources) => String(resources.memoryMiB * 1024 * 1024);
const quota = (resources: WorkspaceResources) => String(Math.round(resources.cpus * PERIOD));

async function readPids(procsFile: string): Promise<number[]> {
  const text = await readFile(procsFile, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => Number(line));
}
