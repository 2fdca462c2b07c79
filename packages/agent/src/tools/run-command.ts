import { z } from 'zod';
import { runInWorkspace } from './exec.ts';
import { capText, defineTool } from './tool.ts';

const DEFAULT_TIMEOUT_S = 120;
const MAX_OUTPUT_BYTES = 256 * 1024;

export const runCommand = defineTool({
  name: 'run_command',
  description:
    'Run a shell command (bash -lc) in the workspace and return its exit code and output ' +
    '(stdout and stderr together, the end kept when long). Use it to run tests, builds and scripts. ' +
    `It is killed after timeoutSeconds (default ${DEFAULT_TIMEOUT_S}).`,
  kind: 'exec',
  inputSchema: z.object({
    command: z.string().min(1).max(4000),
    cwd: z.string().optional().describe('Folder relative to the home folder.'),
    timeoutSeconds: z.int().min(1).max(1800).default(DEFAULT_TIMEOUT_S),
  }),
  subject: (input) => input.command,
  describe: async (input) => ({
    summary: `run_command: ${input.command}`,
    command: input.command,
    ...(input.cwd ? { path: input.cwd } : {}),
  }),
  async execute(input, context) {
    const result = await runInWorkspace(context, 'bash', ['-lc', input.command], {
      timeoutMs: input.timeoutSeconds * 1000,
      maxOutputBytes: MAX_OUTPUT_BYTES,
      ...(input.cwd ? { cwd: input.cwd } : {}),
      stream: true,
    });
    const status = result.timedOut
      ? `killed after ${input.timeoutSeconds} s (timeout)`
      : result.signal
        ? `killed by ${result.signal}`
        : `exit code ${result.code}`;
    const cut = result.truncated ? `\n[output stopped after ${MAX_OUTPUT_BYTES} bytes]` : '';
    // The end of a long output (the failing test, the error) matters most: keep the tail.
    const output =
      result.output.length > 30_000 ? `…${result.output.slice(-30_000)}` : result.output;
    return capText(`${status}\n${output}${cut}`);
  },
});
