// `npm run bench`: measures the product server beside a bare Fastify baseline measured in the
// same run on the same machine, writes bench/results/latest.json and prints a table.
// See bench/README.md for what each metric means. `npm run bench -- ide` runs only the named
// parts (server, workspaces, ide, agent, replicas, lsp, roles, backup, collab, cli, pool, desktop, kubernetes); no names runs them all.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { measureAgent } from './agent.ts';
import { measureDesktop } from './desktop.ts';
import { measureIde } from './ide.ts';
import { measureKubernetes } from './kubernetes.ts';
import { measureLsp } from './lsp.ts';
import { measureReplicas } from './replicas.ts';
import { measureBackup } from './backup.ts';
import { measureRoles } from './roles.ts';
import { measureCollab } from './collab.ts';
import { measureCli } from './cli.ts';
import { measurePool } from './pool.ts';
import { load, type LoadResult } from './load.ts';
import { measureWorkspaces } from './workspaces.ts';
import {
  killAllNow,
  rssMb,
  spawnServer,
  stopAll,
  stopServer,
  waitForReady,
  type ServerProcess,
} from './processes.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER_MAIN = join(ROOT, 'apps/server/dist/main.js');
const WEB_INDEX = join(ROOT, 'apps/web/dist/index.html');
const RESULTS_DIR = join(ROOT, 'bench/results');
const ADMIN = { email: 'admin@example.com', password: 'bench-password-0123' };

const START_RUNS = 3;
const IDLE_MS = 5_000;
// A short unmeasured run first, so both servers are measured with warm JIT and caches.
const WARMUP_S = 2;
const LOAD_S = 10;
const COOKIE_LOAD_S = 5;
const CONNECTIONS = 20;

/** One row of results/latest.json. */
interface Metric {
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  /** Why there is no baseline this run (code-server could not be installed, say). */
  baselineUnavailable?: string;
}

const PARTS = [
  'server',
  'workspaces',
  'ide',
  'agent',
  'replicas',
  'lsp',
  'roles',
  'backup',
  'collab',
  'cli',
  'pool',
  'desktop',
  'kubernetes',
] as const;

