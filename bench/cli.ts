// The `studio` command as a person runs it from a shell, timed whole (Node's start, loading the
// command, the request): `studio whoami` beside a bare `node -e ''`, and `studio ws create` (which
// waits until the workspace runs) beside the API's own create → running on the same server.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, spawnServer, stopServer, waitForAdmin, waitForReady } from './processes.ts';
import { apiFor } from './workspaces.ts';

export interface CliMetric {
  value: number;
  unit: string;
  baseline?: number;
}

const ADMIN = { email: 'bench-cli@example.com', password: 'bench-password-0123' };
const STUDIO = fileURLToPath(new URL('../apps/cli/bin/studio.mjs', import.meta.url));
const RUNS = 10;
const CREATES = 5;

function log(message: string): void {
  process.stderr.write(`bench: cli: ${message}\n`);
}

/** Milliseconds `node args…` takes from spawn to exit; throws when it fails. */
function timed(args: string[], env: NodeJS.ProcessEnv): number {
  const began = performance.now();
  const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const took = performance.now() - began;
  if (result.status !== 0) throw new Error(`${args.join(' ')}: ${result.stderr.toString()}`);
  return took;
}

export async function measureCli(
  tmp: string,
  serverMain: string,
): Promise<Record<string, CliMetric>> {
  const driver =
    spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0 ? 'docker' : 'local';
  const server = await spawnServer(serverMain, {
    STUDIO_DATA_DIR: await mkdtemp(join(tmp, 'cli-')),
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_RUNTIME: driver,
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
  });
  const names: string[] = [];
  try {
    await waitForReady(server);
    await waitForAdmin(server);
    const admin = await apiFor(server.url, ADMIN);
    const env = { ...process.env, STUDIO_CONFIG_DIR: await mkdtemp(join(tmp, 'cli-config-')) };
    execFileSync(
      process.execPath,
      [STUDIO, 'login', server.url, '--email', ADMIN.email, '--password-stdin'],
      { env, input: ADMIN.password, stdio: ['pipe', 'ignore', 'inherit'] },
    );

    // One of each first: files read for the first time are not what a person's next run pays.
    timed(['-e', ''], env);
    timed([STUDIO, 'whoami'], env);
    const bare: number[] = [];
    const whoami: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      bare.push(timed(['-e', ''], env));
      whoami.push(timed([STUDIO, 'whoami'], env));
    }
    log(
      `studio whoami p50 ${percentile(whoami, 50).toFixed(0)} ms; node -e '' ${percentile(bare, 50).toFixed(0)} ms`,
    );

    log(`${CREATES} ${driver} workspaces each way: studio ws create, then the API`);
    const cli: number[] = [];
    const api: number[] = [];
    for (let run = 0; run < CREATES; run++) {
      names.push(`cli-${run}`, `api-${run}`);
      cli.push(timed([STUDIO, 'ws', 'create', `cli-${run}`], env));
      api.push(await admin.createAndWait(`api-${run}`));
    }
    log(
      `studio ws create p50 ${percentile(cli, 50).toFixed(0)} ms; API ${percentile(api, 50).toFixed(0)} ms`,
    );
    for (const name of names) await admin.call('DELETE', `/api/workspaces/${name}`).catch(() => '');
    await admin.waitGone(names).catch(() => {});
    return {
      cli_whoami_p50_ms: {
        value: percentile(whoami, 50),
        unit: 'ms',
        baseline: percentile(bare, 50),
      },
      [`cli_ws_create_${driver}_p50_ms`]: {
        value: percentile(cli, 50),
        unit: 'ms',
        baseline: percentile(api, 50),
      },
    };
  } finally {
    await stopServer(server.child);
  }
}
