// Workspace metrics for `npm run bench`: create → daemon ready (local and Docker), exec and
// terminal round trips through the real server, daemon idle RSS, and concurrent creates. Each
// Docker figure sits beside the bare engine doing the same job in the same run.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DockerRuntime,
  LocalRuntime,
  engineAnswers,
  openEngine,
  type WorkspaceRuntime,
  type WorkspaceSpec,
} from '@studio/runtime';
import WebSocket from 'ws';
import { spawnServer, stopServer, waitForReady, percentile } from './processes.ts';

/** One measured figure, optionally beside its baseline. */
export interface WorkspaceMetric {
  value: number;
  unit: string;
  baseline?: number;
}

const IMAGE = 'studio/base:1';
const BENCH_BRIDGE = 'studio-bench-bridge';
const ADMIN = { email: 'bench-ws@example.com', password: 'bench-password-0123' };

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** Resident and private (anonymous) memory of a process, in MiB. */
async function processMemory(pid: number): Promise<{ rss: number; anon: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, anon: kib('RssAnon') / 1024 };
}

function spec(id: string): WorkspaceSpec {
  return {
    id,
    name: id,
    ownerId: 'bench',
    image: IMAGE,
    // The base template's disk: where the server can, each workspace gets its own filesystem.
    resources: { cpus: 1, memoryMiB: 512, pids: 256, diskMiB: 10240 },
    env: {},
    startCommands: [],
  };
}

/** create + start until the daemon answers, `runs` times; the p50 in ms. */
async function createToReady(
  runtime: WorkspaceRuntime,
  prefix: string,
  runs: number,
  overrides: Partial<WorkspaceSpec> = {},
) {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const id = `${prefix}${run}`;
    const began = performance.now();
    await runtime.create({ ...spec(id), ...overrides });
    await runtime.start(id);
    times.push(performance.now() - began);
    await runtime.remove(id);
  }
  return percentile(times, 50);
}

function timeCommand(command: string, args: string[], runs: number): number {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const began = performance.now();
    execFileSync(command, args, { stdio: 'ignore' });
    times.push(performance.now() - began);
  }
  return percentile(times, 50);
}

