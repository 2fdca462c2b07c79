// JSON-RPC 2.0 over a WebSocket, one message per text frame, as the IDE's language client speaks
// it to `/api/workspaces/:name/lsp/:language`: requests answered by id, notifications kept and
// waited for. For tests and the bench.
import type WebSocket from 'ws';

export interface Notification {
  method: string;
  params: unknown;
  /** performance.now() when it arrived. */
  at: number;
}

export function lspOverSocket(socket: WebSocket) {
  const pending = new Map<number, (result: unknown) => void>();
  const notifications: Notification[] = [];
  const waiters = new Set<() => void>();
  let next = 1;
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as {
      id?: number;
      method?: string;
      params?: unknown;
      result?: unknown;
    };
    if (message.id !== undefined && message.method === undefined) {
      pending.get(message.id)?.(message.result);
      pending.delete(message.id);
    } else if (message.method) {
      notifications.push({ method: message.method, params: message.params, at: performance.now() });
      for (const waiter of waiters) waiter();
    }
  });
  return {
    notifications,
    request: (method: string, params: unknown) =>
      new Promise<unknown>((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      }),
    notify: (method: string, params: unknown) =>
      socket.send(JSON.stringify({ jsonrpc: '2.0', method, params })),
    /** The first notification from index `from` on that `matches`, waiting up to `timeoutMs`. */
    async next(
      matches: (note: Notification) => boolean,
      from = 0,
      timeoutMs = 15_000,
    ): Promise<Notification> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = notifications.slice(from).find(matches);
        if (found) return found;
        if (Date.now() > deadline) throw new Error('timed out waiting for a notification');
        await new Promise<void>((resolve) => {
          const done = () => {
            waiters.delete(done);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(done, 200);
          waiters.add(done);
        });
      }
    },
  };
}
