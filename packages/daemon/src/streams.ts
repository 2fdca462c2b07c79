import {
  STREAM_WINDOW_BYTES,
  encodeFrame,
  type DaemonServerMessage,
  type DaemonStreamEvent,
  type ErrorCode,
} from '@studio/protocol';

/** What a stream needs from its connection: a way to put bytes and messages on the wire. */
export interface StreamTransport {
  sendBinary(frame: Uint8Array): void;
  sendMessage(message: DaemonServerMessage): void;
  /** Stop reading client input (its sink is full) — counted, so nested pauses nest. */
  pauseInput(): void;
  resumeInput(): void;
}

type Queued =
  | { kind: 'data'; channel: number; payload: Uint8Array }
  | { kind: 'event'; event: DaemonStreamEvent }
  | { kind: 'end'; error?: { code: ErrorCode; message: string } };

/** Handlers a stream's owner installs for what the client sends on it. */
export interface StreamHandlers {
  /** Binary frames from the client (PTY input, stdin, tunnel bytes, tar bytes). */
  onInput?: (payload: Uint8Array, channel: number) => void;
  /** The client has no more input. */
  onClientEnd?: () => void;
  /** The client tore the stream down, or the connection closed. */
  onCancel?: () => void;
  /** Called when the window fills (`true`) and when it opens again (`false`). */
  onBlocked?: (blocked: boolean) => void;
}

/**
 * One daemon → client stream with flow control: at most `window` unacknowledged payload bytes are
 * on the wire. Output beyond that waits in a queue and the source is told to pause; because every
 * source pauses as soon as it is told, the queue never holds much more than one source chunk.
 * Nothing is sent until `start()`, so the `{ stream }` result always precedes the stream's frames.
 */
export class OutStream {
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private unacked = 0;
  private started = false;
  private blocked = false;
  private finished = false;
  private cancelled = false;
  private releaseInput: (() => void) | null = null;
  handlers: StreamHandlers = {};

  constructor(
    readonly id: number,
    private readonly transport: StreamTransport,
    private readonly onFinished: (stream: OutStream) => void,
    private readonly window = STREAM_WINDOW_BYTES,
  ) {}

  /** True once `end()` was called or the stream was cancelled. */
  get ended(): boolean {
    return this.finished;
  }

  /** True while the client has not acknowledged enough for the source to continue. */
  get isBlocked(): boolean {
    return this.blocked;
  }

  /** Begin sending (called right after the request's `{ stream }` result went out). */
  start(): void {
    this.started = true;
    this.flush();
  }

  /** Queue bytes for the client. Returns false when the source should pause. */
  write(payload: Uint8Array, channel = 0): boolean {
    if (this.finished || payload.byteLength === 0) return !this.blocked;
    this.queue.push({ kind: 'data', channel, payload });
    this.queuedBytes += payload.byteLength;
    this.flush();
    return !this.blocked;
  }

  /** Queue an event; it is delivered after the bytes written before it. */
  event(event: DaemonStreamEvent): void {
    if (this.finished) return;
    this.queue.push({ kind: 'event', event });
    this.flush();
  }

  /** End the stream once everything queued is delivered; the first call wins. */
  end(error?: { code: ErrorCode; message: string }): void {
    if (this.finished) return;
    this.queue.push(error ? { kind: 'end', error } : { kind: 'end' });
    this.finished = true;
    this.flush();
  }

  /** The client consumed `bytes`. */
  ack(bytes: number): void {
    this.unacked = Math.max(0, this.unacked - bytes);
    this.flush();
  }

  /**
   * Stop reading client input until `sink` drains: a stdin, socket or unpacker whose buffer is
   * full. WebSockets have no per-stream input window, so the whole connection waits briefly.
   */
  holdInputUntilDrain(sink: NodeJS.EventEmitter): void {
    if (this.releaseInput || this.cancelled) return;
    this.transport.pauseInput();
    const release = () => {
      if (this.releaseInput !== release) return;
      this.releaseInput = null;
      sink.off('drain', release);
      sink.off('close', release);
      sink.off('error', release);
      this.transport.resumeInput();
    };
    this.releaseInput = release;
    sink.once('drain', release);
    sink.once('close', release);
    sink.once('error', release);
  }

  /** Drop everything: the client cancelled or went away. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.finished = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.releaseInput?.();
    this.onFinished(this);
    this.handlers.onCancel?.();
  }

  private flush(): void {
    if (this.started) {
      while (this.queue.length > 0) {
        const item = this.queue[0]!;
        if (item.kind === 'data') {
          const room = this.window - this.unacked;
          if (room <= 0) break;
          const piece =
            item.payload.byteLength <= room ? item.payload : item.payload.subarray(0, room);
          this.transport.sendBinary(encodeFrame(this.id, item.channel, piece));
          this.unacked += piece.byteLength;
          this.queuedBytes -= piece.byteLength;
          if (piece === item.payload) this.queue.shift();
          else item.payload = item.payload.subarray(room);
        } else if (item.kind === 'event') {
          this.queue.shift();
          this.transport.sendMessage({ type: 'event', stream: this.id, event: item.event });
        } else {
          this.queue.shift();
          this.transport.sendMessage(
            item.error
              ? { type: 'end', stream: this.id, error: item.error }
              : { type: 'end', stream: this.id },
          );
          this.releaseInput?.();
          this.onFinished(this);
          return;
        }
      }
    }
    const blocked = this.unacked + this.queuedBytes >= this.window;
    if (blocked !== this.blocked) {
      this.blocked = blocked;
      this.handlers.onBlocked?.(blocked);
    }
  }
}