/** Measure everything; `serverMain` is the built server, `runtimeDir` the daemon runtime. */
export async function measureWorkspaces(
  tmp: string,
  serverMain: string,
  runtimeDir: string,
): Promise<Record<string, WorkspaceMetric>> {
  const metrics: Record<string, WorkspaceMetric> = {};

  log('workspaces: local driver, create → daemon ready, 10 runs');
  const local = await LocalRuntime.open({ dir: join(tmp, 'local'), runtimeDir });
  metrics[`local_${local.isolation}_create_ready_p50_ms`] = {
    value: await createToReady(local, 'bl', 10),
    unit: 'ms',
  };
  await local.create(spec('rss'));
  await local.start('rss');
  await new Promise((resolve) => setTimeout(resolve, 3000));
  // The same Node binary doing nothing: the floor under any daemon it runs.
  const bare = spawn(join(runtimeDir, 'bin', 'node'), ['-e', 'setTimeout(() => {}, 60_000)']);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const bareStatus = await processMemory(bare.pid!);
  bare.kill();
  // info.pid is the daemon's pid inside its sandbox; find it from the host's side.
  const hostPid = Number(
    // The node process itself, not the launcher shell that has the same words in its arguments.
    execFileSync('pgrep', ['-f', '^[^ ]*/bin/node [^ ]*daemon.mjs --workspace=rss$'], {
      encoding: 'utf8',
    }).split('\n')[0],
  );
  const daemonStatus = await processMemory(hostPid);
  metrics.daemon_idle_rss_mb = {
    value: daemonStatus.rss,
    unit: 'MiB',
    baseline: bareStatus.rss,
  };
  // Private memory is what each workspace costs; the rest is the runtime's read-only files,
  // whose pages all workspaces on a host share.
  metrics.daemon_idle_private_mb = {
    value: daemonStatus.anon,
    unit: 'MiB',
    baseline: bareStatus.anon,
  };
  await local.remove('rss');
  await local.close();

  const dockerHost = process.env.DOCKER_HOST;
  const docker = await openEngine(dockerHost);
  const hasDocker = await engineAnswers(docker);
  const images = hasDocker ? await docker.listImages({ filters: { reference: [IMAGE] } }) : [];
  if (hasDocker && images.length > 0) {
    log('workspaces: docker driver, create → daemon ready vs docker run --rm IMAGE true, 5 runs');
    const runtime = new DockerRuntime({ docker, runtimeDir, stateDir: join(tmp, 'docker') });
    // Plain `docker run` attaches to a bridge network (docker0 on a stock engine; CI's engine
    // has none, so a bridge of the bench's own), as every workspace does; `--network none` is
    // shown beside it for what network setup costs.
    await ensureBenchBridge(docker);
    const run = timeCommand('docker', ['run', '--rm', '--network', BENCH_BRIDGE, IMAGE, 'true'], 7);
    metrics.docker_run_no_network_p50_ms = {
      value: timeCommand('docker', ['run', '--rm', '--network', 'none', IMAGE, 'true'], 7),
      unit: 'ms',
    };
    metrics.docker_create_ready_p50_ms = {
      value: await createToReady(runtime, `bd${Date.now() % 100000}`, 7),
      unit: 'ms',
      baseline: run,
    };
    // The sandboxed-kernel class, where the engine has gVisor: beside runc's create → ready.
    const runtimes = ((await docker.info()) as { Runtimes?: Record<string, unknown> }).Runtimes;
    if (runtimes?.runsc) {
      log('workspaces: the same under gVisor (runsc), 7 runs');
      metrics.docker_gvisor_create_ready_p50_ms = {
        value: await createToReady(runtime, `bg${Date.now() % 100000}`, 7, {
          isolation: 'sandboxed-kernel',
        }),
        unit: 'ms',
        baseline: metrics.docker_create_ready_p50_ms.value,
      };
    }
    await runtime.close();
  } else {
    log(`workspaces: no engine or no ${IMAGE} image; skipping the Docker figures`);
  }

  // Through the real server: exec and terminal round trips, concurrent creates.
  const driver = hasDocker && images.length > 0 ? 'docker' : 'local';
  log(`workspaces: server on the ${driver} driver`);
  const server = await spawnServer(serverMain, {
    STUDIO_DATA_DIR: await mkdtemp(join(tmp, 'server-')),
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_RUNTIME: driver,
    ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}),
  });
  try {
    await waitForReady(server);
    const api = await apiFor(server.url);
    await api.createAndWait('bench');

    const execTimes: number[] = [];
    for (let run = 0; run < 50; run++) {
      const began = performance.now();
      const body = await api.call('POST', '/api/workspaces/bench/exec', { command: 'true' });
      if (!body.includes('"code":0')) throw new Error(`exec true failed: ${body}`);
      execTimes.push(performance.now() - began);
    }
    const execP50 = percentile(execTimes.slice(5), 50);
    let dockerExec: number | undefined;
    if (driver === 'docker') {
      const [container] = await docker.listContainers({
        filters: { label: ['studio.name=bench'] },
      });
      if (container) dockerExec = timeCommand('docker', ['exec', container.Id, 'true'], 10);
    }
    metrics.exec_true_p50_ms = {
      value: execP50,
      unit: 'ms',
      ...(dockerExec === undefined ? {} : { baseline: dockerExec }),
    };

    const echo = await terminalEcho(server.url, api);
    metrics.terminal_echo_p50_ms = { value: percentile(echo, 50), unit: 'ms' };
    metrics.terminal_echo_p99_ms = { value: percentile(echo, 99), unit: 'ms' };

    log('workspaces: 20 concurrent creates through the API');
    const names = Array.from({ length: 20 }, (_, index) => `many-${index}`);
    const results = await Promise.allSettled(names.map((name) => api.createAndWait(name)));
    const ready = results.filter((result) => result.status === 'fulfilled');
    metrics.concurrent_20_ready = { value: ready.length, unit: 'of 20' };
    const times = ready.map((result) => (result as PromiseFulfilledResult<number>).value);
    metrics.concurrent_20_ready_p99_ms = { value: percentile(times, 99), unit: 'ms' };
    await Promise.all(names.map((name) => api.call('DELETE', `/api/workspaces/${name}`)));
    await api.call('DELETE', '/api/workspaces/bench');
    // Let the deletes finish before the server stops.
    await api.waitGone([...names, 'bench']);
  } finally {
    await stopServer(server.child);
  }
  return metrics;
}

