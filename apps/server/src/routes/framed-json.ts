import { PassThrough } from 'node:stream';
import { WS_CLOSE } from '@studio/protocol';
import type { DaemonConnection, DaemonStream } from '@studio/runtime';
import type { FastifyRequest } from 'fastify';
import { StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { WebSocket } from 'ws';
import type { Services } from '../app.ts';
import { joinDaemonStream } from './daemon-socket.ts';

/** The largest message taken from a browser: a whole file's text in `didOpen`, and more. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Joins a WebSocket (one JSON message per text frame) to a server in the workspace that frames
 * JSON with Content-Length headers, as language servers and debug adapters do; vscode-jsonrpc
 * reads and writes the framing. `rebase` rewrites each message on its way (the browser's names
 * for files to the home's real ones, and back). The server's process ends with the socket.
 */
export async function joinFramedJsonServer(
  socket: WebSocket,
  request: FastifyRequest,
  services: Services,
  label: string,
  open: (daemon: DaemonConnection) => Promise<{
    stream: DaemonStream;
    toBrowser: (message: object) => string;
    fromBrowser: (text: string) => object;
  }>,
): Promise<void> {
  await joinDaemonStream(socket, request, services, async (daemon, row) => {
    const { stream, toBrowser, fromBrowser } = await open(daemon);
    const fromServer = new PassThrough();
    const toServer = new PassThrough();
    const reader = new StreamMessageReader(fromServer);
    const writer = new StreamMessageWriter(toServer);
    stream.onData((payload) => fromServer.write(payload));
    toServer.on('data', (chunk: Buffer) => stream.write(chunk));
    reader.listen((message) => socket.send(toBrowser(message)));
    stream.onEnd((error) => {
      reader.dispose();
      writer.dispose();
      const close = error ? WS_CLOSE.unavailable : WS_CLOSE.streamEnded;
      socket.close(close.code, (error?.message ?? close.reason).slice(0, 120));
    });
    const forward = (data: Buffer) => {
      if (data.byteLength > MAX_MESSAGE_BYTES) {
        socket.close(WS_CLOSE.badMessage.code, `a ${label} message over 16 MiB`);
        return;
      }
      let message: object | null = null;
      try {
        message = fromBrowser(data.toString());
      } catch {
        // Answered below.
      }
      if (typeof message !== 'object' || message === null || Array.isArray(message)) {
        socket.close(WS_CLOSE.badMessage.code, `a ${label} message that is not a JSON object`);
        return;
      }
      void writer.write(message as Parameters<typeof writer.write>[0]);
      services.workspaces.touch(row.id);
    };
    return { stream, forward };
  });
}
