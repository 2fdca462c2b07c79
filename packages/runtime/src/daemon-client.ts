import type { IncomingMessage } from 'node:http';
import WebSocket, { type RawData } from 'ws';
import {
  DAEMON_PROTOCOL_HEADER,
  DAEMON_PROTOCOL_VERSION,
  decodeFrame,
  encodeFrame,
  type DaemonMethod,
  type DaemonParams,
  type DaemonResult,
  type DaemonServerMessage,
  type DaemonStreamEvent,
  type ErrorCode,
} from '@studio/protocol';
import {
  DaemonError,
  type DaemonConnection,
  type DaemonStream,
  type ExecResult,
  type StreamOptions,
} from './runtime.ts';

/** How to reach a workspace daemon. */
export interface ConnectDaemonOptions {
  /** Unix socket of the daemon (preferred where the driver can share one). */
  socketPath?: string;
  /** `ws://host:port` when the daemon listens on TCP. */
  url?: string;
  secret: string;
  /** Keep retrying a refused connection this long while the daemon starts; 0 = one try. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

// Retry quickly at first: a daemon usually comes up within a few hundred milliseconds.
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 500;
// Errors that mean "not listening yet" rather than "something is wrong".
const RETRYABLE = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EAGAIN']);
// The daemon answers `hello` right after the upgrade; anything slower is a broken peer.
const HANDSHAKE_TIMEOUT_MS = 10_000;
// A writer that outpaces the socket by this much is told to slow down rather than buffering on.
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
// Auto-acknowledge in batches: one ack per frame would double the message count.
const ACK_BATCH_BYTES = 64 * 1024;
const PING_INTERVAL_MS = 30_000;

const LOST = 'Lost the connection to the workspace daemon';

/** Connect to a workspace daemon, check its protocol version, and return the connection. */
export async function connectDaemon(options: ConnectDaemonOptions): Promise<DaemonConnection> {
  if (!options.socketPath && !options.url) {
    throw new DaemonError('bad_request', 'connectDaemon needs a socketPath or a url');
  }
  const address = options.socketPath ? `ws+unix://${options.socketPath}:/` : options.url!;
  const deadline = Date.now() + (options.timeoutMs ?? 0);
  let delay = RETRY_MIN_MS;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(address, options);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const retryable = typeof code === 'string' && RETRYABLE.has(code);
      if (!retryable || Date.now() + delay > deadline) {
        if (error instanceof DaemonError) throw error;
        throw new DaemonError(
          'unavailable',
          `Cannot reach the workspace daemon (${code ?? (error as Error).message})`,
        );
      }
      await sleep(delay, options.signal);
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  }
}

function attempt(address: string, options: ConnectDaemonOptions): Promise<DaemonConnection> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(address, {
      headers: {
        authorization: `Bearer ${options.secret}`,
        [DAEMON_PROTOCOL_HEADER]: String(DAEMON_PROTOCOL_VERSION),
      },
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: 128 * 1024 * 1024,
    });
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.terminate();
      reject(error);
    };
    const onAbort = () => fail(options.signal!.reason as Error);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () => fail(new DaemonError('timeout', 'The workspace daemon did not answer in time')),
      HANDSHAKE_TIMEOUT_MS,
    );
    socket.on('error', fail);
    socket.on('unexpected-response', (_request, response: IncomingMessage) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk.slice(0, 4096)));
      response.on('end', () => fail(refusal(response.statusCode ?? 0, body)));
      response.on('error', () => fail(refusal(response.statusCode ?? 0, body)));
    });
    socket.once('message', (data: RawData, isBinary: boolean) => {
      let hello: DaemonServerMessage | null = null;
      try {
        hello = isBinary
          ? null
          : (JSON.parse(rawToBuffer(data).toString('utf8')) as DaemonServerMessage);
      } catch {
        hello = null;
      }
      if (!hello || hello.type !== 'hello') {
        return fail(new DaemonError('protocol_mismatch', 'The workspace daemon did not say hello'));
      }
      if (hello.protocol !== DAEMON_PROTOCOL_VERSION) {
        return fail(
          new DaemonError('protocol_mismatch', mismatch(hello.protocol), {
            daemon: hello.protocol,
            client: DAEMON_PROTOCOL_VERSION,
          }),
        );
      }
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.off('error', fail);
      resolve(new Connection(socket, hello.version));
    });
  });
}

