import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import type { Socket } from 'node:net';
import path from 'node:path';
import type { DaemonState } from './methods.ts';
import type { OutStream } from './streams.ts';

/** Every executable called one of `names` on `searchPath`, in the order a shell would try them. */
export async function allOnPath(names: string[], searchPath = ''): Promise<string[]> {
  const found: string[] = [];
  for (const name of names)
    for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
      const candidate = path.join(dir, name);
      if (
        await access(candidate, constants.X_OK).then(
          () => true,
          () => false,
        )
      )
        found.push(candidate);
    }
  return found;
}

/** The first of `names` that is an executable on `searchPath`. */
export async function onPath(names: string[], searchPath = ''): Promise<string | null> {
  return (await allOnPath(names, searchPath))[0] ?? null;
}

/**
 * Joins a server speaking on `io` (its stdout and stdin, or a socket it listens on) to `stream`,
 * bytes passed through untouched both ways with the stream's flow control. When `child` dies the
 * stream ends, with its last line of stderr unless it ended cleanly; cancelling the stream stops it.
 */
export function joinServer(
  child: ChildProcessWithoutNullStreams,
  stream: OutStream,
  state: Pick<DaemonState, 'running'>,
  label: string,
  io: { output: NodeJS.ReadableStream; input: NodeJS.WritableStream } | Socket = {
    output: child.stdout,
    input: child.stdin,
  },
): void {
  const output = 'output' in io ? io.output : io;
  const input = 'input' in io ? io.input : io;
  state.running.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  output.on('data', (chunk: Buffer) => {
    if (!stream.write(chunk)) output.pause();
  });
  child.on('error', (error) => stream.end({ code: 'unavailable', message: error.message }));
  child.on('exit', (code, signal) => {
    state.running.delete(child);
    if (code === 0 || signal === 'SIGTERM') return stream.end();
    const last = stderr.trim().split('\n').at(-1) ?? '';
    stream.end({
      code: 'unavailable',
      message: `${label} stopped (${signal ?? `exit code ${code}`})${last ? `: ${last}` : ''}`,
    });
  });
  stream.handlers = {
    onInput: (payload) => {
      if (!input.write(Buffer.from(payload))) stream.holdInputUntilDrain(input);
    },
    onClientEnd: () => input.end(),
    onCancel: () => child.kill('SIGTERM'),
    onBlocked: (blocked) => (blocked ? output.pause() : output.resume()),
  };
}
