// The warm pool for `npm run bench -- pool` (Docker): create → the daemon answers an exec, served
// from a template's warm pool and without one, each beside `docker run --rm IMAGE true` in the
// same run; how many of 10 creates in a row the pool served, and how long it took to refill.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { percentile, spawnServer, stopServer, waitForAdmin, waitForReady } from './processes.ts';
import { apiFor } from './workspaces.ts';

export interface PoolMetric {
  value: number;
  unit: string;
  baseline?: number;
}

const ADMIN = { email: 'bench-pool@example.com', password: 'bench-password-0123' };
const IMAGE = 'studio/base:1';
const POOL = 10;
const COLD = 5;

function log(message: string): void {
  process.stderr.write(`bench: pool: ${message}\n`);
}

interface PoolState {
  template: string;
  size: number;
  ready: number;
  warming: number;
}

export async function measurePool(
  tmp: string,
  serverMain: string,
): Promise<Record<string, PoolMetric>> {
  if (spawnSync('docker', ['info'], { stdio: 'ignore' }).status !== 0) {
    log('skipped: no Docker Engine answers');
    return {};
  }
  const server = await spawnServer(serverMain, {
    STUDIO_DATA_DIR: await mkdtemp(join(tmp, 'pool-')),
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_RUNTIME: 'docker',
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
  });
  const names: string[] = [];
  try {
    await waitForReady(server);
    await waitForAdmin(server);
    const admin = await apiFor(server.url, ADMIN);
    const pools = async () =>
      (JSON.parse(await admin.call('GET', '/api/admin/warm-pools')) as PoolState[]).find(
        (pool) => pool.template === 'base',
      )!;
    /** POST, then an exec the daemon answers: the workspace is usable. */
    const createAndExec = async (name: string): Promise<{ ms: number; warm: boolean }> => {
      const began = performance.now();
      const created = JSON.parse(
        await admin.call('POST', '/api/workspaces', { name, template: 'base' }),
      ) as { status: string };
      names.push(name);
      for (;;) {
        const answer = await fetch(`${server.url}/api/workspaces/${name}/exec`, {
          method: 'POST',
          headers: { cookie: admin.cookie, origin: server.url, 'content-type': 'application/json' },
          body: JSON.stringify({ command: 'true' }),
        });
        const text = await answer.text();
        if (answer.status === 200 && text.includes('"exit"')) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return { ms: performance.now() - began, warm: created.status === 'running' };
    };

    // The image exists before anything is timed: the first create builds it when it must.
    await admin.createAndWait('pool-warmup', 'base');
    names.push('pool-warmup');
    const dockerRun: number[] = [];
    for (let run = 0; run < COLD; run++) {
      const began = performance.now();
      execFileSync('docker', ['run', '--rm', IMAGE, 'true'], { stdio: 'ignore' });
      dockerRun.push(performance.now() - began);
    }

    const cold: number[] = [];
    for (let run = 0; run < COLD; run++) cold.push((await createAndExec(`cold-${run}`)).ms);
    log(`no pool: create → exec p50 ${percentile(cold, 50).toFixed(0)} ms`);

    await admin.call('PUT', '/api/admin/templates/base/warm-pool', { size: POOL });
    const filled = async (what: string) => {
      const began = performance.now();
      for (let i = 0; ; i++) {
        const pool = await pools();
        if (pool.ready >= POOL) return performance.now() - began;
        if (i > 6000) throw new Error(`the pool did not fill (${what}): ${JSON.stringify(pool)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    log(`filling a pool of ${POOL} in ${((await filled('first')) / 1000).toFixed(1)} s`);

    const warm: number[] = [];
    let served = 0;
    for (let run = 0; run < POOL; run++) {
      const result = await createAndExec(`warm-${run}`);
      warm.push(result.ms);
      if (result.warm) served++;
    }
    const refillMs = await filled('refill');
    log(
      `pool: create → exec p50 ${percentile(warm, 50).toFixed(0)} ms, ${served} of ${POOL} from the pool, refilled in ${(refillMs / 1000).toFixed(1)} s; docker run --rm p50 ${percentile(dockerRun, 50).toFixed(0)} ms`,
    );
    // Nothing outlives the run: the pool emptied, every workspace deleted.
    await admin.call('PUT', '/api/admin/templates/base/warm-pool', { size: 0 });
    for (let i = 0; i < 600; i++) {
      const pool = await pools();
      if (pool.ready + pool.warming === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const name of names) await admin.call('DELETE', `/api/workspaces/${name}`).catch(() => '');
    await admin.waitGone(names).catch(() => {});
    return {
      pool_create_exec_p50_ms: {
        value: percentile(warm, 50),
        unit: 'ms',
        baseline: percentile(dockerRun, 50),
      },
      no_pool_create_exec_p50_ms: {
        value: percentile(cold, 50),
        unit: 'ms',
        baseline: percentile(dockerRun, 50),
      },
      pool_served_of_10: { value: served, unit: 'creates' },
      pool_refill_s: { value: refillMs / 1000, unit: 's' },
    };
  } finally {
    await stopServer(server.child);
  }
}