function mismatch(daemonProtocol: number): string {
  return daemonProtocol > DAEMON_PROTOCOL_VERSION
    ? `The workspace daemon speaks protocol ${daemonProtocol} but this server speaks ${DAEMON_PROTOCOL_VERSION}. Update the server.`
    : `The workspace daemon speaks protocol ${daemonProtocol} but this server speaks ${DAEMON_PROTOCOL_VERSION}. Restart the workspace so it runs the current daemon.`;
}

function refusal(status: number, body: string): DaemonError {
  let parsed: { code?: string; message?: string; detail?: unknown } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    // Not our JSON body; fall back on the status.
  }
  if (status === 426) {
    return new DaemonError(
      'protocol_mismatch',
      parsed.message ?? `The workspace daemon refused protocol ${DAEMON_PROTOCOL_VERSION}`,
      parsed.detail,
    );
  }
  if (status === 401) {
    return new DaemonError('unauthenticated', 'The workspace daemon refused the secret');
  }
  return new DaemonError('unavailable', `The workspace daemon answered HTTP ${status}`);
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: DaemonError): void;
  /** Set for requests that open a stream: registers it before any of its frames are handled. */
  onStream?: (id: number) => void;
}

class Connection implements DaemonConnection {
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Map<number, ClientStream>();
  private readonly closeListeners: ((error?: DaemonError) => void)[] = [];
  private nextId = 1;
  private closeError: DaemonError | undefined;
  private deliberate = false;
  private alive = true;
  private readonly heartbeat: NodeJS.Timeout;
  closed = false;

  constructor(
    private readonly socket: WebSocket,
    readonly daemonVersion: string,
  ) {
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', () => this.handleClose());
    socket.on('error', () => undefined);
    socket.on('pong', () => (this.alive = true));
    this.heartbeat = setInterval(() => {
      if (!this.alive) return socket.terminate();
      this.alive = false;
      socket.ping();
    }, PING_INTERVAL_MS);
    this.heartbeat.unref();
  }

  call<M extends DaemonMethod>(method: M, params: DaemonParams<M>): Promise<DaemonResult<M>> {
    return this.request(method, params) as Promise<DaemonResult<M>>;
  }

  async open<M extends DaemonMethod>(
    method: M,
    params: DaemonParams<M>,
    options: StreamOptions = {},
  ): Promise<DaemonStream> {
    let stream: ClientStream | null = null;
    await this.request(method, params, (id) => {
      stream = new ClientStream(id, this, options.manualAck ?? false);
      this.streams.set(id, stream);
    });
    if (!stream) throw new DaemonError('internal', `${method} did not open a stream`);
    return stream;
  }

  async exec(
    command: string,
    args: string[] = [],
    options: Omit<DaemonParams<'exec.start'>, 'command' | 'args'> & { stdin?: string } = {},
  ): Promise<ExecResult> {
    const { stdin, ...rest } = options;
    const stream = await this.open('exec.start', { command, args, ...rest });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let exit: Extract<DaemonStreamEvent, { kind: 'exit' }> | null = null;
    return new Promise((resolve, reject) => {
      stream.onData((payload, channel) =>
        (channel === 1 ? stderr : stdout).push(Buffer.from(payload)),
      );
      stream.onEvent((event) => {
        if (event.kind === 'exit') exit = event;
      });
      stream.onEnd((error) => {
        if (error) return reject(error);
        resolve({
          code: exit?.code ?? null,
          signal: exit?.signal ?? null,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          timedOut: exit?.timedOut ?? false,
          truncated: exit?.truncated ?? false,
        });
      });
      if (stdin !== undefined && stdin.length > 0) stream.write(stdin);
      stream.end();
    });
  }

  onClose(listener: (error?: DaemonError) => void): void {
    if (this.closed) queueMicrotask(() => listener(this.closeError));
    else this.closeListeners.push(listener);
  }

  close(): void {
    if (this.closed) return;
    this.deliberate = true;
    this.socket.close(1000);
    // Do not wait for the closing handshake of a daemon that may be gone.
    setTimeout(() => this.socket.terminate(), 1000).unref();
    this.handleClose();
  }

  /** @internal Send a JSON message. */
  send(message: object): void {
    if (this.closed) return;
    this.socket.send(JSON.stringify(message));
  }

