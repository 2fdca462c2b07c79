import type WebSocket from 'ws';
import type { ApiClient } from './api-client.ts';

// The events socket only adds progress lines; waiting must not stall on a server that is slow to upgrade.
const HELLO_TIMEOUT_MS = 5_000;

/**
 * The server's live event stream (`/api/events`) for the token's user. Events that arrive before
 * anyone listens are kept, so a command can open the stream, then create a workspace, then
 * subscribe without missing the first progress steps. Events are delivered as the JSON they
 * came as: the listener reads them with the protocol's schema, which this module does not load
 * (it is most of a command's code, and loads while the server works).
 */
export class LiveEvents {
  private readonly backlog: unknown[] = [];
  private listener: ((event: unknown) => void) | null = null;
  private open = true;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const event = safeJson(String(data));
      if (this.listener) this.listener(event);
      else this.backlog.push(event);
    });
    socket.on('close', () => (this.open = false));
    socket.on('error', () => (this.open = false));
  }

  /**
   * Connects and waits for the server's `hello`, after which every later event of the user is
   * delivered. Resolves to null when the stream is unavailable; callers then rely on polling.
   */
  static async connect(api: ApiClient, token: string): Promise<LiveEvents | null> {
    let socket: WebSocket;
    try {
      socket = await api.openSocket('/api/events', { bearer: token });
    } catch {
      return null;
    }
    return new Promise((resolve) => {
      const fail = () => {
        clearTimeout(timer);
        socket.removeAllListeners();
        socket.on('error', () => {});
        socket.terminate();
        resolve(null);
      };
      const timer = setTimeout(fail, HELLO_TIMEOUT_MS);
      socket.once('error', fail);
      socket.once('close', fail);
      socket.once('unexpected-response', fail);
      socket.once('message', (data, isBinary) => {
        const hello = isBinary ? null : (safeJson(String(data)) as { type?: unknown } | null);
        if (hello?.type !== 'hello') {
          fail();
          return;
        }
        clearTimeout(timer);
        socket.removeAllListeners();
        resolve(new LiveEvents(socket));
      });
    });
  }

  /** Whether events still arrive; once false, only polling tells what happens. */
  get live(): boolean {
    return this.open;
  }

  /** Delivers the kept events, then every new one, to `listener` (one listener at a time). */
  subscribe(listener: (event: unknown) => void): () => void {
    this.listener = listener;
    for (const event of this.backlog.splice(0)) listener(event);
    return () => {
      if (this.listener === listener) this.listener = null;
    };
  }

  close(): void {
    this.open = false;
    this.socket.close();
    // Do not let a peer that never answers the close handshake keep the process alive.
    setTimeout(() => this.socket.terminate(), 1_000).unref();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