interface Measured {
  coldStartMs: number;
  warmStartMs: number;
  idleRssMb: number;
  me: LoadResult;
  meCookie?: LoadResult;
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function ensureServerBuilt(): void {
  if (existsSync(SERVER_MAIN)) return;
  log('apps/server/dist/main.js is missing; running npm run build -w @studio/server');
  const result = spawnSync('npm', ['run', 'build', '-w', '@studio/server'], {
    cwd: ROOT,
    stdio: ['ignore', 2, 2],
  });
  if (result.status !== 0 || !existsSync(SERVER_MAIN)) throw new Error('server build failed');
}

/** Compiles the baseline to plain JS so it starts without a TypeScript loader, like the built product. */
/** The IDE bench serves the built web app; build it when it is missing. */
function ensureWebBuilt(): void {
  if (existsSync(WEB_INDEX)) return;
  log('apps/web/dist is missing; running npm run build -w @studio/web');
  const result = spawnSync('npm', ['run', 'build', '-w', '@studio/web'], {
    cwd: ROOT,
    stdio: ['ignore', 2, 2],
  });
  if (result.status !== 0 || !existsSync(WEB_INDEX)) throw new Error('web build failed');
}

async function buildBaseline(): Promise<string> {
  const outfile = join(RESULTS_DIR, 'baseline-server.mjs');
  // Not bundled: fastify is resolved from the repo's node_modules, one directory up.
  await build({
    entryPoints: [join(ROOT, 'bench/baseline-server.ts')],
    outfile,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  return outfile;
}

/** Starts the server `runs` times (each with `envFor(run)`); returns the median time to ready and the last, still running, process. */
async function measureStarts(
  script: string,
  envFor: (run: number) => Record<string, string>,
): Promise<{ medianMs: number; last: ServerProcess }> {
  const times: number[] = [];
  let last: ServerProcess | undefined;
  for (let run = 0; run < START_RUNS; run++) {
    if (last) await stopServer(last.child);
    last = await spawnServer(script, envFor(run));
    times.push(await waitForReady(last));
  }
  if (!last) throw new Error('no start runs');
  return { medianMs: median(times), last };
}

async function idleRss(server: ServerProcess): Promise<number> {
  await sleep(IDLE_MS);
  return rssMb(server.pid);
}

async function measuredLoad(
  url: string,
  headers: Record<string, string>,
  seconds: number,
): Promise<LoadResult> {
  await load({ url, headers, seconds: WARMUP_S, connections: CONNECTIONS });
  const result = await load({ url, headers, seconds, connections: CONNECTIONS });
  if (result.ok === 0) throw new Error(`no 2xx answers from ${url}`);
  if (result.non2xx > 0 || result.errors > 0) {
    log(`warning: ${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors/timeouts`);
  }
  return result;
}

/** Signs in as the admin; returns every cookie pair the server set. */
async function signIn(url: string): Promise<string> {
  const response = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  if (!response.ok)
    throw new Error(`POST /api/session: ${response.status} ${await response.text()}`);
  const cookie = response.headers
    .getSetCookie()
    .map((header) => header.split(';', 1)[0] ?? '')
    .join('; ');
  if (!cookie) throw new Error('POST /api/session set no cookie');
  return cookie;
}

async function createToken(url: string, cookie: string): Promise<string> {
  const response = await fetch(`${url}/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, origin: new URL(url).origin },
    body: JSON.stringify({ name: 'bench' }),
  });
  if (response.status !== 201) {
    throw new Error(`POST /api/tokens: ${response.status} ${await response.text()}`);
  }
  return ((await response.json()) as { secret: string }).secret;
}

async function measureProduct(tmp: string): Promise<Measured> {
  const env = (dataDir: string) => ({
    NODE_ENV: 'production',
    STUDIO_DATA_DIR: dataDir,
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
  });
  log(`product: ${START_RUNS} cold starts (new data dir each)`);
  const cold = await measureStarts(SERVER_MAIN, (run) => env(join(tmp, `data-${run}`)));
  await stopServer(cold.last.child);
  const warmDir = join(tmp, `data-${START_RUNS - 1}`);
  log(`product: ${START_RUNS} warm starts (existing data dir)`);
  const warm = await measureStarts(SERVER_MAIN, () => env(warmDir));
  const server = warm.last;
  log(`product: ${IDLE_MS / 1000} s idle, then RSS`);
  const idleRssMb = await idleRss(server);
  const cookie = await signIn(server.url);
  const token = await createToken(server.url, cookie);
  log(`product: GET /api/me with a bearer token, ${LOAD_S} s x ${CONNECTIONS} connections`);
  const me = await measuredLoad(
    `${server.url}/api/me`,
    { authorization: `Bearer ${token}` },
    LOAD_S,
  );
  log(`product: GET /api/me with the session cookie, ${COOKIE_LOAD_S} s`);
  const meCookie = await measuredLoad(`${server.url}/api/me`, { cookie }, COOKIE_LOAD_S);
  await stopServer(server.child);
  return { coldStartMs: cold.medianMs, warmStartMs: warm.medianMs, idleRssMb, me, meCookie };
}

async function measureBaseline(script: string): Promise<Measured> {
  log(`baseline: ${START_RUNS} starts`);
  const starts = await measureStarts(script, () => ({ NODE_ENV: 'production' }));
  const server = starts.last;
  log(`baseline: ${IDLE_MS / 1000} s idle, then RSS`);
  const idleRssMb = await idleRss(server);
  log(`baseline: GET /api/me, ${LOAD_S} s x ${CONNECTIONS} connections`);
  const me = await measuredLoad(`${server.url}/api/me`, {}, LOAD_S);
  await stopServer(server.child);
  // The baseline has no data directory, so its first and later starts are the same thing.
  return { coldStartMs: starts.medianMs, warmStartMs: starts.medianMs, idleRssMb, me };
}

function metric(value: number, unit: string, baseline: number): Metric {
  const round = (n: number) => Math.round(n * 100) / 100;
  const row: Metric = { value: round(value), unit, baseline: round(baseline) };
  // Three significant digits: a throughput ratio like 0.0122 must not round to 0.01.
  if (baseline > 0 && Number.isFinite(value)) row.ratio = Number((value / baseline).toPrecision(3));
  return row;
}

function toMetrics(product: Measured, baseline: Measured): Record<string, Metric> {
  const metrics: Record<string, Metric> = {
    cold_start_ms: metric(product.coldStartMs, 'ms', baseline.coldStartMs),
    warm_start_ms: metric(product.warmStartMs, 'ms', baseline.warmStartMs),
    idle_rss_mb: metric(product.idleRssMb, 'MiB', baseline.idleRssMb),
    me_p50_ms: metric(product.me.p50Ms, 'ms', baseline.me.p50Ms),
    me_p99_ms: metric(product.me.p99Ms, 'ms', baseline.me.p99Ms),
    me_rps: metric(product.me.rps, 'req/s', baseline.me.rps),
  };
  if (product.meCookie) {
    metrics.me_cookie_p50_ms = metric(product.meCookie.p50Ms, 'ms', baseline.me.p50Ms);
    metrics.me_cookie_p99_ms = metric(product.meCookie.p99Ms, 'ms', baseline.me.p99Ms);
    metrics.me_cookie_rps = metric(product.meCookie.rps, 'req/s', baseline.me.rps);
  }
  return metrics;
}

function formatTable(metrics: Record<string, Metric>): string {
  const rows = [
    ['metric', 'value', 'unit', 'baseline', 'ratio'],
    ...Object.entries(metrics).map(([name, m]) => [
      name,
      String(m.value),
      m.unit,
      m.baselineUnavailable !== undefined
        ? `unavailable: ${m.baselineUnavailable.slice(0, 60)}`
        : m.baseline === undefined
          ? '-'
          : String(m.baseline),
      m.ratio === undefined ? '-' : `${m.ratio}x`,
    ]),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column === 0 || column === 2
            ? cell.padEnd(widths[column] ?? 0)
            : cell.padStart(widths[column] ?? 0),
        )
        .join('  '),
    )
    .join('\n');
}

/** The parts named on the command line, or all of them. */
function partsToRun(): Set<(typeof PARTS)[number]> {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !(PARTS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(`unknown bench part ${unknown.join(', ')}; known: ${PARTS.join(', ')}`);
  }
  return new Set(names.length === 0 ? PARTS : (names as (typeof PARTS)[number][]));
}

function roundedMetric(figure: {
  value: number;
  unit: string;
  baseline?: number;
  baselineUnavailable?: string;
}): Metric {
  if (figure.baseline !== undefined) return metric(figure.value, figure.unit, figure.baseline);
  return {
    value: Math.round(figure.value * 100) / 100,
    unit: figure.unit,
    ...(figure.baselineUnavailable === undefined
      ? {}
      : { baselineUnavailable: figure.baselineUnavailable }),
  };
}

async function main(): Promise<void> {
  const began = performance.now();
  const parts = partsToRun();
  await mkdir(RESULTS_DIR, { recursive: true });
  ensureServerBuilt();
  const tmp = await mkdtemp(join(tmpdir(), 'studio-bench-'));
  // Local workspaces run as an unprivileged user, who must pass through to the data dirs here.
  await chmod(tmp, 0o711);
  try {
    let metrics: Record<string, Metric> = {};
    if (parts.has('server')) {
      const baselineScript = await buildBaseline();
      const product = await measureProduct(tmp);
      const baseline = await measureBaseline(baselineScript);
      metrics = toMetrics(product, baseline);
    }
    if (
      (['workspaces', 'ide', 'agent', 'replicas', 'lsp', 'desktop', 'kubernetes'] as const).some(
        (part) => parts.has(part),
      )
    ) {
      log('building the workspace daemon');
      spawnSync('npm', ['run', '--silent', 'build', '-w', '@studio/daemon'], {
        cwd: ROOT,
        stdio: ['ignore', 2, 2],
      });
    }
    if (parts.has('workspaces')) {
      const workspaces = await measureWorkspaces(
        tmp,
        SERVER_MAIN,
        join(ROOT, 'packages/daemon/dist/runtime'),
      );
      for (const [name, figure] of Object.entries(workspaces))
        metrics[name] = roundedMetric(figure);
    }
    if (parts.has('ide')) {
      ensureWebBuilt();
      const ide = await measureIde(tmp, SERVER_MAIN);
      for (const [name, figure] of Object.entries(ide)) metrics[name] = roundedMetric(figure);
    }
    if (parts.has('agent')) {
      const agent = await measureAgent(tmp, SERVER_MAIN);
      for (const [name, figure] of Object.entries(agent)) metrics[name] = roundedMetric(figure);
    }
    if (parts.has('replicas')) {
      const replicas = await measureReplicas(tmp, SERVER_MAIN);
      for (const [name, figure] of Object.entries(replicas)) metrics[name] = roundedMetric(figure);
    }
    if (parts.has('lsp')) {
      const lsp = await measureLsp(tmp, SERVER_MAIN);
      for (const [name, figure] of Object.entries(lsp)) metrics[name] = roundedMetric(figure);
    }
    if (parts.has('roles')) {
      const roles = await measureRoles(tmp, SERVER_MAIN);
      for (const [name, figure] of Object.entries(roles)) metrics[name] = roundedMetric(figure);
    }
    if (parts.has('backup')) {
      const backup = await measureBackup(tmp, SERVER_MAIN);
      for (const [name, figure] of Object.entries(backup)) metrics[name] = roundedMetric(figure);
    }
    if (parts.has('collab')) {
      const collab = await measureCollab(tmp, SERVER_MAIN);
      for (const [name, figure] of Object.entries(collab)) metrics[name] = roundedMetric(figure);
    }
    if (parts.has('cli')) {
      const cli = await measureCli(tmp, SERVER_MAIN);
      for (const [name, figure] of Object.entries(cli)) metrics[name] = roundedMetric(figure);
    }
    if (parts.has('pool')) {
      const pool = await measurePool(tmp, SERVER_MAIN);
      for (const [name, figure] of Object.entries(pool)) metrics[name] = roundedMetric(figure);
    }
    if (parts.has('desktop')) {
      const desktop = await measureDesktop(
        tmp,
        SERVER_MAIN,
        join(ROOT, 'packages/daemon/dist/runtime'),
      );
      for (const [name, figure] of Object.entries(desktop)) metrics[name] = roundedMetric(figure);
    }
    if (parts.has('kubernetes')) {
      const kubernetes = await measureKubernetes(join(ROOT, 'packages/daemon/dist/runtime'), log);
      for (const [name, figure] of Object.entries(kubernetes))
        metrics[name] = roundedMetric(figure);
    }
    const path = join(RESULTS_DIR, 'latest.json');
    await writeFile(path, `${JSON.stringify(metrics, null, 2)}\n`);
    process.stdout.write(`${formatTable(metrics)}\n`);
    const unavailable = Object.entries(metrics).filter(([, m]) => m.baselineUnavailable);
    for (const [name, m] of unavailable)
      log(`${name}: baseline unavailable: ${m.baselineUnavailable}`);
    // A part the person named must be a result: a missing baseline is a failure, not a row.
    if (unavailable.length > 0 && process.argv.length > 2) {
      log(
        `failed: ${unavailable.length} rows have no baseline (first: ${unavailable[0]![1].baselineUnavailable})`,
      );
      process.exitCode = 1;
    }
    log(`wrote ${path} in ${Math.round((performance.now() - began) / 1000)} s`);
  } finally {
    await stopAll();
    await rm(tmp, { recursive: true, force: true });
  }
}

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void stopAll().finally(() => process.exit(128 + constants.signals[signal]));
  });
}

try {
  await main();
} catch (error) {
  log(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
