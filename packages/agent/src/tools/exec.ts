import type { ToolContext } from './tool.ts';

/** What a command printed and how it ended. */
export interface CommandResult {
  code: number | null;
  signal: string | null;
  output: string;
  timedOut: boolean;
  truncated: boolean;
}

/**
 * Run a program in the workspace through the daemon, stdout and stderr interleaved as a terminal
 * shows them. `stream` forwards output to the person as it arrives. The run's abort kills it.
 */
export async function runInWorkspace(
  context: ToolContext,
  command: string,
  args: string[],
  options: { timeoutMs: number; maxOutputBytes: number; cwd?: string; stream?: boolean },
): Promise<CommandResult> {
  const stream = await context.daemon.open('exec.start', {
    command,
    args,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    timeoutMs: options.timeoutMs,
    maxOutputBytes: options.maxOutputBytes,
    env: {
      // Tools run without a terminal: keep programs from paging or asking questions.
      PAGER: 'cat',
      GIT_PAGER: 'cat',
      GIT_TERMINAL_PROMPT: '0',
      CI: '1',
      TERM: 'dumb',
      // An agent edits and reruns within a second; Python trusts a cached .pyc whose source has
      // the same size and whole-second mtime, and would run the old code (seen in CI).
      PYTHONDONTWRITEBYTECODE: '1',
    },
  });
  const decoder = new TextDecoder();
  let output = '';
  let exit: { code: number | null; signal: string | null; timedOut: boolean; truncated: boolean } =
    { code: null, signal: null, timedOut: false, truncated: false };
  const abort = () => stream.cancel();
  context.signal.addEventListener('abort', abort, { once: true });
  try {
    return await new Promise<CommandResult>((resolve, reject) => {
      stream.onData((payload) => {
        const text = decoder.decode(payload, { stream: true });
        output += text;
        if (options.stream) context.onOutput(text);
      });
      stream.onEvent((event) => {
        if (event.kind === 'exit') exit = event;
      });
      stream.onEnd((error) => {
        if (context.signal.aborted) return reject(context.signal.reason ?? new Error('aborted'));
        if (error) return reject(error);
        resolve({ ...exit, output: output + decoder.decode() });
      });
      stream.end();
    });
  } finally {
    context.signal.removeEventListener('abort', abort);
  }
}
