import type {
  ClientRequest,
  IncomingHttpHeaders,
  IncomingMessage,
  request as httpRequest,
} from 'node:http';
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

/** A 2xx answer, read to the end. */
export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as UTF-8 text (a leading byte-order mark dropped, as `fetch` reads it). */
  text: string;
}

// The statuses `fetch` follows as redirects; the CLI follows none (one could lead a token elsewhere).
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * The only place the CLI sends HTTP requests or opens a WebSocket: one server, errors turned into
 * ApiError/CliError. Requests go through node:http rather than `fetch`: on Node 20 the first
 * `fetch` loads undici and compiles its WebAssembly HTTP parser, and the process then waits for
 * that compilation to finish before it can exit, which cost `studio whoami` over 100 ms.
 */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  /** Sends a request and returns its answer once it is known to be 2xx. */
  async send(path: string, options: CallOptions = {}): Promise<ApiResponse> {
    const url = new URL(`${this.baseUrl}${path}`);
    const method = options.method ?? 'GET';
    const headers = this.headers(options, 'application/json');
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    // As `fetch` sends them: the body's length, and 0 on a POST without one (never chunked).
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    else if (method === 'POST') headers['content-length'] = '0';
    const send = requestFor(url);
    const { response, bytes } = await new Promise<{ response: IncomingMessage; bytes: Buffer }>(
      (resolve, reject) => {
        let answered = false;
        let req: ClientRequest;
        try {
          // agent: false so a kept-alive socket never holds the process open once the command is done.
          req = send(url, { method, headers, agent: false });
        } catch (error) {
          // A header value that cannot be sent, e.g. a token with a line break in it.
          reject(this.unreachable(error));
          return;
        }
        // One deadline for the whole exchange. A body that stalls after the headers reads as cut
        // short, which the caller reports like any other unreadable answer.
        const timer = setTimeout(() => {
          req.destroy();
          if (!answered) reject(this.noAnswer());
        }, REQUEST_TIMEOUT_MS);
        req.on('error', (error) => {
          if (answered) return;
          clearTimeout(timer);
          reject(this.unreachable(error));
        });
        req.once('response', (response) => {
          answered = true;
          if (REDIRECTS.has(response.statusCode ?? 0)) {
            clearTimeout(timer);
            req.destroy();
            reject(
              new CliError('unreachable', `cannot reach ${this.baseUrl}: unexpected redirect`),
            );
            return;
          }
          // An answer cut short reads as empty, as `fetch` callers here read one.
          void readBytes(response)
            .catch(() => Buffer.alloc(0))
            .then((bytes) => {
              clearTimeout(timer);
              resolve({ response, bytes });
            });
        });
        req.end(body);
      },
    );
    const status = response.statusCode ?? 0;
    const text = new TextDecoder().decode(bytes);
    if (status < 200 || status > 299) {
      throw await toApiError(status, response.statusMessage ?? '', text, this.baseUrl);
    }
    return { status, headers: response.headers, text };
  }

  /**
   * Sends a request whose answer is a long stream (NDJSON of a running command or image build)
   * and returns the body once it is known to be 2xx. The request timeout here only covers
   * waiting for the response headers, so a command that is quiet for long is never cut off.
   */
  stream(path: string, options: CallOptions = {}): Promise<IncomingMessage> {
    const url = new URL(`${this.baseUrl}${path}`);
    const headers = this.headers(options, 'application/x-ndjson');
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const send = requestFor(url);
    return new Promise((resolve, reject) => {
      // agent: false so a kept-alive socket never holds the process open once the command is done.
      const req = send(url, { method: options.method ?? 'GET', headers, agent: false });
      const timer = setTimeout(() => {
        req.destroy();
        reject(this.noAnswer());
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

  /** The server did not answer within the request's deadline. */
  private noAnswer(): CliError {
    return new CliError(
      'unreachable',
      `cannot reach ${this.baseUrl}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`,
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
    return this.read(path, schema, await this.send(path, options));
  }

  /** The JSON of `path`'s answer as `schema` reads it; `bad_response` when it does not. */
  read<T>(path: string, schema: Schema<T>, response: ApiResponse): T {
    try {
      return schema.parse(JSON.parse(response.text));
    } catch {
      throw new CliError(
        'bad_response',
        `unexpected answer from ${this.baseUrl}${path} (is this a Prometheus Studio server?)`,
      );
    }
  }
}

/**
 * `request` of node:http, or of node:https for an https URL, so TLS loads only when it is needed.
 * Not `import … from 'node:http'`: on recent Node (24 here), the ES module view of node:http reads
 * every export, which loads undici for its WebSocket class (about 50 ms on 2 cores).
 */
function requestFor(url: URL): typeof httpRequest {
  return url.protocol === 'https:'
    ? process.getBuiltinModule('node:https').request
    : process.getBuiltinModule('node:http').request;
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

async function readBytes(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function readText(stream: IncomingMessage): Promise<string> {
  return (await readBytes(stream)).toString('utf8');
}

/** The reason a connection failed, e.g. "connect ECONNREFUSED 127.0.0.1:1". */
function describeNetworkError(error: unknown): string {
  // node:http and ws fail with the socket error itself; anything wrapping one names it as its cause.
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
