import { CodedError, type ErrorCode } from '@studio/protocol';

/** An expected failure with a stable wire code; anything else the daemon throws is a bug. */
export class DaemonFailure extends CodedError {
  override name = 'DaemonFailure';
}

// Node's errno codes that are expected outcomes of a file operation, mapped to wire codes.
const ERRNO_CODES: Record<string, ErrorCode> = {
  ENOENT: 'not_found',
  EEXIST: 'already_exists',
  ENOTDIR: 'not_a_directory',
  EISDIR: 'is_a_directory',
  ENOTEMPTY: 'conflict',
  EACCES: 'forbidden',
  EPERM: 'forbidden',
  EROFS: 'forbidden',
  ENAMETOOLONG: 'bad_request',
  EINVAL: 'bad_request',
  ELOOP: 'bad_request',
  EFBIG: 'payload_too_large',
  ENOSPC: 'payload_too_large',
  EDQUOT: 'payload_too_large',
};

/** Turn anything thrown by a handler into the wire error shape. */
export function toWireError(error: unknown): {
  code: ErrorCode;
  message: string;
  detail?: unknown;
} {
  if (error instanceof DaemonFailure) {
    return error.detail === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, detail: error.detail };
  }
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno === 'string' && errno in ERRNO_CODES) {
    return { code: ERRNO_CODES[errno]!, message: describeErrno(error as NodeJS.ErrnoException) };
  }
  return { code: 'internal', message: 'The workspace daemon hit an unexpected error' };
}

// Node's messages carry absolute host paths; say what happened without leaking them.
function describeErrno(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'EEXIST':
      return 'Already exists';
    case 'ENOTDIR':
      return 'Not a directory';
    case 'EISDIR':
      return 'Is a directory';
    case 'ENOTEMPTY':
      return 'The directory is not empty';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'Permission denied';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'No space left on the workspace disk';
    default:
      return `File operation failed (${error.code})`;
  }
}
