import type { ErrorCode } from '@studio/protocol';

/** Failures the CLI detects itself, before or around talking to a server. */
export type CliErrorCode =
  | 'bad_option'
  | 'not_logged_in'
  | 'unreachable'
  | 'bad_response'
  | 'bad_credentials_file'
  | 'build_failed'
  | 'workspace_failed'
  | 'wait_timeout'
  | 'not_confirmed'
  | 'command_failed'
  | 'image_build_failed';

/** An expected CLI failure: printed as `error: <message>` with exit code 1, never with a stack. */
export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** An error the server answered with (`{ code, message, detail? }`). */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number,
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The line printed to stderr for an error; anything not a CliError/ApiError is a bug and keeps its stack. */
export function formatError(error: unknown): string {
  if (error instanceof ApiError) return `error: ${error.message} (${error.code})`;
  if (error instanceof CliError) return `error: ${error.message}`;
  if (error instanceof Error) return `error: ${error.stack ?? error.message}`;
  return `error: ${String(error)}`;
}