  /** @internal Send a binary frame, refusing to queue without bound. */
  sendFrame(stream: number, payload: Uint8Array): void {
    if (this.closed) throw new DaemonError('unavailable', LOST);
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      throw new DaemonError(
        'payload_too_large',
        'Too much unsent data on the workspace daemon connection; wait before writing more',
      );
    }
    this.socket.send(encodeFrame(stream, 0, payload), { binary: true });
  }

  /** @internal A stream is over; forget it. */
  forget(id: number): void {
    this.streams.delete(id);
  }

  private request(
    method: string,
    params: unknown,
    onStream?: (id: number) => void,
  ): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closeError ?? new DaemonError('unavailable', LOST));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, onStream ? { resolve, reject, onStream } : { resolve, reject });
      this.send({ type: 'request', id, method, params });
    });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const bytes = rawToBuffer(data);
    if (isBinary) {
      const frame = decodeFrame(bytes);
      if (frame) this.streams.get(frame.stream)?.receive(frame.payload, frame.channel);
      return;
    }
    let message: DaemonServerMessage;
    try {
      message = JSON.parse(bytes.toString('utf8')) as DaemonServerMessage;
    } catch {
      return;
    }
    switch (message.type) {
      case 'result': {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (pending.onStream) {
          const stream = (message.result as { stream?: unknown } | null)?.stream;
          if (typeof stream !== 'number') {
            return pending.reject(new DaemonError('internal', 'The daemon did not name a stream'));
          }
          // Synchronously, so frames that follow in the same read find their stream.
          pending.onStream(stream);
        }
        pending.resolve(message.result);
        return;
      }
      case 'error': {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        pending.reject(toDaemonError(message.error));
        return;
      }
      case 'event':
        this.streams.get(message.stream)?.receiveEvent(message.event);
        return;
      case 'end': {
        const stream = this.streams.get(message.stream);
        this.streams.delete(message.stream);
        stream?.finish(message.error ? toDaemonError(message.error) : undefined);
        return;
      }
      default:
        return;
    }
  }

  private handleClose(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    const error = new DaemonError('unavailable', LOST);
    this.closeError = this.deliberate ? undefined : error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    for (const stream of this.streams.values()) stream.finish(error);
    this.streams.clear();
    for (const listener of this.closeListeners.splice(0)) listener(this.closeError);
  }
}

type Item =
  | { kind: 'data'; payload: Uint8Array; channel: number }
  | { kind: 'event'; event: DaemonStreamEvent };

/**
 * A stream on the client side. What arrives before any listener is attached is kept and delivered
 * in order (on a microtask, so listeners attached together all see it); an item whose kind has no
 * listener yet waits for one; `end` is remembered for late `onEnd` listeners.
 */
class ClientStream implements DaemonStream {
  private readonly dataListeners: ((payload: Uint8Array, channel: number) => void)[] = [];
  private readonly eventListeners: ((event: DaemonStreamEvent) => void)[] = [];
  private readonly endListeners: ((error?: DaemonError) => void)[] = [];
  private backlog: Item[] = [];
  private lateData: Item[] = [];
  private lateEvents: Item[] = [];
  private ended: { error?: DaemonError } | null = null;
  private endDelivered = false;
  private scheduled = false;
  private unackedLocal = 0;
  private ackScheduled = false;
  private localDone = false;

  constructor(
    readonly id: number,
    private readonly connection: Connection,
    private readonly manualAck: boolean,
  ) {}

  onData(listener: (payload: Uint8Array, channel: number) => void): void {
    this.dataListeners.push(listener);
    this.schedule();
  }

  onEvent(listener: (event: DaemonStreamEvent) => void): void {
    this.eventListeners.push(listener);
    this.schedule();
  }

  onEnd(listener: (error?: DaemonError) => void): void {
    this.endListeners.push(listener);
    this.schedule();
  }

  write(payload: Uint8Array | string): void {
    if (this.ended) return;
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    if (bytes.byteLength > 0) this.connection.sendFrame(this.id, bytes);
  }

