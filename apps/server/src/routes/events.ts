import { WS_CLOSE, type ServerEvent } from '@studio/protocol';
import type { App, Services } from '../app.ts';

/** How often the server pings, so proxies keep the socket open and dead peers are noticed. */
const PING_MS = 25_000;

/** `/api/events`: the signed-in browser's live channel; closed with 4401 the moment its session ends. */
export function eventsRoutes(
  app: App,
  { sockets, users, workspaces, members }: Services,
  recheckMs: number,
): void {
  app.get(
    '/api/events',
    {
      config: { access: 'user' },
      websocket: true,
      schema: { tags: ['events'], 'x-websocket': true },
    },
    (socket, request) => {
      const principal = request.principal!;
      sockets.track(socket, principal);
      const send = (event: ServerEvent) => socket.send(JSON.stringify(event));
      send({ type: 'hello', userId: principal.user.id });
      const ping = setInterval(() => send({ type: 'ping', at: Date.now() }), PING_MS);
      socket.on('message', () =>
        socket.close(WS_CLOSE.badMessage.code, WS_CLOSE.badMessage.reason),
      );
      const unsubscribe = workspaces.subscribe(principal.user.id, send);
      socket.once('close', () => {
        clearInterval(ping);
        unsubscribe();
      });
    },
  );

  // Sessions ended elsewhere (another replica, a direct database change, expiry) close their sockets here.
  const recheck = setInterval(() => {
    for (const { sessionId, close } of sockets.sessions()) {
      users.isSessionLive(sessionId).then(
        (live) => live || close(),
        (error: unknown) => app.log.warn({ err: error }, 'socket session re-check failed'),
      );
    }
    // A member removed (or given another role) on another replica loses their sockets here too.
    for (const { userId, workspaceId, role, close } of sockets.members()) {
      members.roleOf(userId, workspaceId).then(
        (now) => now === role || close(),
        (error: unknown) => app.log.warn({ err: error }, 'socket membership re-check failed'),
      );
    }
  }, recheckMs);
  recheck.unref();
  app.addHook('onClose', async () => clearInterval(recheck));
}
