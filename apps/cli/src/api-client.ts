import { apiErrorSchema } from '@studio/protocol';
import { ApiError, CliError } from './errors.ts';

/** Anything with a zod-style `parse`; keeps this module free of a direct zod import. */
export interface Schema<T> {
  parse(value: unknown): T;
}

/** How a request authenticates: an API token, or a session cookie plus the Origin the server checks on cookie writes. */
export type Auth = { bearer: string } | { cookie: string; origin: string } | null;

/** Options of one API call. */
export interface CallOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  auth?: Auth;
  body?: unknown;
}

// Long enough for a server that is busy starting workspaces, short enough that a dead proxy does not hang a script.
const REQUEST_TIMEOUT_MS = 30_000;

/** The only place the CLI calls `fetch`: one server, errors turned into ApiError/CliError. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  /** Sends a request and returns the raw response once it is known to be 2xx. */
  async send(path: string, options: CallOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const auth = options.auth ?? null;
    if (auth && 'bearer' in auth) headers.authorization = `Bearer ${auth.bearer}`;
    if (auth && 'cookie' in auth) {
      headers.cookie = auth.cookie;
      headers.origin = auth.origin;
    }
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method: options.method ?? 'GET',
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (error) {
      throw new CliError(
        'unreachable',
        `cannot reach ${this.baseUrl}: ${describeNetworkError(error)}`,
      );
    }
    if (!response.ok) throw await toApiError(response, this.baseUrl);
    return response;
  }

  /** Sends a request and validates the JSON answer. */
  async call<T>(path: string, schema: Schema<T>, options: CallOptions = {}): Promise<T> {
    const response = await this.send(path, options);
    let body: unknown;
    try {
      body = await response.json();
      return schema.parse(body);
    } catch {
      throw new CliError(
        'bad_response',
        `unexpected answer from ${this.baseUrl}${path} (is this a Prometheus Studio server?)`,
      );
    }
  }
}

async function toApiError(response: Response, baseUrl: string): Promise<Error> {
  const text = await response.text().catch(() => '');
  try {
    const body = apiErrorSchema.parse(JSON.parse(text));
    return new ApiError(body.code, body.message, response.status, body.detail);
  } catch {
    return new CliError(
      'bad_response',
      `${baseUrl} answered ${response.status} ${response.statusText} (is this a Prometheus Studio server?)`,
    );
  }
}

/** Turns fetch's "fetch failed" into the underlying reason, e.g. "connect ECONNREFUSED 127.0.0.1:1". */
function describeNetworkError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  const cause = error instanceof Error ? error.cause : undefined;
  // Dual-stack hosts ("localhost") fail with an AggregateError whose own message is empty.
  if (cause instanceof AggregateError) {
    const first: unknown = cause.errors[0];
    if (first instanceof Error && first.message) return first.message;
    return (cause as NodeJS.ErrnoException).code ?? 'connection failed';
  }
  if (cause instanceof Error && cause.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
