import type { Env } from './options.ts';

/** What commands get from the process, passed in by main.ts so nothing else touches `process`. */
export interface CliContext {
  env: Env;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}
