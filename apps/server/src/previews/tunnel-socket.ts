import { Duplex } from 'node:stream';
import type { DaemonStream } from '@studio/runtime';

// Acknowledge in batches: one ack message per frame would double the daemon connection's traffic.
const ACK_BATCH_BYTES = 64 * 1024;

/**
 * A daemon `tunnel.open` stream (opened with `manualAck`) as a Node socket-like `Duplex`, so
 * `http.request` and `pipe` can use it. Bytes are acknowledged only once this side's reader took
 * them, so a slow reader pauses the TCP connection inside the workspace.
 */
export class TunnelSocket extends Duplex {
  private unacked = 0;
  private ackScheduled = false;
  private tunnelEnded = false;

  constructor(private readonly tunnel: DaemonStream) {
    super({ allowHalfOpen: true });
    tunnel.onData((payload) => {
      this.unacked += payload.byteLength;
      const chunk = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
      // Full: wait for _read, which is the reader asking for more.
      if (this.push(chunk)) this.scheduleAck();
    });
    tunnel.onEnd((error) => {
      this.tunnelEnded = true;
      if (error) this.destroy(error);
      else this.push(null);
    });
  }

  override _read(): void {
    this.scheduleAck();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.tunnel.writeWhenRoom(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // Half-close: the workspace side sees EOF and can still answer.
    this.tunnel.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.tunnelEnded) this.tunnel.cancel();
    callback(error);
  }

  /** Net-socket methods `http.ClientRequest` may call; there is no TCP socket here to tune. */
  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setTimeout(): this {
    return this;
  }

  private scheduleAck(): void {
    if (this.unacked >= ACK_BATCH_BYTES) return this.flushAck();
    if (this.ackScheduled || this.unacked === 0) return;
    this.ackScheduled = true;
    setImmediate(() => this.flushAck());
  }

  private flushAck(): void {
    this.ackScheduled = false;
    if (this.unacked === 0 || this.tunnelEnded) return;
    this.tunnel.ack(this.unacked);
    this.unacked = 0;
  }
}
