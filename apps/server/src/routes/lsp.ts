import { PassThrough } from 'node:stream';
import { LSP_LANGUAGES, WS_CLOSE } from '@studio/protocol';
import { StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { joinDaemonStream } from './daemon-socket.ts';

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
export function lspRoutes(app: App, services: Services): void {
  app.get(
    '/api/workspaces/:name/lsp/:language',
    {
      config: { access: 'user' },
      websocket: true,
      schema: { tags: ['workspaces'], 'x-websocket': true, params },
    },
    async (socket, request) => {
      const { name, language } = request.params as z.infer<typeof params>;
      await joinDaemonStream(socket, request, services, name, async (daemon, row) => {
        const home = `file://${encodeURI((await daemon.call('info', {})).root)}`;
        const server = await daemon.open('lsp.open', { language });
        const fromServer = new PassThrough();
        const toServer = new PassThrough();
        const reader = new StreamMessageReader(fromServer);
        const writer = new StreamMessageWriter(toServer);
        server.onData((payload) => fromServer.write(payload));
        toServer.on('data', (chunk: Buffer) => server.write(chunk));
        reader.listen((message) =>
          socket.send(rebase(JSON.stringify(message), home, BROWSER_ROOT)),
        );
        server.onEnd((error) => {
          reader.dispose();
          writer.dispose();
          const close = error ? WS_CLOSE.unavailable : WS_CLOSE.streamEnded;
          socket.close(close.code, (error?.message ?? close.reason).slice(0, 120));
        });
        const forward = (data: Buffer) => {
          const text = data.toString();
          if (data.byteLength > MAX_MESSAGE_BYTES) {
            socket.close(WS_CLOSE.badMessage.code, 'an LSP message over 16 MiB');
            return;
          }
          try {
            void writer.write(JSON.parse(rebase(text, BROWSER_ROOT, home)));
          } catch {
            socket.close(WS_CLOSE.badMessage.code, 'an LSP message that is not JSON');
            return;
          }
          services.workspaces.touch(row.id);
        };
        return { stream: server, forward };
      });
    },
  );
}
