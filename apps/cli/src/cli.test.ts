// Runs the real `studio` binary as a subprocess against a real server built from apps/server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_MAIN } from './start.ts';

const BIN = fileURLToPath(new URL('../bin/studio.mjs', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ADMIN = { email: 'admin@example.com', password: 'correct horse battery' };

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let tmp: string;
let server: ChildProcess | undefined;
let url: string;

/** Runs `studio ...` with its own config directory and nothing inherited that could change its answers. */
function studio(
  args: string[],
  options: { configDir: string; input?: string; env?: Record<string, string> },
) {
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        STUDIO_CONFIG_DIR: options.configDir,
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** Keeps the tail of a child's stderr, to show when it fails instead of flooding the test output. */
function stderrTail(child: ChildProcess): () => string {
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-4_000)));
  return () => tail;
}

async function waitForReady(base: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const output = stderrTail(child);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    }
    const ok = await fetch(`${base}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${base}/readyz not ready within ${timeoutMs} ms:\n${output()}`);
}

/** The token the password login saved (tests below build on it). */
async function savedToken(): Promise<string> {
  const text = await readFile(join(tmp, 'password-login', 'credentials.json'), 'utf8');
  return (JSON.parse(text) as { token: string }).token;
}

function serverEnv(dataDir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    HOST: '127.0.0.1',
    STUDIO_DATA_DIR: dataDir,
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    // The local driver (bubblewrap and cgroups when run as root) needs no container engine.
    STUDIO_RUNTIME: 'local',
  };
}

