// Runs the built server (apps/server/dist/main.js) as a real process, the way `npm start` does.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { openWhenReady } from './chromium.ts';

/** The built server's entry point. */
export const SERVER_MAIN = fileURLToPath(
  new URL('../../apps/server/dist/main.js', import.meta.url),
);

/** A running server process. */
export interface ServerProcess {
  child: ChildProcess;
  origin: string;
  dataDir: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Starts the server on a free port with a fresh data dir and waits for /readyz. */
export async function startServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort();
  const dataDir = env.STUDIO_DATA_DIR ?? (await mkdtemp(join(tmpdir(), 'studio-e2e-')));
  const origin = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: {
      ...process.env,
      PORT: String(port),
      STUDIO_DATA_DIR: dataDir,
      STUDIO_PUBLIC_URL: origin,
      // Each file's server would otherwise rebuild an image whose recipe a commit changed, beside
      // the tests (and twice, with a test that creates it); the test of that sets it.
      STUDIO_REBUILD_OUTDATED_IMAGES: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const server: ServerProcess = {
    child,
    origin,
    dataDir,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      await reapLocalWorkspaces(dataDir);
      return code;
    },
  };
  // A first start initialises the embedded PostgreSQL (PGlite): ~8 s idle, far more on a busy CI.
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    const ready = await fetch(`${origin}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return server;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await server.stop();
  throw new Error(`server did not become ready:\n${output}`);
}

/**
 * Local workspaces outlive their server on purpose; a test server's must not outlive the test.
 * Stops (by PID) every process started with this data dir in its command line, then unmounts
 * the workspace disks mounted under it.
 */
export async function reapLocalWorkspaces(dataDir: string): Promise<void> {
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const commandLine = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.includes(dataDir)) {
      try {
        process.kill(Number(entry), 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
  const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  for (const line of mounts.split('\n')) {
    const target = line.split(' ')[1];
    if (target?.startsWith(`${dataDir}/`)) spawnSync('umount', ['-l', target], { stdio: 'ignore' });
  }
}

/** The one-time setup link the server printed. */
/** Creates the first admin through the setup link, as a new user does, and waits for the dashboard. */
export async function setUpAdmin(
  page: Page,
  server: ServerProcess,
  admin: { name: string; email: string; password: string },
): Promise<void> {
  await page.goto(setupLink(server));
  await page.getByLabel('Name').fill(admin.name);
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await page.getByRole('heading', { name: 'Workspaces', exact: true }).waitFor();
}

/** Signs in on the sign-in page, as a person does, and waits for the dashboard. */
export async function signInPage(
  page: Page,
  server: ServerProcess,
  email: string,
  password: string,
): Promise<void> {
  // (Often right after workspaces came or went: see openWhenReady.)
  await openWhenReady(page, `${server.origin}/`, page.getByLabel('Email'));
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workspaces', exact: true }).waitFor();
}

export function setupLink(server: ServerProcess): string {
  const match = /(http\S+\/setup\?token=[\w-]+)/.exec(server.output());
  if (!match) throw new Error(`no setup link in the output:\n${server.output()}`);
  return match[1]!;
}
