import type { Readable } from 'node:stream';
import type { ApiErrorBody } from '@studio/protocol';
import type { DaemonConnection } from '@studio/runtime';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { AppError } from '../errors.ts';
import { toApiError } from '../http/error-handler.ts';
import { checkTokenScope } from '../http/access.ts';
import { isUpgradeOriginAllowed } from '../http/origin.ts';
import {
  clientResponseHeaders,
  sandboxPreflightHeaders,
  upstreamRequestHeaders,
} from '../previews/headers.ts';
import { issuePass, passMatches, passSession, sessionPrincipal } from '../previews/pass.ts';
import {
  forwardRequest,
  forwardUpgrade,
  PreviewUnreachable,
  unreachable,
  type PreviewTarget,
} from '../previews/proxy.ts';
import { workspaceOf } from '../http/access.ts';
import type { WorkspaceRow } from '../workspaces/workspace-service.ts';
import { linkRoutes } from './preview-links.ts';

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

  app.get(
    '/api/workspaces/:name/previews/:port/url',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: {
        tags: ['previews'],
        description: 'Where the browser opens a preview of this port.',
        params: nameParams.extend({ port: portSchema }),
        response: { 200: z.object({ url: z.string() }) },
      },
    },
    async (request) => {
      await workspaceOf(request);
      return {
        url: new URL(
          `${previewPrefix(request.params.name, request.params.port)}/`,
          config.publicUrl,
        ).href,
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
          await proxyUpgrade(request, reply, await open(request, name, parsePort(port)));
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
          return reply
            .header('cache-control', 'no-store')
            .redirect(`${previewPrefix(name, portNumber)}/${segment}${rest}`, 302);
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
        return proxy(request, reply, await open(request, name, parsePort(port)), sandboxed);
      },
    );
  });

  linkRoutes(app, services, { tunnel, proxy, proxyUpgrade });

  /** Forwards one HTTP request through `reach` and sends the app's answer back. */
  async function proxy(
    request: FastifyRequest,
    reply: FastifyReply,
    reach: Reach,
    sandboxed: boolean,
  ) {
    workspaces.touch(reach.row.id);
    const body = request.body === undefined ? null : (request.body as Readable);
    const exchange = forwardRequest(
      reach.tunnel,
      { method: request.method, path: reach.path, headers: reach.headers(false) },
      body,
    );
    // One tunnel per request: once the browser has its answer (or left), close it.
    reply.raw.once('close', exchange.abort);
    const response = await exchange.response.catch((error: unknown) => {
      throw reach.unreachable(error);
    });
    const headers = clientResponseHeaders(response.headers, reach.target);
    if (sandboxed && headers['access-control-allow-origin'] === undefined) {
      headers['access-control-allow-origin'] = 'null';
      headers.vary = headers.vary ? `${String(headers.vary)}, Origin` : 'Origin';
    }
    return reply
      .status(response.statusCode ?? 502)
      .headers(headers)
      .send(response);
  }

  /** Hands a WebSocket upgrade to the app through `reach`; the socket is then the app's. */
  async function proxyUpgrade(request: FastifyRequest, reply: FastifyReply, reach: Reach) {
    void reply.hijack();
    const release = workspaces.hold(reach.row.id);
    const client = request.raw.socket;
    // Tracked like any socket of the user, so signing out closes it (THREATS 12).
    if (request.principal) sockets.track(rawSocketAsTracked(client), request.principal);
    await forwardUpgrade(
      reach.tunnel,
      { method: request.method, path: reach.path, headers: reach.headers(true) },
      client,
      upgradeHead(request),
      (error) => rawErrorResponse(errorResponse(reach.unreachable(error))),
    ).finally(release);
  }

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

  /** A tunnel to `port` of a running workspace, and how to talk to the app behind it. */
  async function tunnel(
    request: FastifyRequest,
    row: WorkspaceRow,
    port: number,
    prefix: string,
    rest: string,
  ) {
    const daemon = await workspaces.connect(row);
    const tunnel = await daemon.open('tunnel.open', { port }, { manualAck: true });
    const target: PreviewTarget & { prefix: string } = { workspace: row.name, port, prefix };
    const forwarded = {
      prefix,
      port,
      proto: request.protocol,
      host: request.host,
      clientIp: request.ip,
    };
    return {
      row,
      tunnel,
      target,
      path: rest,
      headers: (upgrade: boolean) =>
        upstreamRequestHeaders(request.headers, forwarded, { upgrade }),
      unreachable: (error: unknown) => unreachable(error, target, daemon.closed),
    };
  }
}

