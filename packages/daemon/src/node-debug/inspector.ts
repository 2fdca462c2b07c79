import { EventEmitter } from 'node:events';
import WebSocket from 'ws';

/**
 * A Chrome DevTools Protocol session on a Node.js inspector socket (`--inspect-brk` names its
 * `ws://` URL on stderr): `send` resolves with a method's result, events arrive as `emit(method,
 * params)`. It is the wire format V8 speaks, nothing else.
 */
export class Inspector extends EventEmitter {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (result: unknown) => void; reject: (error: Error) => void }
  >();

  private constructor(private readonly socket: WebSocket) {
    super();
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as {
        id?: number;
        method?: string;
        params?: unknown;
        result?: unknown;
        error?: { message: string };
      };
      if (message.id === undefined) {
        if (message.method) this.emit(message.method, message.params);
        return;
      }
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiting?.reject(new Error(message.error.message));
      else waiting?.resolve(message.result);
    });
    socket.on('close', () => {
      for (const waiting of this.pending.values())
        waiting.reject(new Error('The program is no longer running.'));
      this.pending.clear();
      this.emit('close');
    });
  }

  static async connect(url: string): Promise<Inspector> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return new Inspector(socket);
  }

  send<T = unknown>(method: string, params: object = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.socket.readyState !== WebSocket.OPEN)
        return reject(new Error('The program is no longer running.'));
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.socket.close();
  }
}
