// Backup metrics for `npm run bench -- backup`: `studio backup` of a running server with 10
// workspaces of 100 MB each, timed whole (the CLI's start included), and the server writing its
// own backup of them (Back up now, until listed as finished), against `tar` of the same home
// folders in the same run. Docker when an engine answers (the homes are volumes; tar reads
// their folders on this machine), else the local driver.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServer, stopServer, waitForAdmin, waitForReady } from './processes.ts';
import { apiFor } from './workspaces.ts';

export interface BackupMetric {
  value: number;
  unit: string;
  baseline?: number;
}

const ADMIN = { email: 'bench-backup@example.com', password: 'bench-password-0123' };
const WORKSPACES = 10;
const MB_EACH = 100;
const STUDIO = fileURLToPath(new URL('../apps/cli/bin/studio.mjs', import.meta.url));

function log(message: string): void {
  process.stderr.write(`bench: backup: ${message}\n`);
}

function dockerAnswers(): boolean {
  return spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;
}

/** Where each workspace's home is on this machine, for the `tar` baseline. */
function homeFolder(driver: string, dataDir: string, id: string): string {
  if (driver === 'docker')
    return execFileSync(
      'docker',
      ['volume', 'inspect', '--format', '{{.Mountpoint}}', `studio-ws-${id}`],
      { encoding: 'utf8' },
    ).trim();
  return join(dataDir, 'workspaces', id, 'fs', 'home');
}

export async function measureBackup(
  tmp: string,
  serverMain: string,
): Promise<Record<string, BackupMetric>> {
  const driver = dockerAnswers() ? 'docker' : 'local';
  const dataDir = await mkdtemp(join(tmp, 'backup-'));
  const server = await spawnServer(serverMain, {
    STUDIO_DATA_DIR: dataDir,
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_RUNTIME: driver,
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
  });
  const names = Array.from({ length: WORKSPACES }, (_, i) => `backup-${i}`);
  const admin = await (async () => {
    await waitForReady(server);
    await waitForAdmin(server);
    return apiFor(server.url, ADMIN);
  })();
  try {
    log(`${WORKSPACES} ${driver} workspaces of ${MB_EACH} MB each`);
    const ids: string[] = [];
    for (const name of names) {
      await admin.createAndWait(name);
      ids.push(
        (JSON.parse(await admin.call('GET', `/api/workspaces/${name}`)) as { id: string }).id,
      );
      // Incompressible bytes, as a workspace's build outputs and dependencies mostly are.
      await admin.call('POST', `/api/workspaces/${name}/exec`, {
        command: 'sh',
        args: [
          '-c',
          `head -c ${MB_EACH}M /dev/urandom > blob && mkdir -p src && echo hi > src/a.txt`,
        ],
      });
    }
    const env = { ...process.env, STUDIO_CONFIG_DIR: await mkdtemp(join(tmp, 'backup-cli-')) };
    execFileSync(
      process.execPath,
      [STUDIO, 'login', server.url, '--email', ADMIN.email, '--password-stdin'],
      { env, input: ADMIN.password, stdio: ['pipe', 'ignore', 'inherit'] },
    );
    const runs: Array<{ studio: number; server: number; tar: number }> = [];
    for (let run = 0; run < 2; run++) {
      const into = await mkdtemp(join(tmp, 'backup-to-'));
      let began = performance.now();
      execFileSync(process.execPath, [STUDIO, 'backup', '--to', join(into, 'studio')], {
        env,
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      const studio = performance.now() - began;
      // The server writing its own backup (Admin → Backups → Back up now), asked to finish.
      began = performance.now();
      const { name } = JSON.parse(await admin.call('POST', '/api/admin/backups')) as {
        name: string;
      };
      for (;;) {
        const listed = JSON.parse(await admin.call('GET', '/api/admin/backups')) as {
          writing: boolean;
          backups: Array<{ name: string; state: string }>;
        };
        if (
          !listed.writing &&
          listed.backups.some((b) => b.name === name && b.state === 'finished')
        )
          break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const server = performance.now() - began;
      began = performance.now();
      for (const id of ids)
        execFileSync('tar', [
          '-C',
          homeFolder(driver, dataDir, id),
          '-cf',
          join(into, `${id}.tar`),
          '.',
        ]);
      const tar = performance.now() - began;
      runs.push({ studio, server, tar });
      log(
        `run ${run + 1}: studio backup ${studio.toFixed(0)} ms; the server's own ${server.toFixed(0)} ms; tar ${tar.toFixed(0)} ms`,
      );
      await rm(into, { recursive: true, force: true });
      await rm(join(dataDir, 'backups'), { recursive: true, force: true });
    }
    // The second run: all read warm page caches alike.
    const { studio, server: own, tar } = runs.at(-1)!;
    return {
      [`backup_${WORKSPACES}x${MB_EACH}mb_ms`]: { value: studio, unit: 'ms', baseline: tar },
      [`server_backup_${WORKSPACES}x${MB_EACH}mb_ms`]: { value: own, unit: 'ms', baseline: tar },
    };
  } finally {
    for (const name of names) await admin.call('DELETE', `/api/workspaces/${name}`).catch(() => '');
    await admin.waitGone(names).catch(() => {});
    await stopServer(server.child);
  }
}
