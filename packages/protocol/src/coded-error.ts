import type { ErrorCode } from './error-codes.ts';

/**
 * An expected failure with a stable wire code and a message a person can act on, keeping what
 * caused it (`cause`) for the log. The server's `AppError`, the runtime's `RuntimeError` and the
 * daemon's `DaemonFailure` are this; a plain `Error` means a bug.
 */
export class CodedError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Shown to the client beside the message (`{ code, message, detail }`). */
    readonly detail?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CodedError';
  }
}