type Api = Awaited<ReturnType<typeof apiFor>>;

/** The bench's own bridge network for bare `docker run` baselines; its name. */
export async function ensureBenchBridge(docker: Awaited<ReturnType<typeof openEngine>>) {
  // The engine allows two networks of one name (and then refuses both): look before creating.
  const bridges = await docker.listNetworks({ filters: { name: [BENCH_BRIDGE] } });
  if (!bridges.some((network) => network.Name === BENCH_BRIDGE)) {
    await docker.createNetwork({ Name: BENCH_BRIDGE, Driver: 'bridge' });
  }
  return BENCH_BRIDGE;
}

/** A signed-in API client for the bench's server (its admin was created from the environment). */
export async function apiFor(url: string, admin = ADMIN) {
  const signIn = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(admin),
  });
  const cookie = signIn.headers
    .getSetCookie()
    .map((header) => header.split(';', 1)[0])
    .join('; ');
  const headers = { cookie, origin: url };
  const call = async (method: string, path: string, body?: unknown): Promise<string> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text;
  };
  return {
    cookie,
    call,
    /** Create (from `template`, else the default) and wait until running; the time it took in ms. */
    async createAndWait(name: string, template?: string): Promise<number> {
      const began = performance.now();
      await call('POST', '/api/workspaces', template ? { name, template } : { name });
      for (;;) {
        const workspace = JSON.parse(await call('GET', `/api/workspaces/${name}`)) as {
          status: string;
          statusReason: string | null;
        };
        if (workspace.status === 'running') return performance.now() - began;
        if (workspace.status === 'error') throw new Error(`${name}: ${workspace.statusReason}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async waitGone(names: string[]): Promise<void> {
      for (const name of names) {
        let status = 0;
        for (let i = 0; i < 1200 && status !== 404; i++) {
          status = (await fetch(`${url}/api/workspaces/${name}`, { headers })).status;
          if (status !== 404) await new Promise((resolve) => setTimeout(resolve, 50));
        }
        if (status !== 404) log(`workspaces: ${name} was not deleted within 60 s`);
      }
    },
  };
}

/** Type one character at a time into a shell and time until its echo comes back. */
async function terminalEcho(url: string, api: Api): Promise<number[]> {
  const { id } = JSON.parse(await api.call('POST', '/api/workspaces/bench/terminals', {})) as {
    id: string;
  };
  const socket = new WebSocket(
    `${url.replace('http', 'ws')}/api/workspaces/bench/terminals/${id}/attach`,
    { headers: { origin: url, cookie: api.cookie } },
  );
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let received = '';
  let waiter: (() => void) | null = null;
  socket.on('message', (data, binary) => {
    if (!binary) return;
    received += Buffer.from(data as Buffer).toString('utf8');
    waiter?.();
  });
  // Let the shell print its prompt first.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const times: number[] = [];
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (let run = 0; run < 300; run++) {
    const letter = letters[run % letters.length]!;
    received = '';
    const began = performance.now();
    const echoed = new Promise<void>((resolve) => {
      waiter = () => {
        if (received.includes(letter)) resolve();
      };
    });
    socket.send(Buffer.from(letter));
    await echoed;
    times.push(performance.now() - began);
    // Keep the line short: erase what was typed every so often.
    if (run % 20 === 19) {
      socket.send(Buffer.from('\u0015'));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  socket.close();
  return times.slice(20);
}
