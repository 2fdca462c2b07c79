import { WS_CLOSE } from '@studio/protocol';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { VNC_PORT } from '../workspaces/desktop.ts';
import { joinDaemonStream } from './daemon-socket.ts';

const params = z.object({ name: z.string().max(64) });

/**
 * `/api/workspaces/:name/desktop/vnc`: the workspace's VNC server as RFB over a WebSocket, for
 * noVNC. The raw port is never exposed: bytes go through the daemon's tunnel, behind the
 * session and Origin checks every `/api` WebSocket gets.
 */
export function desktopRoutes(app: App, services: Services): void {
  app.get(
    '/api/workspaces/:name/desktop/vnc',
    {
      config: { access: 'user', workspace: 'editor' },
      websocket: true,
      schema: { tags: ['desktop'], 'x-websocket': true, params },
    },
    async (socket, request) => {
      await joinDaemonStream(socket, request, services, async (daemon, row) => {
        const tunnel = await daemon.open('tunnel.open', { port: VNC_PORT }, { manualAck: true });
        // Acknowledge once the bytes left for the browser: a slow viewer slows the VNC server.
        tunnel.onData((payload) => socket.send(payload, () => tunnel.ack(payload.byteLength)));
        tunnel.onEnd((error) => {
          const close = error ? WS_CLOSE.unavailable : WS_CLOSE.streamEnded;
          const reason =
            error?.code === 'unavailable'
              ? `${row.name} has no desktop running (nothing listens on its VNC port)`
              : (error?.message ?? close.reason);
          socket.close(close.code, reason.slice(0, 120));
        });
        const forward = (data: Buffer) => {
          tunnel.write(data);
          services.workspaces.touch(row.id);
        };
        return { stream: tunnel, forward };
      });
    },
  );
}
