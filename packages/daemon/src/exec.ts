import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { DaemonParsedParams } from '@studio/protocol';
import { CHANNEL } from '@studio/protocol';
import { DaemonFailure } from './errors.ts';
import { resolveInRoot } from './paths.ts';
import type { OutStream } from './streams.ts';

/** Default `exec.start` timeout: long enough for a build, short enough that a hung tool is reaped. */
export const DEFAULT_EXEC_TIMEOUT_MS = 10 * 60_000;
/** Default output cap: an agent cannot use more, and the server should not have to hold more. */
export const DEFAULT_EXEC_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
// After the process exits, wait this long for its pipes to close; a background grandchild that
// inherited them would otherwise keep the stream open forever.
const PIPE_GRACE_MS = 1000;

/** Settings `exec.start` gets from the daemon's configuration. */
export interface ExecOptions {
  root: string;
  env: NodeJS.ProcessEnv;
  /** Running commands, so the daemon can kill them on shutdown. */
  running: Set<ChildProcess>;
}

/**
 * Run a command on a stream: stdout on channel 0, stderr on channel 1, stdin from the client.
 * It runs in its own process group so a kill, a timeout or a cancel reaches everything it started.
 * A command that cannot be started ends with exit code 127 and the reason on stderr, like a shell.
 */
export async function startExec(
  params: DaemonParsedParams<'exec.start'>,
  stream: OutStream,
  options: ExecOptions,
): Promise<void> {
  const cwd = await resolveInRoot(options.root, params.cwd ?? '.');
  if (!(await stat(cwd)).isDirectory()) {
    throw new DaemonFailure('not_a_directory', `"${params.cwd}" is not a directory`);
  }
  const maxOutput = params.maxOutputBytes ?? DEFAULT_EXEC_MAX_OUTPUT_BYTES;
  const child = spawn(params.command, params.args, {
    cwd,
    env: { ...options.env, ...params.env },
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  options.running.add(child);
  let forwarded = 0;
  let truncated = false;
  let timedOut = false;
  let spawnError: NodeJS.ErrnoException | null = null;
  let exit: { code: number | null; signal: string | null } | null = null;
  let done = false;

  const killGroup = () => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // The group is already gone.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, params.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
  timer.unref();

  const forward = (channel: number) => (chunk: Buffer) => {
    if (truncated) return;
    const room = maxOutput - forwarded;
    if (chunk.byteLength >= room) {
      // Past the cap the output is read and dropped, so the process is never blocked by it.
      truncated = true;
      stream.write(chunk.subarray(0, room), channel);
      forwarded = maxOutput;
      child.stdout?.resume();
      child.stderr?.resume();
      return;
    }
    forwarded += chunk.byteLength;
    stream.write(chunk, channel);
  };
  child.stdout!.on('data', forward(CHANNEL.data));
  child.stderr!.on('data', forward(CHANNEL.stderr));
  // stdin errors (EPIPE from a command that does not read its input) are not the command's result.
  child.stdin!.on('error', () => undefined);

  let graceTimer: NodeJS.Timeout | null = null;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (graceTimer) clearTimeout(graceTimer);
    options.running.delete(child);
    if (spawnError) {
      const message =
        spawnError.code === 'ENOENT'
          ? `${params.command}: command not found\n`
          : `${params.command}: cannot run (${spawnError.code ?? spawnError.message})\n`;
      stream.write(Buffer.from(message), CHANNEL.stderr);
      exit = { code: spawnError.code === 'ENOENT' ? 127 : 126, signal: null };
    }
    stream.event({
      kind: 'exit',
      code: exit?.code ?? null,
      signal: exit?.signal ?? null,
      timedOut,
      truncated,
    });
    stream.end();
  };
  const armGrace = () => {
    if (graceTimer) clearTimeout(graceTimer);
    graceTimer = setTimeout(() => {
      if (stream.isBlocked) return armGrace();
      child.stdout?.destroy();
      child.stderr?.destroy();
      finish();
    }, PIPE_GRACE_MS);
    graceTimer.unref();
  };
  child.on('error', (error: NodeJS.ErrnoException) => {
    spawnError = error;
    if (child.pid === undefined) finish();
  });
  child.on('exit', (code, signal) => {
    exit = { code, signal };
    armGrace();
  });
  child.on('close', finish);

  stream.handlers = {
    onInput: (payload) => {
      if (!child.stdin!.writable) return;
      if (!child.stdin!.write(payload)) stream.holdInputUntilDrain(child.stdin!);
    },
    onClientEnd: () => child.stdin!.end(),
    onCancel: () => {
      killGroup();
      done = true;
      clearTimeout(timer);
      options.running.delete(child);
    },
    onBlocked: (blocked) => {
      if (truncated) return;
      if (blocked) {
        child.stdout!.pause();
        child.stderr!.pause();
      } else {
        child.stdout!.resume();
        child.stderr!.resume();
      }
    },
  };
}

/** Kill a running command's whole process group. */
export function killExec(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
