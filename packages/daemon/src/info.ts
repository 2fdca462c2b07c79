import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { DAEMON_PROTOCOL_VERSION, type DaemonInfo } from '@studio/protocol';
import packageJson from '../package.json' with { type: 'json' };

/** The daemon's version; the bundler inlines package.json, so the built file carries it. */
export const DAEMON_VERSION: string = packageJson.version;

/** What the daemon says about itself and the machine (container) it runs in. */
export async function daemonInfo(root: string, startedAt: number): Promise<DaemonInfo> {
  const user = os.userInfo();
  const cpu = process.cpuUsage();
  const cgroup = await cgroupMemory();
  return {
    version: DAEMON_VERSION,
    protocol: DAEMON_PROTOCOL_VERSION,
    pid: process.pid,
    uptimeMs: Date.now() - startedAt,
    root,
    user: { uid: user.uid, gid: user.gid, name: user.username },
    cpu: {
      cores: os.availableParallelism(),
      loadavg: os.loadavg(),
      usageMicros: cpu.user + cpu.system,
    },
    memory: {
      daemonRss: process.memoryUsage.rss(),
      limit: cgroup.limit,
      used: cgroup.used ?? os.totalmem() - os.freemem(),
    },
  };
}

// cgroup v2 first, then v1. "No limit" reads as "max" (v2) or a huge number (v1).
async function cgroupMemory(): Promise<{ limit: number | null; used: number | null }> {
  const read = (file: string) =>
    readFile(file, 'utf8').then(
      (text) => text.trim(),
      () => null,
    );
  let limitText = await read('/sys/fs/cgroup/memory.max');
  let usedText = await read('/sys/fs/cgroup/memory.current');
  if (limitText === null) {
    limitText = await read('/sys/fs/cgroup/memory/memory.limit_in_bytes');
    usedText = await read('/sys/fs/cgroup/memory/memory.usage_in_bytes');
  }
  const limitNumber = limitText === null || limitText === 'max' ? NaN : Number(limitText);
  const limit =
    Number.isFinite(limitNumber) && limitNumber < Number.MAX_SAFE_INTEGER / 2 ? limitNumber : null;
  const usedNumber = usedText === null ? NaN : Number(usedText);
  return { limit, used: Number.isFinite(usedNumber) ? usedNumber : null };
}
