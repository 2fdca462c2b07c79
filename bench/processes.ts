// Starting, timing, measuring and stopping server processes for the benchmark.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';

/** A server process the bench started; `stop()` is safe to call more than once. */
export interface ServerProcess {
  pid: number;
  url: string;
  child: ChildProcess;
  /** performance.now() just before spawning, for start-up timing. */
  startedAt: number;
  /** The last few kB of the server's output, shown when it fails. */
  output(): string;
}

// Every process this run started, so they can all be stopped by PID on any exit path.
const running = new Set<ChildProcess>();

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('could not get a port');
  return address.port;
}

/** Spawns `node <script>` listening on a fresh port on 127.0.0.1. */
export async function spawnServer(
  script: string,
  env: Record<string, string>,
): Promise<ServerProcess> {
  const port = await freePort();
  const startedAt = performance.now();
  const child = spawn(process.execPath, [script], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      // A background rebuild of an image whose recipe changed would share the cores being timed.
      STUDIO_REBUILD_OUTDATED_IMAGES: 'false',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  if (child.pid === undefined) throw new Error(`could not start ${script}`);
  return {
    pid: child.pid,
    url: `http://127.0.0.1:${port}`,
    child,
    startedAt,
    output: () => tail,
  };
}

/** One GET with a fresh connection; resolves to the status, or 0 if the connection failed. */
function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
    req.end();
  });
}

// 10 ms between polls: fine enough for starts measured in hundreds of ms, cheap for the server.
const POLL_MS = 10;

/** Polls `/readyz` until it answers 200; resolves to ms since the process was spawned. */
export async function waitForReady(server: ServerProcess, timeoutMs = 60_000): Promise<number> {
  const { startedAt } = server;
  while (performance.now() - startedAt < timeoutMs) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`server exited before it was ready:\n${server.output()}`);
    }
    if ((await probe(`${server.url}/readyz`)) === 200) return performance.now() - startedAt;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`${server.url}/readyz not 200 within ${timeoutMs} ms:\n${server.output()}`);
}

/** Resident set size of a process in MiB, from /proc/<pid>/status. */
/** Until the server has made the admin of `STUDIO_ADMIN_EMAIL` (just after it listens; 30 s at most). */
export async function waitForAdmin(server: ServerProcess): Promise<void> {
  for (let i = 0; i < 600 && !server.output().includes('created the admin'); i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
}

export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
export function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stops every process still running; used in `finally` and on signals. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(stopServer));
}

/** Synchronous last resort for `process.on('exit')`, where nothing async runs. */
export function killAllNow(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** The value below which `p` percent of `values` fall (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}
