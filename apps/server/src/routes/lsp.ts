import { PassThrough } from 'node:stream';
import { LSP_LANGUAGES, WS_CLOSE } from '@studio/protocol';
import type { DaemonStream } from '@studio/runtime';
import { StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { closeWithError } from '../http/error-handler.ts';

const params = z.object({ name: z.string().max(64), language: z.enum(LSP_LANGUAGES) });

/** The largest LSP message taken from a browser: a whole file's text in `didOpen`, and more. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** The home folder as the browser names it; the daemon's real root replaces it on the way in. */
export const BROWSER_ROOT = 'file:///workspace';

/** Rewrites every URI under `from` to the same path under `to`, in a message's JSON text. */
function rebase(text: string, from: string, to: string): string {
  return text.split(from).join(to);
}

/**
 * `/api/workspaces/:name/lsp/:language`: a language server running in the workspace, as JSON-RPC
 * over a WebSocket (one message per text frame, as vscode-ws-jsonrpc speaks it). The daemon runs
 * the server on stdio; here its Content-Length framing is read and written with vscode-jsonrpc.
 * The browser names files `file:///workspace/<path>`; they are rebased on the home's real path
 * both ways, so the page never needs to know where the home is. The server process ends with the
 * socket.
 */
export function lspRoutes(app: App, { workspaces, sockets }: Services): void {
  app.get(
    '/api/workspaces/:name/lsp/:language',
    {
      config: { access: 'user' },
      websocket: true,
      schema: { tags: ['workspaces'], 'x-websocket': true, params },
    },
    async (socket, request) => {
      const principal = request.principal!;
      sockets.track(socket, principal);
      const { name, language } = request.params as z.infer<typeof params>;
      // The browser speaks first (initialize) while the server starts: keep it, in order.
      const early: string[] = [];
      const onEarly = (data: Buffer) => early.push(data.toString('utf8'));
      socket.on('message', onEarly);
      let server: DaemonStream;
      let ended = false;
      let release = () => {};
      const fromServer = new PassThrough();
      const toServer = new PassThrough();
      const reader = new StreamMessageReader(fromServer);
      const writer = new StreamMessageWriter(toServer);
      try {
        const row = await workspaces.get(principal.user.id, name);
        const daemon = await workspaces.connect(row);
        const home = `file://${encodeURI((await daemon.call('info', {})).root)}`;
        server = await daemon.open('lsp.open', { language });
        release = workspaces.hold(row.id);
        server.onData((payload) => fromServer.write(payload));
        toServer.on('data', (chunk: Buffer) => server.write(chunk));
        reader.listen((message) =>
          socket.send(rebase(JSON.stringify(message), home, BROWSER_ROOT)),
        );
        server.onEnd((error) => {
          ended = true;
          const close = error ? WS_CLOSE.unavailable : WS_CLOSE.streamEnded;
          socket.close(close.code, (error?.message ?? close.reason).slice(0, 120));
        });
        const onMessage = (data: Buffer | string) => {
          const text = data.toString();
          if (Buffer.byteLength(text) > MAX_MESSAGE_BYTES) {
            socket.close(WS_CLOSE.badMessage.code, 'an LSP message over 16 MiB');
            return;
          }
          try {
            void writer.write(JSON.parse(rebase(text, BROWSER_ROOT, home)));
          } catch {
            socket.close(WS_CLOSE.badMessage.code, 'an LSP message that is not JSON');
            return;
          }
          workspaces.touch(row.id);
        };
        socket.off('message', onEarly);
        for (const text of early) onMessage(text);
        socket.on('message', onMessage);
      } catch (error) {
        closeWithError(socket, error);
        return;
      }
      socket.once('close', () => {
        release();
        reader.dispose();
        writer.dispose();
        if (!ended) server.cancel();
      });
    },
  );
}
