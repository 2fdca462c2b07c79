import type { schema } from '@studio/db';
import type { CollabPeer, WorkspaceRole } from '@studio/protocol';
import type { DaemonConnection, DaemonStream } from '@studio/runtime';
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Services } from '../app.ts';
import { closeWithError } from '../http/error-handler.ts';
import { accessOf } from '../http/access.ts';

type WorkspaceRow = typeof schema.workspaces.$inferSelect;

/** The person behind a request as the daemon names them to others (cursors, "typing: Ada"). */
export function peerOf(request: FastifyRequest): CollabPeer {
  const { user } = request.principal!;
  return {
    name: user.name.slice(0, 100) || user.email.slice(0, 100),
    key: user.id,
    kind: 'person',
  };
}

/** Hands on a message from the browser, once the stream is open. */
export type Forward = (data: Buffer, binary: boolean) => void;

/**
 * Joins a WebSocket to a daemon stream of the route's workspace (terminals, the
 * desktop, language servers): tracks the socket so a session's end closes it, keeps what the
 * browser sends while the stream opens and hands it on in order, keeps the workspace awake while
 * joined, and cancels the stream when the socket closes. `open` opens the stream and wires its
 * output to the socket; it answers how to forward the browser's messages.
 */
export async function joinDaemonStream(
  socket: WebSocket,
  request: FastifyRequest,
  { workspaces, sockets }: Pick<Services, 'workspaces' | 'sockets'>,
  open: (
    daemon: DaemonConnection,
    row: WorkspaceRow,
    role: WorkspaceRole,
  ) => Promise<{ stream: DaemonStream; forward: Forward }>,
): Promise<void> {
  const principal = request.principal!;
  const tracked = sockets.track(socket, principal);
  const early: Array<[Buffer, boolean]> = [];
  const onEarly = (data: Buffer, binary: boolean) => early.push([data, binary]);
  socket.on('message', onEarly);
  let joined: { stream: DaemonStream; forward: Forward };
  let release = () => {};
  try {
    const { row, role } = await accessOf(request);
    tracked.onWorkspace(row.id, role);
    joined = await open(await workspaces.connect(row), row, role);
    release = workspaces.hold(row.id);
  } catch (error) {
    socket.off('message', onEarly);
    closeWithError(socket, error);
    return;
  }
  socket.off('message', onEarly);
  const leave = () => {
    release();
    joined.stream.cancel();
  };
  // The browser may have gone while the stream opened.
  if (socket.readyState !== socket.OPEN) return leave();
  for (const [data, binary] of early) joined.forward(data, binary);
  socket.on('message', joined.forward);
  socket.once('close', leave);
}
