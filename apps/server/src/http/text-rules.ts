import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The body carries file contents, where a NUL is the person's own byte (never stored in SQL). */
    rawText?: boolean;
  }
}

/** Where in `value` a string holds a NUL, as a dotted path (`body.title`), or null. */
export function findNul(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findNul(item, `${path}.${index}`);
      if (found) return found;
    }
    return null;
  }
  if (
    value !== null &&
    typeof value === 'object' &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) return `${path}.${JSON.stringify(key)}`;
      const found = findNul(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Text PostgreSQL cannot store is refused for every route before its schema runs: a NUL in any
 * field of the body, query or path answers 400 naming the field (it was a 500 and a log line
 * with the query's parameters).
 */
export function registerTextRules(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const parts = { params: request.params, query: request.query } as Record<string, unknown>;
    if (!request.routeOptions.config.rawText) parts.body = request.body;
    for (const [where, value] of Object.entries(parts)) {
      const found = findNul(value, where);
      if (found)
        throw new AppError('bad_request', `${found}: must not contain a NUL character (\\u0000)`, [
          { path: found, message: 'must not contain a NUL character' },
        ]);
    }
  });
}
