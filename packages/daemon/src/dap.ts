import { execFile, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DebugAdapter } from '@studio/protocol';
import { DaemonFailure } from './errors.ts';
import type { DaemonState } from './methods.ts';
import { resolveInRoot } from './paths.ts';
import { allOnPath, joinServer, onPath } from './stdio-server.ts';
import type { OutStream } from './streams.ts';

type State = Pick<DaemonState, 'root' | 'env' | 'running'>;
type Start = (stream: OutStream, state: State, cwd: string) => Promise<void>;

/** A Python that can import debugpy: the workspace's own first, then Debian's. */
async function pythonWithDebugpy(env: NodeJS.ProcessEnv): Promise<string | null> {
  const candidates = [...(await allOnPath(['python3'], env.PATH)), '/usr/bin/python3'];
  for (const python of new Set(candidates)) {
    const ok = await promisify(execFile)(python, ['-c', 'import debugpy'], { env, timeout: 10_000 })
      .then(() => true)
      .catch(() => false);
    if (ok) return python;
  }
  return null;
}

/** debugpy's adapter speaks DAP on its stdio; it starts the program being debugged itself. */
const startDebugpy: Start = async (stream, state, cwd) => {
  const python = await pythonWithDebugpy(state.env);
  if (!python)
    throw new DaemonFailure(
      'not_found',
      'No debugpy in this workspace. Install it (apt-get install python3-debugpy, or pip install debugpy) and start again.',
    );
  const child = spawn(python, ['-m', 'debugpy.adapter'], {
    cwd,
    env: state.env,
    stdio: 'pipe',
  });
  joinServer(child, stream, state, 'The Python debugger (debugpy)');
};

/** Delve serves DAP on a TCP port it picks and names on stdout; the stream joins that socket. */
const startDelve: Start = async (stream, state, cwd) => {
  const dlv = await onPath(['dlv'], state.env.PATH);
  if (!dlv)
    throw new DaemonFailure(
      'not_found',
      'No Go debugger (Delve) in this workspace. Install it (apt-get install delve, or go install github.com/go-delve/delve/cmd/dlv@latest) and start again.',
    );
  const child = spawn(dlv, ['dap', '--listen=127.0.0.1:0'], {
    cwd,
    env: state.env,
    stdio: 'pipe',
  });
  const port = await new Promise<number>((resolve, reject) => {
    let said = '';
    const timer = setTimeout(() => fail('Delve did not say where it listens within 10 s'), 10_000);
    const fail = (message: string) => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      reject(new DaemonFailure('unavailable', message));
    };
    child.stdout.on('data', function onData(chunk: Buffer) {
      said += chunk.toString();
      const match = /listening at: \S*:(\d+)/.exec(said);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve(Number(match[1]));
    });
    child.on('error', (error) => fail(error.message));
    child.on('exit', (code) =>
      fail(`Delve stopped before listening (exit code ${code}): ${said.trim()}`),
    );
  });
  // Whatever Delve prints from now on is the program's output, which it also sends over DAP.
  child.stdout.resume();
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (error) => reject(new DaemonFailure('unavailable', error.message)));
  });
  socket.on('close', () => child.kill('SIGTERM'));
  joinServer(child, stream, state, 'The Go debugger (Delve)', socket);
};

/**
 * Our own adapter over the V8 inspector (`node-debug/`), bundled beside the daemon and run on the
 * daemon's Node; it runs the program with the workspace's `node` when there is one.
 */
const startNode: Start = async (stream, state, cwd) => {
  const adapter = path.join(path.dirname(process.argv[1] ?? ''), 'node-debug.mjs');
  if (!(await stat(adapter).catch(() => null)))
    throw new DaemonFailure('unavailable', `The Node.js debug adapter is missing (${adapter}).`);
  const child = spawn(process.execPath, [adapter], { cwd, env: state.env, stdio: 'pipe' });
  joinServer(child, stream, state, 'The Node.js debugger');
};

const ADAPTERS: Record<DebugAdapter, Start> = {
  python: startDebugpy,
  go: startDelve,
  node: startNode,
};

/**
 * Starts the debug adapter for `adapter` in the home folder and joins it to `stream` (the Debug
 * Adapter Protocol's Content-Length framing passes through untouched). A missing adapter is
 * `not_found`, saying how to install one.
 */
export async function startDebugAdapter(
  { adapter, cwd = '.' }: { adapter: DebugAdapter; cwd?: string | undefined },
  stream: OutStream,
  state: State,
): Promise<void> {
  const folder = await resolveInRoot(state.root, cwd);
  if (!(await stat(folder)).isDirectory())
    throw new DaemonFailure('not_a_directory', `"${cwd}" is not a folder`);
  return ADAPTERS[adapter](stream, state, folder);
}
