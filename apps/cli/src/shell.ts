import {
  terminalSchema,
  terminalServerMessageSchema,
  type CreateTerminalBody,
  type TerminalClientMessage,
} from '@studio/protocol';
import type WebSocket from 'ws';
import type { ApiClient } from './api-client.ts';
import { withLoginHint, type OutputFlags } from './connection.ts';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';
import { signalNumber } from './exec.ts';
import { openSession, workspacePath } from './workspaces.ts';

// Ctrl-D: what a terminal sends for end of input; the shell reads it as EOF at the start of a line.
const EOT = Buffer.from([4]);
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
// The terminal size when there is no terminal to measure (piped stdin and stdout).
const DEFAULT_SIZE = { cols: 80, rows: 24 };

/**
 * `studio ws shell NAME`: an interactive shell in the workspace over a terminal WebSocket;
 * resolves to the shell's exit code. With a piped stdin the input is sent as typed, then Ctrl-D.
 */
export async function shellInWorkspace(
  name: string,
  flags: OutputFlags,
  ctx: CliContext,
): Promise<number> {
  const { connection, api, auth } = await openSession(flags, ctx);
  const size = terminalSize(ctx);
  const body: CreateTerminalBody = size;
  const terminal = await withLoginHint(connection, () =>
    api.call(workspacePath(name, '/terminals'), terminalSchema, {
      method: 'POST',
      auth,
      body,
    }),
  );
  const terminalPath = workspacePath(name, `/terminals/${encodeURIComponent(terminal.id)}`);
  const socket = await api.openSocket(`${terminalPath}/attach`, auth);
  const outcome = await attach(socket, ctx, api);
  if (!outcome.exited) {
    // The shell outlives a dropped socket on the server; close it so it does not linger.
    await api.send(terminalPath, { method: 'DELETE', auth }).catch(() => undefined);
  }
  if (outcome.error) throw outcome.error;
  return outcome.code;
}

interface Outcome {
  /** Whether the server said the shell exited (then there is nothing to clean up). */
  exited: boolean;
  code: number;
  error?: Error;
}

/** Connects the local terminal to the socket until it closes; always leaves the terminal as it found it. */
function attach(socket: WebSocket, ctx: CliContext, api: ApiClient): Promise<Outcome> {
  const { stdin, stdout } = ctx;
  const raw = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  let outcome: Outcome | null = null;
  let interruptedBy: NodeJS.Signals | null = null;
  // A refused upgrade (404, 409 not running) reports once its JSON body is read, not on close.
  let refused = false;

  return new Promise<Outcome>((resolve) => {
    const onInput = (chunk: Buffer | string) => {
      if (socket.readyState === socket.OPEN) socket.send(chunk, { binary: true });
    };
    const onEnd = () => {
      if (socket.readyState === socket.OPEN) socket.send(EOT, { binary: true });
    };
    const onResize = () => {
      const message: TerminalClientMessage = { type: 'resize', ...terminalSize(ctx) };
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    };
    const restore = () => {
      if (raw) stdin.setRawMode?.(false);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      interruptedBy = signal;
      socket.close();
    };

    const cleanup = () => {
      stdin.off('data', onInput);
      stdin.off('end', onEnd);
      stdin.pause();
      stdout.off('resize', onResize);
      for (const signal of FORWARDED_SIGNALS) ctx.processEvents.off(signal, onSignal);
      ctx.processEvents.off('exit', restore);
      restore();
    };
    const finish = (result: Outcome) => {
      cleanup();
      resolve(result);
    };

    socket.on('open', () => {
      if (raw) stdin.setRawMode?.(true);
      // Should the process die some other way, never leave the user's terminal in raw mode.
      ctx.processEvents.on('exit', restore);
      for (const signal of FORWARDED_SIGNALS) ctx.processEvents.on(signal, onSignal);
      stdout.on('resize', onResize);
      stdin.on('data', onInput);
      stdin.on('end', onEnd);
      stdin.resume();
    });
    socket.on('message', (data, isBinary) => {
      // The default binaryType: every message is one Buffer.
      const bytes = data as Buffer;
      if (isBinary) {
        stdout.write(bytes);
        return;
      }
      const parsed = terminalServerMessageSchema.safeParse(safeJson(bytes.toString('utf8')));
      if (parsed.success && parsed.data.type === 'exit') {
        const { code, signal } = parsed.data;
        outcome = {
          exited: true,
          code: code ?? (signal === null ? 0 : 128 + signalNumber(signal)),
        };
      }
    });
    socket.on('unexpected-response', (_request, response) => {
      refused = true;
      void api.refusedUpgrade(response).then((error) => {
        socket.terminate();
        finish({ exited: false, code: 1, error });
      });
    });
    socket.on('error', (error) => {
      if (!outcome && !refused) outcome = { exited: false, code: 1, error: api.unreachable(error) };
    });
    socket.on('close', (code, reason) => {
      if (refused) return;
      if (outcome) {
        finish(outcome);
      } else if (interruptedBy) {
        finish({ exited: false, code: 128 + signalNumber(interruptedBy) });
      } else {
        const why = reason.toString() || `code ${code}`;
        finish({
          exited: false,
          code: 1,
          error: new CliError('command_failed', `the terminal connection closed: ${why}`),
        });
      }
    });
  });
}

function terminalSize(ctx: CliContext): { cols: number; rows: number } {
  const { columns, rows } = ctx.stdout;
  if (ctx.stdout.isTTY && columns && rows) return { cols: columns, rows };
  return DEFAULT_SIZE;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
