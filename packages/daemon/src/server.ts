import { timingSafeEqual, createHash } from 'node:crypto';
import { lstat, unlink } from 'node:fs/promises';
import type http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  DAEMON_PROTOCOL_HEADER,
  DAEMON_PROTOCOL_VERSION,
  daemonClientMessageSchema,
  daemonMethods,
  decodeFrame,
  type DaemonMethod,
  type DaemonServerMessage,
} from '@studio/protocol';
import { DaemonFailure, toWireError } from './errors.ts';
import { DAEMON_VERSION } from './info.ts';
import { handlers, type DaemonState } from './methods.ts';
import { OutStream, type StreamTransport } from './streams.ts';

// Not `import http from 'node:http'`: an ESM import of a builtin builds a facade that reads every
// export, and on Node 24 one of them loads undici (fetch, WebSocket) — 50 ms of the daemon's
// start and memory it never uses. require() returns the module without touching its getters.
const { createServer, STATUS_CODES } = createRequire(import.meta.url)('node:http') as typeof http;

/** Where the daemon listens. */
export type ListenAddress =
  { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

// Dead peers (a server that vanished without closing) are found by ping within this interval.
const HEARTBEAT_MS = 30_000;
// The largest JSON request: a 64 MiB base64 file write plus its envelope.
const MAX_MESSAGE_BYTES = 96 * 1024 * 1024;

/** One client connection: its requests, its streams, and input flow control. */
class Connection implements StreamTransport {
  private readonly streams = new Map<number, OutStream>();
  private nextStreamId = 1;
  private inputPauses = 0;
  alive = true;

  constructor(
    private readonly socket: WebSocket,
    private readonly state: DaemonState,
  ) {
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', () => this.onClose());
    socket.on('error', () => undefined);
    socket.on('pong', () => (this.alive = true));
    this.sendMessage({
      type: 'hello',
      protocol: DAEMON_PROTOCOL_VERSION,
      version: DAEMON_VERSION,
      pid: process.pid,
    });
  }

  sendBinary(frame: Uint8Array): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(frame, { binary: true });
  }

  sendMessage(message: DaemonServerMessage): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  pauseInput(): void {
    if (this.inputPauses++ === 0) this.socket.pause();
  }

  resumeInput(): void {
    if (this.inputPauses > 0 && --this.inputPauses === 0) this.socket.resume();
  }

  ping(): void {
    this.alive = false;
    this.socket.ping();
  }

  terminate(): void {
    this.socket.terminate();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      const frame = decodeFrame(bytes);
      if (frame) this.streams.get(frame.stream)?.handlers.onInput?.(frame.payload, frame.channel);
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      return; // Not JSON: there is no request id to answer, and the connection stays usable.
    }
    const parsed = daemonClientMessageSchema.safeParse(json);
    if (!parsed.success) {
      const id = (json as { id?: unknown } | null)?.id;
      if (typeof id === 'number') {
        this.sendMessage({
          type: 'error',
          id,
          error: { code: 'bad_request', message: describeIssue(parsed.error.issues[0]) },
        });
      }
      return;
    }
    const message = parsed.data;
    switch (message.type) {
      case 'request':
        void this.handleRequest(message.id, message.method, message.params);
        return;
      case 'ack':
        this.streams.get(message.stream)?.ack(message.bytes);
        return;
      case 'end':
        this.streams.get(message.stream)?.handlers.onClientEnd?.();
        return;
      case 'cancel':
        this.streams.get(message.stream)?.cancel();
        return;
    }
  }

  private async handleRequest(id: number, method: string, params: unknown): Promise<void> {
    const opened: OutStream[] = [];
    try {
      if (!Object.hasOwn(daemonMethods, method)) {
        throw new DaemonFailure('bad_request', `Unknown method "${method}"`);
      }
      const name = method as DaemonMethod;
      const parsed = daemonMethods[name].params.safeParse(params ?? {});
      if (!parsed.success) {
        throw new DaemonFailure('bad_request', describeIssue(parsed.error.issues[0]), {
          issues: parsed.error.issues.map((issue) => ({
            path: issue.path.join('.'),
            message: issue.message,
          })),
        });
      }
      const handler = handlers[name] as (
        params: unknown,
        context: { openStream(): OutStream },
        state: DaemonState,
      ) => Promise<unknown>;
      const result = await handler(
        parsed.data,
        { openStream: () => this.openStream(opened) },
        this.state,
      );
      this.sendMessage({ type: 'result', id, result });
      for (const stream of opened) stream.start();
    } catch (error) {
      for (const stream of opened) stream.cancel();
      const wire = toWireError(error);
      if (wire.code === 'internal') console.error(`[daemon] ${method} failed:`, error);
      this.sendMessage({ type: 'error', id, error: wire });
    }
  }

  private openStream(opened: OutStream[]): OutStream {
    const stream = new OutStream(this.nextStreamId++, this, (done) => {
      if (this.streams.get(done.id) === done) this.streams.delete(done.id);
    });
    this.streams.set(stream.id, stream);
    opened.push(stream);
    return stream;
  }

  private onClose(): void {
    // Exec streams kill their commands, PTY attachments detach (the shells keep running).
    for (const stream of [...this.streams.values()]) stream.cancel();
    this.streams.clear();
  }
}

