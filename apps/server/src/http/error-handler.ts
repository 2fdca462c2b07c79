import {
  CodedError,
  ERROR_STATUS,
  WS_CLOSE,
  type ApiErrorBody,
  type ErrorCode,
} from '@studio/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isDatabaseUnavailable } from '../errors.ts';

/** Fastify's own error codes that are the client's fault, and what we call them. */
const FASTIFY_CLIENT_ERRORS: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    code: 'bad_request',
    message: 'the request body is not valid JSON',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'bad_request',
    message: 'the request body is empty but says it is JSON',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'payload_too_large',
    message: 'the request body is too large',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'bad_request',
    message: 'unsupported content-type; send application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'bad_request',
    message: 'content-length does not match the body',
  },
};

/** Maps any error to the wire shape `{ code, message, detail? }` and its status. */
export function toApiError(error: unknown): { status: number; body: ApiErrorBody } {
  if (error instanceof CodedError) {
    const body: ApiErrorBody = { code: error.code, message: error.message };
    if (error.detail !== undefined) body.detail = error.detail;
    return { status: ERROR_STATUS[error.code], body };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = (error as { validationContext?: string }).validationContext ?? 'request';
    const issues = error.validation.map((issue) => {
      const path = [where, ...issue.instancePath.split('/').filter(Boolean)].join('.');
      const unknownKeys = (issue.params as { keys?: string[] } | undefined)?.keys;
      const message = unknownKeys?.length
        ? `unknown field ${unknownKeys.join(', ')}`
        : issue.message;
      return {
        path: unknownKeys?.length ? `${path}.${unknownKeys[0]}` : path,
        message: message ?? 'is not valid',
      };
    });
    const first = issues[0];
    return {
      status: 400,
      body: {
        code: 'bad_request',
        message: first ? `${first.path}: ${first.message}` : 'invalid request',
        detail: issues,
      },
    };
  }
  const fastifyError = error as Partial<FastifyError>;
  const known = fastifyError.code ? FASTIFY_CLIENT_ERRORS[fastifyError.code] : undefined;
  if (known) return { status: ERROR_STATUS[known.code], body: { ...known } };
  if (isDatabaseUnavailable(error)) {
    return {
      status: 503,
      body: { code: 'unavailable', message: 'the database is unavailable; try again shortly' },
    };
  }
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return {
      status: 400,
      body: { code: 'bad_request', message: fastifyError.message ?? 'bad request' },
    };
  }
  return { status: 500, body: { code: 'internal', message: 'internal error' } };
}

/** The one final error handler for HTTP. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toApiError(error);
    // A refused WebSocket upgrade's socket is no longer the HTTP server's to close: end it ourselves,
    // or it stays half-open (and stalls shutdown).
    if (request.headers.upgrade) {
      void reply.header('connection', 'close');
      reply.raw.once('finish', () => request.raw.socket.destroy());
    }
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code }, body.message);
    void reply.status(status).send(body);
  });
}

/** What the socket asked for cannot be: trying again would not help (4400, not 4503). */
const CLIENT_ERRORS = new Set<string>([
  'bad_request',
  'validation_failed',
  'payload_too_large',
  'is_a_directory',
  'not_a_directory',
  'path_outside_workspace',
]);

/**
 * Closes a workspace WebSocket (terminal, desktop, shared document) whose stream could not start
 * or ended in an error: 4404 when the workspace or stream does not exist for this person, 4403,
 * 4409 on a conflict, 4400 when asking again cannot help, else 4503; the reason in words.
 */
export function closeWithError(
  socket: { close(code: number, reason: string): void },
  error: unknown,
): void {
  const { body } = toApiError(error);
  const close =
    body.code === 'not_found'
      ? WS_CLOSE.notFound
      : body.code === 'forbidden'
        ? WS_CLOSE.forbidden
        : body.code === 'conflict'
          ? WS_CLOSE.conflict
          : CLIENT_ERRORS.has(body.code)
            ? WS_CLOSE.badMessage
            : WS_CLOSE.unavailable;
  // Close reasons are limited to 123 bytes.
  socket.close(close.code, body.message.slice(0, 120));
}
