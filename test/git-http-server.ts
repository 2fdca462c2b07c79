// Test helper: a real git smart-HTTP server (`git http-backend` as CGI) that demands HTTP Basic
// auth with one token for every request, fetch and push alike, like a private repository host.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Options of `startGitHttpServer`. */
export interface GitHttpServerOptions {
  /** Folder holding the bare repositories (`GIT_PROJECT_ROOT`). */
  root: string;
  /** The password (token) every request must carry; any user name is accepted. */
  token: string;
  /** Address to bind; 127.0.0.1 unless a test needs the workspace to reach another one. */
  host?: string;
  /**
   * The address clients use, when it is not the bound one: a local workspace with a network of
   * its own reaches the host's loopback at 10.0.2.2.
   */
  advertise?: string;
  port?: number;
}

/** A running git HTTP server. */
export interface GitHttpServer {
  /** `http://host:port` */
  origin: string;
  /** `host:port`, as git names it to credential helpers. */
  hostPort: string;
  /** The clone URL of a repository under the root (`name` like `project.git`). */
  url(name: string): string;
  /** Requests answered 401 so far (for "asked without a credential" assertions). */
  unauthorized: number;
  close(): Promise<void>;
}

/** Start the server; stop it with `close()`. */
export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServer> {
  const expected = options.token;
  const state = { unauthorized: 0 };
  const server = createServer((request, response) => {
    if (!authorized(request.headers.authorization, expected)) {
      state.unauthorized++;
      request.resume();
      response.writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-length': 0 });
      response.end();
      return;
    }
    runBackend(options.root, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  const bound = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const host = options.advertise ?? bound;
  const hostPort = `${host}:${address.port}`;
  return {
    origin: `http://${hostPort}`,
    hostPort,
    url: (name) => `http://${hostPort}/${name}`,
    get unauthorized() {
      return state.unauthorized;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function authorized(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 && decoded.slice(colon + 1) === token;
}

/** Run one request through `git http-backend` and relay its CGI response. */
function runBackend(root: string, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://git');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    // http-backend allows receive-pack (push) only for an authenticated user.
    REMOTE_USER: 'git',
    REMOTE_ADDR: request.socket.remoteAddress ?? '',
    REQUEST_METHOD: request.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: request.headers['content-type'] ?? '',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${request.httpVersion}`,
  };
  if (request.headers['content-length']) env.CONTENT_LENGTH = request.headers['content-length'];
  // Bodies may be gzipped; protocol v2 is negotiated through this header.
  if (request.headers['content-encoding']) {
    env.HTTP_CONTENT_ENCODING = request.headers['content-encoding'];
  }
  const protocol = request.headers['git-protocol'];
  if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol;

  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  request.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      response.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const crlf = head.indexOf('\r\n\r\n');
    const lf = head.indexOf('\n\n');
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
    if (end < 0) return;
    headersDone = true;
    const separator = end === crlf ? 4 : 2;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
      else response.setHeader(name, value);
    }
    response.writeHead(status);
    response.write(head.subarray(end + separator));
  });
  child.on('close', () => {
    if (!headersDone) response.writeHead(502);
    response.end();
  });
  child.on('error', () => {
    if (!response.headersSent) response.writeHead(500);
    response.end();
  });
}
