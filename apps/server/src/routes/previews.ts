import { previewPlaceSchema } from '@studio/protocol';
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { AppError } from '../errors.ts';
import { checkTokenScope, workspaceOf } from '../http/access.ts';
import { isUpgradeOriginAllowed } from '../http/origin.ts';
import { previewForwarding, previewScope } from '../previews/forwarding.ts';
import { sandboxPreflightHeaders } from '../previews/headers.ts';
import { issuePass, passMatches, passSession, sessionPrincipal } from '../previews/pass.ts';
import { openUrl } from '../previews/subdomain.ts';

const nameParams = z.object({ name: z.string().max(64) });
const portSchema = z.coerce
  .number({ error: 'must be a port number from 1 to 65535' })
  .int('must be a port number from 1 to 65535')
  .min(1, 'must be a port number from 1 to 65535')
  .max(65535, 'must be a port number from 1 to 65535');

/**
 * A preview URL: `/w/<name>/p/<port>`, then the preview pass segment once the session has one
 * (`/~<session>.<mac>`, see pass.ts), then the path and query inside the app.
 */
const PREVIEW_URL = /^\/w\/[^/?#]+\/p\/[^/?#]+(\/~[^/?#]*)?(\/[^]*)?$/;

/** The pass segment (without its slash) and the app's own path and query of a preview URL. */
function splitPreviewUrl(url: string): { pass: string | null; rest: string } {
  const match = PREVIEW_URL.exec(url);
  return { pass: match?.[1]?.slice(1) ?? null, rest: match?.[2] ?? '/' };
}

/** `/w/<name>/p/<port>`: where a workspace's port is previewed (path mode). */
export function previewPrefix(workspace: string, port: number): string {
  return `/w/${encodeURIComponent(workspace)}/p/${port}`;
}

/**
 * Port previews: `/w/:name/p/:port/*` proxies HTTP and WebSockets to a port inside the caller's
 * workspace through the daemon's tunnel, behind the platform's own sign-in.
 */
export function previewRoutes(app: App, services: Services): void {
  const { workspaces, authenticator, config, sockets, database, users } = services;
  const { tunnel, proxy, proxyUpgrade } = previewForwarding(services);
  // Tracked like any socket of the user, so signing out closes it (THREATS 12).
  const track = (request: FastifyRequest) => (socket: WebSocket) => {
    if (request.principal) sockets.track(socket, request.principal);
  };

  app.get(
    '/api/workspaces/:name/previews/:port/url',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: {
        tags: ['previews'],
        description:
          'Where the browser opens a preview of this port, and whether the app then runs on a host of its own (`subdomain`, so a frame of it may keep its own origin) or sandboxed under this path (`path`).',
        params: nameParams.extend({ port: portSchema }),
        response: { 200: previewPlaceSchema },
      },
    },
    async (request) => {
      await workspaceOf(request);
      return {
        url: new URL(
          `${previewPrefix(request.params.name, request.params.port)}/`,
          config.publicUrl,
        ).href,
        mode: config.previewDomain ? ('subdomain' as const) : ('path' as const),
      };
    },
  );

  // Its own scope: previews take any body unparsed, and answer errors as pages to browsers.
  void app.register(async (plugin) => {
    const scope = previewScope(plugin);

    // Before anything touches the workspace: the Origin of an upgrade, then who is asking.
    scope.addHook('onRequest', async (request, reply) => {
      const { pass } = splitPreviewUrl(request.url);
      if (pass !== null) {
        // The sandboxed page's own requests: its session rides in the pass, and its WebSockets
        // come from the opaque origin `null` (a foreign page cannot know the pass).
        const origin = request.headers.origin;
        if (
          request.headers.upgrade !== undefined &&
          origin !== 'null' &&
          !isUpgradeOriginAllowed(request.headers, config.publicUrl)
        ) {
          throw new AppError('origin_rejected', 'WebSocket upgrade from a foreign Origin');
        }
        const sessionId = passSession(pass);
        const principal = sessionId
          ? await sessionPrincipal(database.db, users, sessionId, new Date())
          : null;
        if (!principal)
          throw new AppError(
            'unauthenticated',
            'this preview link has expired; open the preview again',
          );
        request.principal = principal;
        return;
      }
      if (
        request.headers.upgrade !== undefined &&
        !isUpgradeOriginAllowed(request.headers, config.publicUrl)
      ) {
        throw new AppError('origin_rejected', 'WebSocket upgrade from a foreign or missing Origin');
      }
      const { principal, setCookies } = await authenticator.authenticate(request.headers);
      if (setCookies.length) void reply.header('set-cookie', setCookies);
      if (!principal) throw new AppError('unauthenticated', 'sign in or send a valid API token');
      await checkTokenScope(principal, request, request.headers.upgrade !== undefined, {
        tokenReachesWorkspace: async (tokenPrincipal) => {
          const row = await workspaces
            .get(tokenPrincipal.user.id, (request.params as { name: string }).name)
            .catch(() => null);
          return row !== null && row.id === tokenPrincipal.workspaceId;
        },
      });
      request.principal = principal;
    });

    // Relative asset URLs in the app's pages resolve against the directory, which needs the slash.
    scope.all(
      '/w/:name/p/:port',
      {
        config: { access: 'user', workspace: 'viewer', selfAuthenticated: true },
        schema: { tags: ['previews'], params: nameParams.extend({ port: z.string() }) },
      },
      async (request, reply) => {
        parsePort(request.params.port);
        // Another person's workspace is 404 here too, not a redirect that says it exists.
        await workspaceOf(request);
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
        return reply.redirect(`${request.url.split('?')[0]}/${query}`, 308);
      },
    );

    scope.all(
      '/w/:name/p/:port/*',
      {
        config: { access: 'user', workspace: 'viewer', selfAuthenticated: true },
        schema: {
          tags: ['previews'],
          'x-websocket': true,
          params: nameParams.extend({ port: z.string(), '*': z.string() }),
        },
        // Upgrades here, before the handler: the WebSocket plugin wraps every handler and would
        // answer the handshake itself, where the app must answer its own.
        preHandler: async (request, reply) => {
          if (request.headers.upgrade === undefined) return;
          const { name, port } = request.params as { name: string; port: string };
          await proxyUpgrade(
            request,
            reply,
            await open(request, name, parsePort(port)),
            track(request),
          );
        },
      },
      async (request, reply) => {
        const { name, port } = request.params;
        const { pass, rest } = splitPreviewUrl(request.url);
        const principal = request.principal!;
        if (pass === null && principal.sessionId && ['GET', 'HEAD'].includes(request.method)) {
          // A browser opening the preview: move it under its pass, so the sandboxed page's own
          // requests (which carry no cookie) stay signed in.
          const row = await workspaceOf(request);
          const portNumber = parsePort(port);
          const segment = issuePass(config.secret, principal.sessionId, row.id, portNumber);
          // Subdomain mode: to the preview's own host, where the pass becomes its cookie.
          const to = config.previewDomain
            ? openUrl(
                config.publicUrl,
                config.previewDomain,
                `p${portNumber}-${row.id}`,
                { pass: segment },
                rest,
              )
            : `${previewPrefix(name, portNumber)}/${segment}${rest}`;
          return reply.header('cache-control', 'no-store').redirect(to, 302);
        }
        // The sandboxed page's own fetches are cross-origin to itself (its origin is `null`):
        // the proxy answers their CORS preflight and lets them read what the app answers.
        const sandboxed = pass !== null && request.headers.origin === 'null';
        if (
          sandboxed &&
          request.method === 'OPTIONS' &&
          request.headers['access-control-request-method'] !== undefined
        ) {
          await passedRow(request, name, parsePort(port));
          return reply.status(204).headers(sandboxPreflightHeaders(request.headers)).send();
        }
        return proxy(request, reply, await open(request, name, parsePort(port)), { sandboxed });
      },
    );
  });

  /** The caller's workspace, once a pass in the URL is known to be for it and this port. */
  async function passedRow(request: FastifyRequest, name: string, port: number) {
    const row = await workspaceOf(request);
    const { pass } = splitPreviewUrl(request.url);
    if (pass !== null && !passMatches(config.secret, pass, row.id, port)) {
      throw new AppError(
        'unauthenticated',
        'this preview link is not valid; open the preview again',
      );
    }
    return row;
  }

  async function open(request: FastifyRequest, name: string, port: number) {
    const row = await passedRow(request, name, port);
    const { pass, rest } = splitPreviewUrl(request.url);
    // The name the caller reaches it by: a member's is the workspace's id.
    const prefix = previewPrefix(name, port) + (pass === null ? '' : `/${pass}`);
    return tunnel(request, row, port, prefix, rest);
  }
}

export function parsePort(raw: string): number {
  const parsed = portSchema.safeParse(/^\d+$/.test(raw) ? raw : NaN);
  if (!parsed.success) {
    throw new AppError('bad_request', `port: "${raw}" is not a port number from 1 to 65535`);
  }
  return parsed.data;
}
