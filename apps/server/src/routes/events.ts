import { WS_CLOSE, type ServerEvent } from '@studio/protocol';
import type { App, Services } from '../app.ts';

/** How often the server pings, so proxies keep the socket open and dead peers are noticed. */
const PING_MS = 25_000;

/** `/api/events`: the signed-in browser's live channel; closed with 4401 the moment its session ends. */
export function eventsRoutes(
  app: App,
  { sockets, users, workspaces, members, previewLinks }: Services,
  recheckMs: number,
): void {
  app.get(
    '/api/events',
    {
      config: { access: 'user' },
      websocket: true,
      schema: { tags: ['events'], 'x-websocket': true },
    },
    async (socket, request) => {
      const principal = request.principal!;
      sockets.track(socket, principal);
      const send = (event: ServerEvent) => socket.send(JSON.stringify(event));
      // Workspaces shared with this person: their events come too, with this person's role.
      const shared = new Map(
        (await members.sharedWith(principal.user.id)).map(({ row, role, ownerEmail }) => [
          row.id,
          { role, ownerEmail },
        ]),
      );
      const sharedEvent = (_ownerId: string, event: ServerEvent) => {
        const id = event.type === 'workspace' ? event.workspace.id : 'id' in event ? event.id : '';
        const mine = shared.get(id);
        if (!mine) return;
        if (event.type === 'workspace.deleted') shared.delete(id);
        send(
          event.type === 'workspace'
            ? { ...event, workspace: { ...event.workspace, ...mine } }
            : event,
        );
      };
      const ownEvent = (event: ServerEvent) => {
        // A membership given or taken away (the members routes tell the person).
        if (event.type === 'workspace' && event.workspace.role !== 'owner')
          shared.set(event.workspace.id, {
            role: event.workspace.role,
            ownerEmail: event.workspace.ownerEmail ?? '',
          });
        if (event.type === 'workspace.deleted') shared.delete(event.id);
        send(event);
      };
      send({ type: 'hello', userId: principal.user.id });
      const ping = setInterval(() => send({ type: 'ping', at: Date.now() }), PING_MS);
      socket.on('message', () =>
        socket.close(WS_CLOSE.badMessage.code, WS_CLOSE.badMessage.reason),
      );
      const unsubscribe = workspaces.subscribe(principal.user.id, ownEvent);
      const unsubscribeShared = workspaces.subscribeAll((ownerId, event) => {
        if (ownerId !== principal.user.id) sharedEvent(ownerId, event);
      });
      socket.once('close', () => {
        clearInterval(ping);
        unsubscribe();
        unsubscribeShared();
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
    // A preview link revoked on another replica, or expired, closes the sockets opened through it.
    const links = sockets.links();
    if (links.length)
      previewLinks.live(links).then(
        (live) => links.filter((id) => !live.has(id)).forEach((id) => sockets.closeLink(id)),
        (error: unknown) => app.log.warn({ err: error }, 'socket preview link re-check failed'),
      );
  }, recheckMs);
  recheck.unref();
  app.addHook('onClose', async () => clearInterval(recheck));
}
