import { CodedError } from '@studio/protocol';

/** An expected failure with a stable code and a message a person can act on (and its cause). */
export class AppError extends CodedError {
  override name = 'AppError';
}

/** True for errors that mean the database cannot be reached right now (→ 503, not 500). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const codes = new Set([
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EPIPE',
    'CONNECT_TIMEOUT',
    'CONNECTION_CLOSED',
    'CONNECTION_ENDED',
    'CONNECTION_DESTROYED',
    '57P01', // admin_shutdown
    '57P03', // cannot_connect_now
    '53300', // too_many_connections
  ]);
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && codes.has(code)) return true;
  }
  return false;
}

/** True for a unique-constraint violation (PostgreSQL 23505), at any depth of `cause`. */
export function isUniqueViolation(error: unknown): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if ((current as { code?: unknown }).code === '23505') return true;
  }
  return false;
}
