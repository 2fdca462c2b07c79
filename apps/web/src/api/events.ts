import { serverEventSchema, WS_CLOSE, type ServerEvent } from '@studio/protocol';

/** What the caller hears from the `/api/events` connection. */
export interface EventsHandlers {
  onEvent?: (event: ServerEvent) => void;
  /** The server ended this session (signed out elsewhere, password changed, user disabled). */
  onSessionEnded: () => void;
  /** The socket closed for another reason; a reconnect is scheduled. */
  onDisconnect?: () => void;
}

const FIRST_RETRY_MS = 1_000;
// Caps the wait so a restarted server is noticed within half a minute.
const MAX_RETRY_MS = 30_000;

function eventsUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/api/events`;
}

/** Open `/api/events` (cookie auth) and keep it open with backoff; returns a function that closes it. */
export function connectEvents(handlers: EventsHandlers): () => void {
  let socket: WebSocket | null = null;
  let retryTimer: number | undefined;
  let delay = FIRST_RETRY_MS;
  let stopped = false;

  const open = () => {
    if (stopped) return;
    socket = new WebSocket(eventsUrl());
    socket.addEventListener('message', (message) => {
      let data: unknown;
      try {
        data = JSON.parse(String(message.data));
      } catch {
        return;
      }
      const parsed = serverEventSchema.safeParse(data);
      if (!parsed.success) return;
      if (parsed.data.type === 'hello') delay = FIRST_RETRY_MS;
      handlers.onEvent?.(parsed.data);
    });
    socket.addEventListener('close', (event) => {
      socket = null;
      if (stopped) return;
      if (event.code === WS_CLOSE.sessionEnded.code) {
        stopped = true;
        handlers.onSessionEnded();
        return;
      }
      handlers.onDisconnect?.();
      // Jitter spreads reconnects when a server restart drops every browser at once.
      const wait = delay * (0.75 + Math.random() * 0.5);
      delay = Math.min(delay * 2, MAX_RETRY_MS);
      retryTimer = window.setTimeout(open, wait);
    });
  };

  open();
  return () => {
    stopped = true;
    window.clearTimeout(retryTimer);
    socket?.close(1000, 'client_closed');
  };
}
