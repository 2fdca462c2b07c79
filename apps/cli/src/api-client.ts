import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type WebSocket from 'ws';
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

/** The only place the CLI calls `fetch` or opens a WebSocket: one server, errors turned into ApiError/CliError. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  /** Sends a request and returns the raw response once it is known to be 2xx. */
  async send(path: string, options: CallOptions = {}): Promise<Response> {
    const headers = this.headers(options, 'application/json');
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
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw await toApiError(response.status, response.statusText, text, this.baseUrl);
    }
    return response;
  }

  /**
   * Sends a request whose answer is a long stream (NDJSON of a running command or image build)
   * and returns the body once it is known to be 2xx. Uses node:http rather than `fetch`, whose
   * built-in 5-minute body timeout would cut off a command that is quiet for that long; the
   * request timeout here only covers waiting for the response headers.
   */
  stream(path: string, options: CallOptions = {}): Promise<IncomingMessage> {
    const url = new URL(`${this.baseUrl}${path}`);
    const headers = this.headers(options, 'application/x-ndjson');
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      // agent: false so a kept-alive socket never holds the process open once the command is done.
      const req = send(url, { method: options.method ?? 'GET', headers, agent: false });
      const timer = setTimeout(() => {
        req.destroy();
        reject(
          new CliError(
            'unreachable',
            `cannot reach ${this.baseUrl}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`,
          ),
        );
      }, REQUEST_TIMEOUT_MS);
      // `on`, not `once`: a connection that breaks mid-stream errors here too (after resolving,
      // where rejecting is a no-op and the body stream reports it).
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(this.unreachable(error));
      });
      req.once('response', (response) => {
        clearTimeout(timer);
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          resolve(response);
          return;
        }
        readText(response)
          .then((text) => toApiError(status, response.statusMessage ?? '', text, this.baseUrl))
          .then(reject, reject);
      });
      req.end(body);
    });
  }

  /**
   * Opens a WebSocket on the server with the API token. No Origin header and no cookie: the
   * server lets an upgrade without Origin through only when it carries a Bearer token, which is
   * what tells a script apart from a browser page on another site. `ws` is loaded here, on first
   * use, so that commands which never open a socket do not load it.
   */
  async openSocket(path: string, auth: { bearer: string }): Promise<WebSocket> {
    const { default: Socket } = await import('ws');
    const url = new URL(`${this.baseUrl}${path}`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return new Socket(url, {
      headers: { authorization: `Bearer ${auth.bearer}` },
      handshakeTimeout: REQUEST_TIMEOUT_MS,
      followRedirects: false,
    });
  }

  /** The error an upgrade the server refused stands for (its JSON body, as for any request). */
  async refusedUpgrade(response: IncomingMessage): Promise<Error> {
    const text = await readText(response).catch(() => '');
    return toApiError(response.statusCode ?? 0, response.statusMessage ?? '', text, this.baseUrl);
  }

  /** Why a socket error happened, in the same words as for requests. */
  unreachable(error: unknown): CliError {
    return new CliError(
      'unreachable',
      `cannot reach ${this.baseUrl}: ${describeNetworkError(error)}`,
    );
  }

  private headers(options: CallOptions, accept: string): Record<string, string> {
    const headers: Record<string, string> = { accept };
    const auth = options.auth ?? null;
    if (auth && 'bearer' in auth) headers.authorization = `Bearer ${auth.bearer}`;
    if (auth && 'cookie' in auth) {
      headers.cookie = auth.cookie;
      headers.origin = auth.origin;
    }
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    return headers;
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

async function toApiError(
  status: number,
  statusText: string,
  text: string,
  baseUrl: string,
): Promise<Error> {
  // The protocol's schemas (and zod) load only when there is an error body to read: a command
  // that succeeds, such as `studio whoami`, never needs them.
  const { apiErrorSchema } = await import('@studio/protocol');
  try {
    const body = apiErrorSchema.parse(JSON.parse(text));
    return new ApiError(body.code, body.message, status, body.detail);
  } catch {
    return new CliError(
      'bad_response',
      `${baseUrl} answered ${status} ${statusText} (is this a Prometheus Studio server?)`,
    );
  }
}

async function readText(stream: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Turns fetch's "fetch failed" into the underlying reason, e.g. "connect ECONNREFUSED 127.0.0.1:1". */
function describeNetworkError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  // node:http and ws fail with the socket error itself rather than a wrapper with a cause.
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  // Dual-stack hosts ("localhost") fail with an AggregateError whose own message is empty.
  if (cause instanceof AggregateError) {
    const first: unknown = cause.errors[0];
    if (first instanceof Error && first.message) return first.message;
    return (cause as NodeJS.ErrnoException).code ?? 'connection failed';
  }
  if (cause instanceof Error && cause.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