/** A tunnel to a preview's port, and how to talk to the app behind it. */
export interface Reach {
  row: WorkspaceRow;
  tunnel: Awaited<ReturnType<DaemonConnection['open']>>;
  target: PreviewTarget & { prefix: string };
  /** The path and query inside the app. */
  path: string;
  headers: (upgrade: boolean) => ReturnType<typeof upstreamRequestHeaders>;
  unreachable: (error: unknown) => Error;
}

/**
 * A scope that proxies previews: every body passed on unparsed, and errors answered as a small
 * page to a browser that opened the preview.
 */
export function previewScope(plugin: FastifyInstance) {
  const scope = plugin.withTypeProvider<ZodTypeProvider>();
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  scope.setErrorHandler((error, request, reply) => {
    const upgrade = request.headers.upgrade !== undefined;
    const wantsPage = !upgrade && (request.headers.accept ?? '').includes('text/html');
    // Everything else is the one HTTP error handler's: the JSON shape, refused upgrades closed.
    if (!wantsPage && !(error instanceof PreviewUnreachable)) throw error;
    const { status, body } = errorResponse(error);
    request.log.info({ code: body.code }, body.message);
    if (!wantsPage) return reply.status(status).send(body);
    return reply
      .status(status)
      .header('content-security-policy', "default-src 'none'; frame-ancestors 'self'")
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(errorPage(status, body));
  });
  return scope;
}

export function parsePort(raw: string): number {
  const parsed = portSchema.safeParse(/^\d+$/.test(raw) ? raw : NaN);
  if (!parsed.success) {
    throw new AppError('bad_request', `port: "${raw}" is not a port number from 1 to 65535`);
  }
  return parsed.data;
}

function errorResponse(error: unknown): { status: number; body: ApiErrorBody } {
  const mapped = toApiError(error);
  return error instanceof PreviewUnreachable ? { ...mapped, status: 502 } : mapped;
}

/** An error as a small page, for a person who opened the preview in a browser. */
function errorPage(status: number, body: ApiErrorBody): string {
  const escape = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
  return [
    '<!doctype html>',
    '<meta charset="utf-8">',
    `<title>Preview unavailable (${status})</title>`,
    '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{color:#666}</style>',
    `<h1>Preview unavailable</h1>`,
    `<p>${escape(body.message)}</p>`,
    `<p><code>${status} ${escape(body.code)}</code></p>`,
  ].join('\n');
}

/** An error as a whole HTTP/1.1 response, for an upgrade whose socket is already ours. */
function rawErrorResponse({ status, body }: { status: number; body: ApiErrorBody }): string {
  const json = JSON.stringify(body);
  return [
    `HTTP/1.1 ${status} ${status === 502 ? 'Bad Gateway' : 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(json)}`,
    'connection: close',
    '',
    json,
  ].join('\r\n');
}

/**
 * Bytes the browser sent after the upgrade request in the same packet. The WebSocket plugin keeps
 * them on the raw request under a private symbol; browsers wait for the handshake, so it is
 * almost always empty, but a client that pipelines must not lose its first frame.
 */
function upgradeHead(request: FastifyRequest): Buffer {
  const raw = request.raw as unknown as Record<symbol, unknown>;
  const key = Object.getOwnPropertySymbols(raw).find((symbol) => symbol.description === 'ws-head');
  const head = key === undefined ? undefined : raw[key];
  return Buffer.isBuffer(head) ? head : Buffer.alloc(0);
}

/**
 * The registry tracks `ws` sockets; a piped upgrade is a raw socket, which it only needs to be
 * able to close and to hear close from.
 */
function rawSocketAsTracked(socket: NodeJS.ReadableStream & { destroy(): void }): WebSocket {
  const tracked = {
    close: () => socket.destroy(),
    once: (event: string, listener: () => void) => {
      socket.once(event, listener);
      return tracked;
    },
  };
  return tracked as unknown as WebSocket;
}
