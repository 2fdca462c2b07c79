import type { Env } from './options.ts';

/** What commands get from the process, passed in by main.ts so nothing else touches `process`. */
export interface CliContext {
  env: Env;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  /** `columns`/`rows` and the `resize` event exist when stdout is a terminal. */
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: NodeJS.WritableStream;
  /** Signals and `exit` of the process, for commands that must clean up (restore the terminal). */
  processEvents: Pick<NodeJS.Process, 'on' | 'off'>;
}
