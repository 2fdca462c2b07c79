import { once } from 'node:events';
import { constants } from 'node:os';
import { execEventSchema, type ExecBody, type ExecEvent } from '@studio/protocol';
import { withLoginHint, type OutputFlags } from './connection.ts';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';
import { readNdjson } from './ndjson.ts';
import { openSession, workspacePath } from './workspaces.ts';

// The server refuses more (execBodySchema); saying so here beats a bare 413.
const MAX_STDIN_BYTES = 1024 * 1024;

/** What a command's end means as an exit code, the way a shell reports it. */
export function exitCodeOf(event: Extract<ExecEvent, { type: 'exit' }>): number {
  // 124 is what coreutils `timeout` exits with, so scripts can tell a timeout from a failure.
  if (event.timedOut) return 124;
  if (event.code !== null) return event.code;
  if (event.signal !== null) return 128 + signalNumber(event.signal);
  return 1;
}

/** A signal name (`SIGKILL`) or number (`9`) as its number; unknown names count as 0. */
export function signalNumber(signal: string): number {
  if (/^\d+$/.test(signal)) return Number(signal);
  return constants.signals[signal as NodeJS.Signals] ?? 0;
}

/**
 * `studio ws exec NAME -- CMD [ARGS…]`: run a command in the workspace, streaming its output as
 * it arrives; resolves to the command's exit code. Standard input is forwarded when it is a pipe
 * or file (read to the end first), never when it is a terminal.
 */
export async function execInWorkspace(
  name: string,
  argv: string[],
  flags: OutputFlags,
  ctx: CliContext,
): Promise<number> {
  const [command, ...args] = argv;
  if (!command) {
    throw new CliError(
      'bad_option',
      'give the command after --, e.g. `studio ws exec NAME -- ls -la`',
    );
  }
  const { connection, api, auth } = await openSession(flags, ctx);
  const body: ExecBody = { command, args };
  if (!ctx.stdin.isTTY) body.stdin = await readStdin(ctx.stdin);
  const response = await withLoginHint(connection, () =>
    api.stream(workspacePath(name, '/exec'), { method: 'POST', auth, body }),
  );
  let exit: number | null = null;
  for await (const event of readNdjson(response, execEventSchema, 'the command output')) {
    switch (event.type) {
      case 'stdout':
        await write(ctx.stdout, event.data);
        break;
      case 'stderr':
        await write(ctx.stderr, event.data);
        break;
      case 'exit':
        if (event.truncated) {
          ctx.stderr.write('studio: the server cut the output short (too much output)\n');
        }
        if (event.timedOut) ctx.stderr.write('studio: the command timed out\n');
        exit = exitCodeOf(event);
        break;
      case 'error':
        throw new CliError('command_failed', `${event.message} (${event.code})`);
    }
  }
  if (exit === null) {
    throw new CliError(
      'command_failed',
      'the server ended the command output without an exit status',
    );
  }
  return exit;
}

/** Writes and waits for the stream to drain, so a slow reader slows the command instead of filling memory. */
async function write(stream: NodeJS.WritableStream, data: string): Promise<void> {
  if (!stream.write(data)) await once(stream, 'drain');
}

async function readStdin(stdin: CliContext['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.byteLength;
    if (size > MAX_STDIN_BYTES) {
      throw new CliError(
        'bad_option',
        'standard input is larger than 1 MiB; copy big files into the workspace another way',
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
