import { WS_CLOSE } from '@studio/protocol';
import type { DaemonStream } from '@studio/runtime';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { VNC_PORT } from '../workspaces/desktop.ts';
import { closeWithError } from '../http/error-handler.ts';

const params = z.object({ name: z.string().max(64) });

/**
 * `/api/workspaces/:name/desktop/vnc`: the workspace's VNC server as RFB over a WebSocket, for
 * noVNC. The raw port is never exposed: bytes go through the daemon's tunnel, behind the
 * session and Origin checks every `/api` WebSocket gets.
 */
export function desktopRoutes(app: App, { workspaces, sockets }: Services): void {
  app.get(
    '/api/workspaces/:name/desktop/vnc',
    {
      config: { access: 'user' },
      websocket: true,
      schema: { tags: ['desktop'], 'x-websocket': true, params },
    },
    async (socket, request) => {
      const principal = request.principal!;
      sockets.track(socket, principal);
      const { name } = request.params as z.infer<typeof params>;
      // The viewer may speak first (its RFB version) while the tunnel opens: keep it, in order.
      const early: Buffer[] = [];
      const onEarly = (data: Buffer) => early.push(data);
      socket.on('message', onEarly);
      let tunnel: DaemonStream;
      let ended = false;
      let release = () => {};
      try {
        const row = await workspaces.get(principal.user.id, name);
        const daemon = await workspaces.connect(row);
        tunnel = await daemon.open('tunnel.open', { port: VNC_PORT }, { manualAck: true });
        release = workspaces.hold(row.id);
        // Acknowledge once the bytes left for the browser: a slow viewer slows the VNC server.
        tunnel.onData((payload) => socket.send(payload, () => tunnel.ack(payload.byteLength)));
        tunnel.onEnd((error) => {
          ended = true;
          const close = error ? WS_CLOSE.unavailable : WS_CLOSE.streamEnded;
          const reason =
            error?.code === 'unavailable'
              ? `${name} has no desktop running (nothing listens on its VNC port)`
              : (error?.message ?? close.reason);
          socket.close(close.code, reason.slice(0, 120));
        });
        const onMessage = (data: Buffer) => {
          tunnel.write(data);
          workspaces.touch(row.id);
        };
        socket.off('message', onEarly);
        for (const data of early) onMessage(data);
        socket.on('message', onMessage);
      } catch (error) {
        closeWithError(socket, error);
        return;
      }
      socket.once('close', () => {
        release();
        if (!ended) tunnel.cancel();
      });
    },
  );
}
