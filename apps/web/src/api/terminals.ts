import {
  terminalSchema,
  terminalServerMessageSchema,
  type CreateTerminalBody,
  type Terminal,
  type TerminalClientMessage,
  type TerminalServerMessage,
} from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson, requestVoid, type Parser } from './http.ts';

// The terminal schema comes from the daemon's zod-mini schemas, which have no `.array()`.
const terminalListSchema: Parser<Terminal[]> = {
  parse: (data) => {
    if (!Array.isArray(data)) throw new Error('terminals answered with an unexpected shape');
    return data.map((item) => terminalSchema.parse(item));
  },
};

/** Query key of a workspace's terminal list. */
export function terminalsQueryKey(name: string) {
  return ['workspace-terminals', name] as const;
}

function terminalsPath(name: string): string {
  return `/api/workspaces/${encodeURIComponent(name)}/terminals`;
}

/** `GET terminals`: the workspace's shells, still running or exited, oldest first. */
export function terminalsQueryOptions(name: string) {
  return queryOptions({
    queryKey: terminalsQueryKey(name),
    queryFn: async () =>
      (await requestJson('GET', terminalsPath(name), terminalListSchema)).sort(
        (a, b) => a.createdAt - b.createdAt,
      ),
    // The page owns the list once loaded; a refetch would reorder nothing but cost a daemon call.
    staleTime: Infinity,
  });
}

/** `POST terminals`: open a shell in a new PTY. */
export function createTerminal(name: string, body: CreateTerminalBody): Promise<Terminal> {
  return requestJson('POST', terminalsPath(name), terminalSchema, body);
}

/** `PATCH terminals/:id`: rename a terminal; every client sees the new name. */
export function renameTerminal(name: string, id: string, title: string): Promise<Terminal> {
  return requestJson('PATCH', `${terminalsPath(name)}/${encodeURIComponent(id)}`, terminalSchema, {
    title,
  });
}

/** `DELETE terminals/:id`: end the shell. */
export function closeTerminal(name: string, id: string): Promise<void> {
  return requestVoid('DELETE', `${terminalsPath(name)}/${encodeURIComponent(id)}`);
}

/** What the caller hears from a terminal socket. */
export interface TerminalHandlers {
  onOutput: (bytes: Uint8Array) => void;
  onMessage: (message: TerminalServerMessage) => void;
  /** The socket closed; `code` is one of WS_CLOSE's codes or a standard one. */
  onClose: (code: number, reason: string) => void;
}

/** An attached terminal: send input and size changes, or let go. */
export interface TerminalConnection {
  send: (data: string) => void;
  resize: (cols: number, rows: number) => void;
  close: () => void;
}

/** Attach to a terminal over a WebSocket; the server first replays its scrollback. */
export function attachTerminal(
  name: string,
  id: string,
  handlers: TerminalHandlers,
): TerminalConnection {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(
    `${scheme}//${window.location.host}${terminalsPath(name)}/${encodeURIComponent(id)}/attach`,
  );
  socket.binaryType = 'arraybuffer';
  const encoder = new TextEncoder();
  // Sizes set before the socket opens are sent once it does, so the shell starts the right size.
  let pendingSize: { cols: number; rows: number } | null = null;
  let sentSize: { cols: number; rows: number } | null = null;

  socket.addEventListener('open', () => {
    if (pendingSize) socket.send(JSON.stringify({ type: 'resize', ...pendingSize }));
    sentSize = pendingSize;
    pendingSize = null;
  });
  socket.addEventListener('message', (message) => {
    if (message.data instanceof ArrayBuffer) {
      handlers.onOutput(new Uint8Array(message.data));
      return;
    }
    try {
      const parsed = terminalServerMessageSchema.safeParse(JSON.parse(String(message.data)));
      if (parsed.success) handlers.onMessage(parsed.data);
    } catch {
      // A text frame that is not JSON carries nothing for us.
    }
  });
  socket.addEventListener('close', (event) => handlers.onClose(event.code, event.reason));

  return {
    send: (data) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(data));
    },
    resize: (cols, rows) => {
      // The shell redraws on every size it is told: tell it only of a new one.
      if (sentSize?.cols === cols && sentSize.rows === rows) return;
      if (socket.readyState !== WebSocket.OPEN) {
        pendingSize = { cols, rows };
        return;
      }
      const message: TerminalClientMessage = { type: 'resize', cols, rows };
      socket.send(JSON.stringify(message));
      sentSize = { cols, rows };
    },
    close: () => socket.close(1000, 'client_closed'),
  };
}
