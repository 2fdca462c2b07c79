import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';
import { resolveServerEnv, type StartFlags } from './options.ts';

/** The built server entry point, next to this package in the repo. */
export const SERVER_MAIN = fileURLToPath(new URL('../../server/dist/main.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** `studio start`: runs the server in the foreground, building it first if needed; resolves to the exit code. */
export async function start(flags: StartFlags, ctx: CliContext): Promise<number> {
  const serverEnv = resolveServerEnv(flags, ctx.env);
  await ensureServerBuilt(ctx);
  // The server gets its own process group: a terminal's Ctrl-C then reaches only this process,
  // which forwards it once. In one shared group the server would see SIGINT twice, which
  // servers commonly read as "force quit now".
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: { ...ctx.env, ...serverEnv },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  // Should this process die of a bug, do not leave a detached server behind.
  const killOnExit = () => child.kill('SIGTERM');
  process.on('exit', killOnExit);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(exitCode(code, signal)));
    });
  } finally {
    for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    process.off('exit', killOnExit);
  }
}

/** Builds the server (`npm run build`) when its bundle is missing. */
export async function ensureServerBuilt(ctx: CliContext): Promise<void> {
  if (existsSync(SERVER_MAIN)) return;
  ctx.stderr.write('studio: apps/server/dist/main.js is missing; building (npm run build)…\n');
  // Build output goes to stderr so stdout carries only the server's own output.
  const code = await run('npm', ['run', 'build'], REPO_ROOT, ctx.env, ['ignore', 2, 2]);
  if (code !== 0 || !existsSync(SERVER_MAIN)) {
    throw new CliError('build_failed', `building the server failed (exit code ${code})`);
  }
}

/** A child's exit as a shell would report it: its code, or 128 + signal number. */
function exitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? constants.signals[signal] : 0);
}

function run(
  command: string,
  args: string[],
  cwd: string,
  env: CliContext['env'],
  stdio: ['ignore', number, number],
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(exitCode(code, signal)));
  });
}