function describeIssue(issue: { path: PropertyKey[]; message: string } | undefined): string {
  if (!issue) return 'Invalid request';
  const field = issue.path.map(String).join('.');
  return field ? `Invalid "${field}": ${issue.message}` : issue.message;
}

/** Options for `createDaemonServer`. */
export interface DaemonServerOptions {
  listen: ListenAddress;
  secret: string;
  state: DaemonState;
}

/** A listening daemon. */
export interface DaemonServer {
  /** `unix:/path` or `tcp:host:port` (with the real port when 0 was asked for). */
  address: string;
  close(): Promise<void>;
}

/** Listen for authenticated WebSocket connections from the server. */
export async function createDaemonServer(options: DaemonServerOptions): Promise<DaemonServer> {
  const secretDigest = digest(options.secret);
  const connections = new Set<Connection>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
  });
  const server = createServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'application/json', connection: 'close' });
    response.end(
      JSON.stringify({ code: 'bad_request', message: 'This endpoint only speaks WebSocket' }),
    );
  });
  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const authorization = request.headers.authorization ?? '';
    const token = authorization.startsWith('Bearer ') ? authorization.slice(7) : '';
    // Compare digests: timingSafeEqual needs equal lengths, and the secret's length stays hidden.
    if (!timingSafeEqual(digest(token), secretDigest)) {
      return refuse(socket, 401, {
        code: 'unauthenticated',
        message: 'Wrong or missing daemon secret',
      });
    }
    const clientVersion = Number(request.headers[DAEMON_PROTOCOL_HEADER]);
    if (clientVersion !== DAEMON_PROTOCOL_VERSION) {
      return refuse(socket, 426, {
        code: 'protocol_mismatch',
        message: mismatchMessage(request.headers[DAEMON_PROTOCOL_HEADER]),
        detail: {
          daemon: DAEMON_PROTOCOL_VERSION,
          client: Number.isFinite(clientVersion) ? clientVersion : null,
        },
      });
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = new Connection(ws, options.state);
      connections.add(connection);
      ws.on('close', () => connections.delete(connection));
    });
  });
  const heartbeat = setInterval(() => {
    for (const connection of connections) {
      if (!connection.alive) {
        connection.terminate();
        continue;
      }
      connection.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const address = await listen(server, options.listen);
  // Remember our socket's inode: a newer daemon may already have replaced the file by the time
  // this one closes, and its socket must not be removed.
  const socketIno =
    options.listen.kind === 'unix'
      ? ((await lstat(options.listen.path).catch(() => null))?.ino ?? null)
      : null;
  return {
    address,
    close: async () => {
      clearInterval(heartbeat);
      for (const connection of connections) connection.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (options.listen.kind === 'unix' && socketIno !== null) {
        const current = await lstat(options.listen.path).catch(() => null);
        if (current?.ino === socketIno) await unlink(options.listen.path).catch(() => undefined);
      }
    },
  };
}

function mismatchMessage(header: string | string[] | undefined): string {
  const client = Number(header);
  if (header === undefined || !Number.isFinite(client)) {
    return `The client did not send ${DAEMON_PROTOCOL_HEADER}; the daemon speaks protocol ${DAEMON_PROTOCOL_VERSION}. Update the server.`;
  }
  return client < DAEMON_PROTOCOL_VERSION
    ? `The server speaks daemon protocol ${client} but the workspace daemon speaks ${DAEMON_PROTOCOL_VERSION}. Update the server.`
    : `The server speaks daemon protocol ${client} but the workspace daemon speaks ${DAEMON_PROTOCOL_VERSION}. Update the workspace daemon (restart the workspace).`;
}

function refuse(
  socket: Duplex,
  status: number,
  body: { code: string; message: string; detail?: unknown },
) {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      'Connection: close\r\n\r\n' +
      text,
  );
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

async function listen(server: http.Server, address: ListenAddress): Promise<string> {
  if (address.kind === 'unix') {
    // A socket left behind by a killed daemon would make listen() fail with EADDRINUSE.
    const existing = await lstat(address.path).catch(() => null);
    if (existing?.isSocket()) await unlink(address.path);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (address.kind === 'unix') server.listen(address.path, resolve);
    else server.listen(address.port, address.host, resolve);
  });
  // The socket keeps the umask's mode: the driver's server may run as another uid, and every
  // connection must present the secret anyway.
  if (address.kind === 'unix') return `unix:${address.path}`;
  const bound = server.address() as AddressInfo;
  return `tcp:${bound.address}:${bound.port}`;
}