  /**
   * Write, waiting while the shared connection has too much unsent data: `write` refuses to
   * buffer without bound (`payload_too_large`) rather than exposing a drain signal.
   */
  async writeWhenRoom(payload: Uint8Array): Promise<void> {
    for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
      try {
        this.write(payload);
        return;
      } catch (error) {
        if (!(error instanceof DaemonError && error.code === 'payload_too_large')) throw error;
      }
      await sleep(delay);
    }
  }

  end(): void {
    if (this.ended || this.localDone) return;
    this.localDone = true;
    this.connection.send({ type: 'end', stream: this.id });
  }

  cancel(): void {
    if (this.ended) return;
    this.connection.send({ type: 'cancel', stream: this.id });
    this.connection.forget(this.id);
    this.finish();
  }

  ack(bytes: number): void {
    if (this.ended || bytes <= 0) return;
    this.connection.send({ type: 'ack', stream: this.id, bytes: Math.floor(bytes) });
  }

  /** @internal Bytes from the daemon. */
  receive(payload: Uint8Array, channel: number): void {
    if (this.ended) return;
    this.backlog.push({ kind: 'data', payload, channel });
    if (!this.manualAck) this.autoAck(payload.byteLength);
    this.schedule();
  }

  /** @internal An event from the daemon. */
  receiveEvent(event: DaemonStreamEvent): void {
    if (this.ended) return;
    this.backlog.push({ kind: 'event', event });
    this.schedule();
  }

  /** @internal The stream is over (daemon `end`, cancel, or a lost connection). */
  finish(error?: DaemonError): void {
    if (this.ended) return;
    this.ended = error ? { error } : {};
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    if (this.dataListeners.length > 0 && this.lateData.length > 0) {
      this.deliver(this.lateData.splice(0));
    }
    if (this.eventListeners.length > 0 && this.lateEvents.length > 0) {
      this.deliver(this.lateEvents.splice(0));
    }
    const anyListener =
      this.dataListeners.length + this.eventListeners.length + this.endListeners.length > 0;
    if (!anyListener) return;
    this.deliver(this.backlog.splice(0));
    if (this.ended && !this.endDelivered && this.endListeners.length > 0) {
      this.endDelivered = true;
      const error = this.ended.error;
      for (const listener of this.endListeners.splice(0)) listener(error);
    } else if (this.endDelivered && this.endListeners.length > 0) {
      const error = this.ended?.error;
      for (const listener of this.endListeners.splice(0)) listener(error);
    }
  }

  private deliver(items: Item[]): void {
    for (const item of items) {
      if (item.kind === 'data') {
        if (this.dataListeners.length === 0) this.lateData.push(item);
        for (const listener of this.dataListeners) listener(item.payload, item.channel);
      } else {
        if (this.eventListeners.length === 0) this.lateEvents.push(item);
        for (const listener of this.eventListeners) listener(item.event);
      }
    }
  }

  private autoAck(bytes: number): void {
    this.unackedLocal += bytes;
    if (this.unackedLocal >= ACK_BATCH_BYTES) return this.flushAck();
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => this.flushAck());
  }

  private flushAck(): void {
    this.ackScheduled = false;
    if (this.unackedLocal === 0 || this.ended) {
      this.unackedLocal = 0;
      return;
    }
    this.connection.send({ type: 'ack', stream: this.id, bytes: this.unackedLocal });
    this.unackedLocal = 0;
  }
}

function toDaemonError(error: { code: ErrorCode; message: string; detail?: unknown }): DaemonError {
  return new DaemonError(error.code, error.message, error.detail);
}

function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Streams a tar archive to the daemon, which unpacks it into `path` (its guard refuses `..`,
 * symlink escapes and archives over `maxBytes` unpacked); answers what it unpacked.
 */
export async function uploadArchive(
  daemon: DaemonConnection,
  path: string,
  archive: AsyncIterable<unknown>,
  maxBytes?: number,
): Promise<{ files: number; bytes: number }> {
  const stream = await daemon.open('files.upload', { path, ...(maxBytes ? { maxBytes } : {}) });
  let result = { files: 0, bytes: 0 };
  stream.onEvent((event) => {
    if (event.kind === 'uploaded') result = { files: event.files, bytes: event.bytes };
  });
  const finished = new Promise<void>((resolve, reject) =>
    stream.onEnd((error) => (error ? reject(error) : resolve())),
  );
  finished.catch(() => {});
  try {
    for await (const chunk of archive) await stream.writeWhenRoom(chunk as Buffer);
    stream.end();
    await finished;
  } catch (error) {
    stream.cancel();
    throw error;
  }
  return result;
}
