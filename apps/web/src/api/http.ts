import { ERROR_CODES, type ErrorCode } from '@studio/protocol';

/** Anything with a zod-style `parse`; the web app checks responses against the protocol schemas. */
export interface Parser<T> {
  parse(data: unknown): T;
}

/** A field-level problem the server reported with a `bad_request`. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** An API failure as a value: match on `code`, never on `message`. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;

  constructor(code: ErrorCode, message: string, status: number, detail?: unknown) {
    // Server messages are lower-case fragments ("wrong email or password"); shown as sentences.
    super(message.charAt(0).toUpperCase() + message.slice(1));
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.detail = detail;
  }
}

/** True when `error` is an ApiError with one of the given codes. */
export function hasCode(error: unknown, ...codes: ErrorCode[]): error is ApiError {
  return error instanceof ApiError && codes.includes(error.code);
}

/** Field messages from a `bad_request`, keyed by the last segment of each issue's path. */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!hasCode(error, 'bad_request') || !Array.isArray(error.detail)) return {};
  const result: Record<string, string> = {};
  for (const issue of error.detail as unknown[]) {
    if (typeof issue !== 'object' || issue === null) continue;
    const { path, message } = issue as Partial<FieldIssue>;
    if (typeof message !== 'string') continue;
    const key = String(path ?? '')
      .split(/[./]/)
      .filter(Boolean)
      .pop();
    if (key && !(key in result)) result[key] = message;
  }
  return result;
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: a proxy or a crashed server answered; fall through to a generic error.
  }
  if (typeof body === 'object' && body !== null) {
    const { code, message, detail } = body as Record<string, unknown>;
    if (isErrorCode(code)) {
      return new ApiError(
        code,
        typeof message === 'string' ? message : code,
        response.status,
        detail,
      );
    }
  }
  return new ApiError(
    response.status >= 500 ? 'unavailable' : 'internal',
    `The server answered with an unexpected error (HTTP ${response.status}). Try again in a moment.`,
    response.status,
  );
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      // A JSON body only when there is one: Fastify rejects an empty body declared as JSON.
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(
      'unavailable',
      'Cannot reach the Prometheus Studio server. Check your connection and try again.',
      0,
    );
  }
  if (!response.ok) throw await toApiError(response);
  return response;
}

/** Call the API and check the JSON answer against `schema`. */
export async function requestJson<T>(
  method: string,
  path: string,
  schema: Parser<T>,
  body?: unknown,
): Promise<T> {
  const response = await send(method, path, body);
  return schema.parse(await response.json());
}

/** Call an API endpoint that answers 204 No Content. */
export async function requestVoid(method: string, path: string, body?: unknown): Promise<void> {
  await send(method, path, body);
}

/**
 * Call an endpoint that answers NDJSON, handing each line (checked against `schema`) to `onLine`
 * as it arrives; an error answer before the stream throws like any call.
 */
export async function requestLines<T>(
  method: string,
  path: string,
  schema: Parser<T>,
  body: unknown,
  onLine: (line: T) => void,
): Promise<void> {
  const response = await send(method, path, body);
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { done, value } = await reader.read();
    buffered += value ?? '';
    const lines = buffered.split('\n');
    buffered = done ? '' : lines.pop()!;
    for (const line of lines) if (line.trim()) onLine(schema.parse(JSON.parse(line)));
    if (done) return;
  }
}
