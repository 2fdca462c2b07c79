import {
  collabQuerySchema,
  collabSaveBodySchema,
  roleAllows,
  writtenFileSchema,
  WS_CLOSE,
} from '@studio/protocol';
import type { DaemonStream } from '@studio/runtime';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { workspaceOf } from '../http/access.ts';
import { closeWithError } from '../http/error-handler.ts';
import { joinDaemonStream, peerOf } from './daemon-socket.ts';

const nameParams = z.object({ name: z.string().max(64) });
/** A Yjs message from a browser: a keystroke is bytes, a pasted file is megabytes. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Shared editing. Each open text file is a Yjs document held by the workspace's daemon (so every
 * replica reaches the same one, and it outlives a server restart); this socket joins a browser
 * to it, one y-websocket message per binary frame. The daemon learns who the person is and
 * whether they may write from here, never from the browser.
 */
export function collabRoutes(app: App, services: Services): void {
  const { workspaces } = services;
  const tags = ['files'];

  app.get(
    '/api/workspaces/:name/collab',
    {
      config: { access: 'user', workspace: 'viewer' },
      websocket: true,
      schema: { tags, 'x-websocket': true, params: nameParams, querystring: collabQuerySchema },
    },
    async (socket, request) => {
      const { path, generation } = request.query as z.infer<typeof collabQuerySchema>;
      await joinDaemonStream(socket, request, services, async (daemon, row, role) => {
        const readOnly = !roleAllows(role, 'editor');
        const stream = await daemon.open('collab.open', {
          path,
          readOnly,
          user: peerOf(request),
          ...(generation ? { generation } : {}),
        });
        const forward = relay(socket, stream);
        return {
          stream,
          forward: (data: Buffer, binary: boolean) => {
            forward(data, binary);
            if (!readOnly) workspaces.touch(row.id);
          },
        };
      });
    },
  );

  // Who is where in the IDE (file and line), for the tree's and tabs' marks and "follow".
  app.get(
    '/api/workspaces/:name/collab/presence',
    {
      config: { access: 'user', workspace: 'viewer' },
      websocket: true,
      schema: { tags, 'x-websocket': true, params: nameParams },
    },
    async (socket, request) => {
      await joinDaemonStream(socket, request, services, async (daemon) => {
        const stream = await daemon.open('presence.open', { user: peerOf(request) });
        return { stream, forward: relay(socket, stream) };
      });
    },
  );

  app.post(
    '/api/workspaces/:name/collab/save',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: {
        tags,
        params: nameParams,
        body: collabSaveBodySchema,
        response: { 200: writtenFileSchema },
      },
    },
    async (request) => {
      const row = await workspaceOf(request);
      const written = await (await workspaces.connect(row)).call('collab.save', request.body);
      workspaces.touch(row.id);
      return written;
    },
  );
}

/**
 * Joins a socket to a daemon stream speaking y-websocket's protocol: one binary message per frame
 * both ways, at most 16 MiB; the stream's end closes the socket with why.
 */
function relay(socket: WebSocket, stream: DaemonStream): (data: Buffer, binary: boolean) => void {
  stream.onData((payload) => socket.send(payload, { binary: true }));
  stream.onEnd((error) => {
    if (error) closeWithError(socket, error);
    else socket.close(WS_CLOSE.streamEnded.code, WS_CLOSE.streamEnded.reason);
  });
  return (data, binary) => {
    if (!binary || data.byteLength > MAX_MESSAGE_BYTES) {
      socket.close(WS_CLOSE.badMessage.code, 'Expected a binary Yjs message of at most 16 MiB');
      return;
    }
    stream.write(data);
  };
}
