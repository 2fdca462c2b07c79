import { LSP_LANGUAGES } from '@studio/protocol';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { joinFramedJsonServer } from './framed-json.ts';

const params = z.object({ name: z.string().max(64), language: z.enum(LSP_LANGUAGES) });

/** The home folder as the browser names it; the daemon's real root replaces it on the way in. */
export const BROWSER_ROOT = 'file:///workspace';

/** Rewrites every URI under `from` to the same path under `to`, in a message's JSON text. */
function rebase(text: string, from: string, to: string): string {
  return text.split(from).join(to);
}

/**
 * `/api/workspaces/:name/lsp/:language`: a language server running in the workspace, as JSON-RPC
 * over a WebSocket (one message per text frame, as vscode-ws-jsonrpc speaks it). The daemon runs
 * the server on stdio. The browser names files `file:///workspace/<path>`; they are rebased on
 * the home's real path both ways, so the page never needs to know where the home is.
 */
export function lspRoutes(app: App, services: Services): void {
  app.get(
    '/api/workspaces/:name/lsp/:language',
    {
      config: { access: 'user', workspace: 'editor' },
      websocket: true,
      schema: { tags: ['workspaces'], 'x-websocket': true, params },
    },
    async (socket, request) => {
      const { language } = request.params as z.infer<typeof params>;
      await joinFramedJsonServer(socket, request, services, 'LSP', async (daemon) => {
        const home = `file://${encodeURI((await daemon.call('info', {})).root)}`;
        return {
          stream: await daemon.open('lsp.open', { language }),
          toBrowser: (message) => rebase(JSON.stringify(message), home, BROWSER_ROOT),
          fromBrowser: (text) => JSON.parse(rebase(text, BROWSER_ROOT, home)) as object,
        };
      });
    },
  );
}
