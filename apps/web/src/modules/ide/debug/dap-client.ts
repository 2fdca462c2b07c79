// The Debug Adapter Protocol's client side over a WebSocket, one message per text frame, as the
// platform serves it at `/api/workspaces/:name/dap/:adapter`: requests answered by `request_seq`,
// events handed to listeners. No DOM types, so the server's tests drive a real adapter with it too.
import type { DebugProtocol } from '@vscode/debugprotocol';

/** What the client needs of a socket: the browser's WebSocket and `ws` both fit. */
export interface DapSocket {
  send(text: string): void;
  close(): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(
    type: 'close',
    listener: (event: { code: number; reason: string }) => void,
  ): void;
}

/** A request the adapter refused, with its own words (`message`, or its error's format). */
export class DapError extends Error {
  override name = 'DapError';
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
  }
}

type Waiter = { resolve: (body: unknown) => void; reject: (error: Error) => void; command: string };
type EventListener = (event: DebugProtocol.Event) => void;

export class DapClient {
  private seq = 1;
  private readonly pending = new Map<number, Waiter>();
  private readonly listeners = new Set<EventListener>();
  private closedWith: string | null = null;
  private readonly closeListeners = new Set<(reason: string) => void>();

  constructor(private readonly socket: DapSocket) {
    socket.addEventListener('message', ({ data }) => this.receive(String(data)));
    socket.addEventListener('close', ({ reason }) => {
      this.closedWith = reason || 'the debug adapter stopped';
      for (const waiter of this.pending.values())
        waiter.reject(new DapError(waiter.command, this.closedWith));
      this.pending.clear();
      for (const listener of this.closeListeners) listener(this.closedWith);
    });
  }

  /** Sends `command` and resolves with the response's body, or rejects with the adapter's error. */
  request<T = unknown>(command: string, args?: unknown): Promise<T> {
    if (this.closedWith !== null) return Promise.reject(new DapError(command, this.closedWith));
    const seq = this.seq++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (body: unknown) => void, reject, command });
      this.socket.send(
        JSON.stringify({ seq, type: 'request', command, ...(args ? { arguments: args } : {}) }),
      );
    });
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onClose(listener: (reason: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** The first event named `name` (and matching `test`) from now on. */
  next<E extends DebugProtocol.Event>(name: string, test: (event: E) => boolean = () => true) {
    return new Promise<E>((resolve, reject) => {
      const off = this.onEvent((event) => {
        if (event.event !== name || !test(event as E)) return;
        off();
        offClose();
        resolve(event as E);
      });
      const offClose = this.onClose((reason) => {
        off();
        reject(new DapError(name, reason));
      });
    });
  }

  close(): void {
    this.socket.close();
  }

  private receive(text: string): void {
    let message: DebugProtocol.ProtocolMessage;
    try {
      message = JSON.parse(text) as DebugProtocol.ProtocolMessage;
    } catch {
      return;
    }
    if (message.type === 'response') {
      const response = message as DebugProtocol.Response;
      const waiter = this.pending.get(response.request_seq);
      if (!waiter) return;
      this.pending.delete(response.request_seq);
      if (response.success) waiter.resolve(response.body);
      else
        waiter.reject(
          new DapError(response.command, errorText(response) ?? `${response.command} failed`),
        );
    } else if (message.type === 'event') {
      for (const listener of [...this.listeners]) listener(message as DebugProtocol.Event);
    } else if (message.type === 'request') {
      // Reverse requests (runInTerminal, startDebugging) are not advertised; say so if asked.
      const request = message as DebugProtocol.Request;
      this.socket.send(
        JSON.stringify({
          seq: this.seq++,
          type: 'response',
          request_seq: request.seq,
          command: request.command,
          success: false,
          message: `${request.command} is not supported`,
        }),
      );
    }
  }
}

/** An error response's text: its formatted error with `{variables}` filled in, or its message. */
function errorText(response: DebugProtocol.Response): string | undefined {
  const error = (response.body as DebugProtocol.ErrorResponse['body'] | undefined)?.error;
  if (error?.format)
    return error.format.replace(
      /\{(\w+)\}/g,
      (whole, key: string) => error.variables?.[key] ?? whole,
    );
  return response.message;
}
