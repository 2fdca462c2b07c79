// Test helper: what `POST /api/workspaces/:name/exec` answered (NDJSON of `ExecEvent`s).
import type { ExecEvent } from '@studio/protocol';

/** The command's exit code, its stdout, and stdout and stderr as printed; an `error` event throws. */
export function execResult(ndjson: string): {
  code: number | null;
  stdout: string;
  output: string;
} {
  let stdout = '';
  let output = '';
  let code: number | null = null;
  for (const line of ndjson.split('\n').filter(Boolean)) {
    const event = JSON.parse(line) as ExecEvent;
    if (event.type === 'stdout' || event.type === 'stderr') {
      output += event.data;
      if (event.type === 'stdout') stdout += event.data;
    } else if (event.type === 'exit') code = event.code;
    else throw new Error(`${event.code}: ${event.message}`);
  }
  return { code, stdout, output };
}