function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'studio-cli-e2e-'));
  // Run as root, the local driver runs workspaces as an unprivileged user, who must be able to
  // pass through every folder above its workspaces; mkdtemp makes `tmp` 0700. (The server
  // opens its own data dir to traversal.)
  await chmod(tmp, 0o711);
  if (!existsSync(SERVER_MAIN)) {
    const build = spawnSync('npm', ['run', 'build', '-w', '@studio/server'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    if (build.status !== 0) throw new Error('building @studio/server failed');
  }
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, [SERVER_MAIN], {
    env: { ...serverEnv(join(tmp, 'data')), PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await waitForReady(url, server);
}, 240_000);

afterAll(async () => {
  await stopProcess(server);
  await rm(tmp, { recursive: true, force: true });
});

describe('studio CLI against a real server', () => {
  it('prints its version', async () => {
    const result = await studio(['--version'], { configDir: join(tmp, 'unused') });
    expect(result).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });

  it('logs in with a password from stdin and saves a token only the user can read', async () => {
    const configDir = join(tmp, 'password-login');
    const result = await studio(['login', url, '--email', ADMIN.email, '--password-stdin'], {
      configDir,
      input: `${ADMIN.password}\n`,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Logged in to ${url} as ${ADMIN.email} (admin)`);
    expect((await stat(join(configDir, 'credentials.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(configDir)).mode & 0o777).toBe(0o700);

    const whoami = await studio(['whoami'], { configDir });
    expect(whoami).toMatchObject({ code: 0, stdout: `${ADMIN.email} (admin) at ${url}\n` });

    const json = await studio(['whoami', '--json'], { configDir });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      url,
      user: { email: ADMIN.email, role: 'admin' },
      via: 'token',
    });
  });

  it('lists the token it created, as a table and as JSON', async () => {
    const configDir = join(tmp, 'password-login');
    const table = await studio(['tokens', 'list'], { configDir });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+PREFIX\s+CREATED\s+LAST USED\s+EXPIRES\n/);
    expect(table.stdout).toContain(`studio CLI on ${hostname()}`);

    const json = await studio(['tokens', 'list', '--json'], { configDir });
    expect(json.code).toBe(0);
    const tokens = JSON.parse(json.stdout) as { name: string }[];
    expect(tokens.map((token) => token.name)).toContain(`studio CLI on ${hostname()}`);
  });

  it('logs in with an existing token', async () => {
    const configDir = join(tmp, 'token-login');
    const login = await studio(['login', `${url}/`, '--token', await savedToken()], { configDir });
    expect(login.code).toBe(0);
    const whoami = await studio(['whoami'], { configDir });
    expect(whoami.stdout).toBe(`${ADMIN.email} (admin) at ${url}\n`);
  });

  it('uses STUDIO_URL and STUDIO_TOKEN without a credentials file', async () => {
    const result = await studio(['whoami'], {
      configDir: join(tmp, 'env-only'),
      env: { STUDIO_URL: url, STUDIO_TOKEN: await savedToken() },
    });
    expect(result).toMatchObject({ code: 0, stdout: `${ADMIN.email} (admin) at ${url}\n` });
  });

  it('asks for the password at a terminal, without echoing it', async () => {
    const configDir = join(tmp, 'prompted-login');
    // `script` gives the CLI a real terminal and copies what it is given into it.
    const command = [process.execPath, BIN, 'login', url, '--email', ADMIN.email]
      .map((word) => `'${word}'`)
      .join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, STUDIO_CONFIG_DIR: configDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    for (const deadline = Date.now() + 10_000; !screen.includes('Password: ');) {
      if (Date.now() > deadline) throw new Error(`no prompt; the terminal shows ${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.stdin.write(`${ADMIN.password}\r`);
    expect(await exited).toBe(0);
    expect(screen).toContain(`Logged in to ${url} as ${ADMIN.email} (admin)`);
    expect(screen).not.toContain(ADMIN.password);
  });

  it('reports a wrong password with the server error code and keeps old credentials', async () => {
    const configDir = join(tmp, 'password-login');
    const result = await studio(['login', url, '--email', ADMIN.email, '--password-stdin'], {
      configDir,
      input: 'not the password',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .+ \(invalid_credentials\)\n$/);
    expect((await studio(['whoami'], { configDir })).code).toBe(0);
  });

  it('rejects an invalid token without saving it', async () => {
    const configDir = join(tmp, 'bad-token');
    const result = await studio(['login', url, '--token', 'not-a-real-token'], { configDir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .+ \(unauthenticated\)\n$/);
    expect(existsSync(join(configDir, 'credentials.json'))).toBe(false);
  });

  it('says so when not logged in', async () => {
    const result = await studio(['whoami'], { configDir: join(tmp, 'nobody') });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: not logged in; run `studio login URL` first\n');
  });

  it('says so when the server cannot be reached', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const result = await studio(['login', closed, '--token', 'x'], {
      configDir: join(tmp, 'unreachable'),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^error: cannot reach ${closed}: connect ECONNREFUSED`),
    );
  });

  it('starts a server with flags overriding the environment and stops it on SIGTERM', async () => {
    const [flagPort, envPort] = [await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [BIN, 'start', '--port', String(flagPort), '--data-dir', join(tmp, 'start-data')],
      {
        env: { ...serverEnv(join(tmp, 'env-data')), PORT: String(envPort) },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    try {
      await waitForReady(`http://127.0.0.1:${flagPort}`, child);
      expect(existsSync(join(tmp, 'start-data'))).toBe(true);
      expect(existsSync(join(tmp, 'env-data'))).toBe(false);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const stillUp = await fetch(`http://127.0.0.1:${flagPort}/readyz`).then(
        () => true,
        () => false,
      );
      expect(stillUp).toBe(false);
    } finally {
      await stopProcess(child);
    }
  }, 120_000);
});

describe('studio ws against a real server with the local driver', () => {
  it('creates a workspace, runs commands and a shell in it, stops, starts and deletes it', async () => {
    const configDir = join(tmp, 'workspaces');
    const run = (args: string[], input?: string) =>
      studio(args, { configDir, ...(input === undefined ? {} : { input }) });
    const login = await run(
      ['login', url, '--email', ADMIN.email, '--password-stdin'],
      ADMIN.password,
    );
    expect(login.code).toBe(0);

    const created = await run(['ws', 'create', 'demo', '--json']);
    // Progress steps (`demo: STEP (DETAIL)`) come only over the live events WebSocket.
    expect(created.stderr).toMatch(/^demo: \S+ \(.+\)$/m);
    expect(created.stderr).toContain('demo: running');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'demo', status: 'running' });

    const listed = await run(['ws', 'ls', '--json']);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((w) => w.name)).toEqual(['demo']);
    const table = await run(['ws', 'ls']);
    expect(table.stdout).toMatch(
      /^NAME\s+STATUS\s+TEMPLATE\s+ISOLATION\s+CREATED\ndemo\s+running\s+base\s/,
    );

    const failed = await run([
      'ws',
      'exec',
      'demo',
      '--',
      'sh',
      '-c',
      'echo hi; echo err >&2; exit 3',
    ]);
    expect(failed).toEqual({ code: 3, stdout: 'hi\n', stderr: 'err\n' });

    const piped = await run(['ws', 'exec', 'demo', '--', 'cat'], 'from stdin\n');
    expect(piped).toEqual({ code: 0, stdout: 'from stdin\n', stderr: '' });

    const wrote = await run(['ws', 'exec', 'demo', '--', 'sh', '-c', 'echo kept > file.txt']);
    expect(wrote).toMatchObject({ code: 0 });

    const shell = await run(['ws', 'shell', 'demo'], 'echo from-shell-$((6*7))\nexit 5\n');
    expect(shell.stdout).toContain('from-shell-42');
    expect(shell.code).toBe(5);

    const stopped = await run(['ws', 'stop', 'demo']);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toBe('Workspace demo is stopped.\n');
    const notRunning = await run(['ws', 'exec', 'demo', '--', 'true']);
    expect(notRunning.code).toBe(1);
    expect(notRunning.stderr).toMatch(/^error: .+ \(workspace_not_running\)\n$/);

    const started = await run(['ws', 'start', 'demo']);
    expect(started.code).toBe(0);
    expect(started.stdout).toBe('Workspace demo is running.\n');

    const kept = await run(['ws', 'exec', 'demo', '--', 'cat', 'file.txt']);
    expect(kept).toEqual({ code: 0, stdout: 'kept\n', stderr: '' });

    const refused = await run(['ws', 'rm', 'demo']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('without --yes');
    expect((await run(['ws', 'ls', '--json'])).stdout).toContain('"demo"');

    const removed = await run(['ws', 'rm', 'demo', '--yes']);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toBe('Workspace demo deleted.\n');

    const empty = await run(['ws', 'ls', '--json']);
    expect(JSON.parse(empty.stdout)).toEqual([]);

    const unknown = await run(['ws', 'exec', 'demo', '--', 'true']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: .*"demo".* \(not_found\)\n$/);
  }, 300_000);
});
