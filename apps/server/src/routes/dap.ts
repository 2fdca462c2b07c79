import { DEBUG_ADAPTERS } from '@studio/protocol';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { joinFramedJsonServer } from './framed-json.ts';

const params = z.object({ name: z.string().max(64), adapter: z.enum(DEBUG_ADAPTERS) });
const querystring = z.object({
  /** The folder in the home the adapter starts in (Delve builds the module found from there). */
  cwd: z.string().max(4096).optional(),
});

/** The home folder as the browser names it in paths; the daemon's real root replaces it. */
export const BROWSER_HOME = '/workspace';

/** Every string in `value` that is `from` or a path under it, moved under `to`. */
export function rebasePaths(value: unknown, from: string, to: string): unknown {
  if (typeof value === 'string')
    return value === from || value.startsWith(`${from}/`) ? to + value.slice(from.length) : value;
  if (Array.isArray(value)) return value.map((item) => rebasePaths(item, from, to));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, rebasePaths(item, from, to)]),
    );
  return value;
}

/**
 * `/api/workspaces/:name/dap/:adapter`: a debug adapter running in the workspace (debugpy for
 * Python, Delve for Go, the daemon's own adapter over the V8 inspector for Node.js), the Debug
 * Adapter Protocol over a WebSocket, one message per text frame. The browser names files `/workspace/<path>` (in `program`, `cwd`, `source.path`, …); paths are
 * rebased on the home's real path both ways. Reverse requests such as `runInTerminal` are not
 * advertised by the browser, so the adapter runs the program itself, in the workspace.
 */
export function dapRoutes(app: App, services: Services): void {
  app.get(
    '/api/workspaces/:name/dap/:adapter',
    {
      config: { access: 'user', workspace: 'editor' },
      websocket: true,
      schema: { tags: ['workspaces'], 'x-websocket': true, params, querystring },
    },
    async (socket, request) => {
      const { adapter } = request.params as z.infer<typeof params>;
      const { cwd } = request.query as z.infer<typeof querystring>;
      await joinFramedJsonServer(socket, request, services, 'DAP', async (daemon) => {
        const home = (await daemon.call('info', {})).root;
        return {
          stream: await daemon.open('dap.open', { adapter, ...(cwd ? { cwd } : {}) }),
          toBrowser: (message) => JSON.stringify(rebasePaths(message, home, BROWSER_HOME)),
          fromBrowser: (text) => rebasePaths(JSON.parse(text), BROWSER_HOME, home) as object,
        };
      });
    },
  );
}
