// What previews and links to previews share: a tunnel to a workspace's port, forwarding one HTTP
// request or a WebSocket through it, and a route scope that passes bodies on unparsed and answers
// errors as a small page to a browser. One copy, so a link forwards exactly as a preview does.
import type { Readable } from 'node:stream';
import type { ApiErrorBody } from '@studio/protocol';
import type { DaemonConnection } from '@studio/runtime';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { WebSocket } from 'ws';
import type { Services } from '../app.ts';
import { toApiError } from '../http/error-handler.ts';
import type { WorkspaceRow } from '../workspaces/workspace-service.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.ts';
import {
  forwardRequest,
  forwardUpgrade,
  PreviewUnreachable,
  unreachable,
  type PreviewTarget,
} from './proxy.ts';

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

/** Forwarding to workspaces' ports, for the preview and preview-link routes. */
export function previewForwarding({ workspaces }: Pick<Services, 'workspaces'>) {
  /**
   * A tunnel to `port` of a running workspace; `prefix` is where the app is mounted in the
   * browser's URL and `rest` the path and query inside the app.
   */
  async function tunnel(
    request: FastifyRequest,
    row: WorkspaceRow,
    port: number,
    prefix: string,
    rest: string,
  ): Promise<Reach> {
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

  /**
   * Forwards one HTTP request through `reach` and sends the app's answer back: `sandboxed` when
   * it comes from the sandboxed page itself (origin `null`), `ownOrigin` for a preview on a host
   * of its own (subdomain mode), which is framed by the platform and not sandboxed.
   */
  async function proxy(
    request: FastifyRequest,
    reply: FastifyReply,
    reach: Reach,
    { sandboxed = false, ownOrigin }: { sandboxed?: boolean; ownOrigin?: { framedBy: string } },
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
    const headers = clientResponseHeaders(response.headers, reach.target, ownOrigin);
    if (sandboxed && headers['access-control-allow-origin'] === undefined) {
      headers['access-control-allow-origin'] = 'null';
      headers.vary = headers.vary ? `${String(headers.vary)}, Origin` : 'Origin';
    }
    return reply
      .status(response.statusCode ?? 502)
      .headers(headers)
      .send(response);
  }

  /**
   * Hands a WebSocket upgrade to the app through `reach`; the socket is then the app's. `track`
   * registers it, so whatever ends the caller's right to it (signing out, a revoked link) closes it.
   */
  async function proxyUpgrade(
    request: FastifyRequest,
    reply: FastifyReply,
    reach: Reach,
    track: (socket: WebSocket) => void,
  ) {
    void reply.hijack();
    const release = workspaces.hold(reach.row.id);
    const client = request.raw.socket;
    track(rawSocketAsTracked(client));
    await forwardUpgrade(
      reach.tunnel,
      { method: request.method, path: reach.path, headers: reach.headers(true) },
      client,
      upgradeHead(request),
      (error) => rawErrorResponse(errorResponse(reach.unreachable(error))),
    ).finally(release);
  }

  return { tunnel, proxy, proxyUpgrade };
}

/**
 * A scope that proxies previews: every body passed on unparsed, and errors answered as a small
 * page to a browser that opened the preview — which the IDE may frame: its own origin, or
 * `framedBy` (the platform's, for a preview on a host of its own).
 */
export function previewScope(plugin: FastifyInstance, framedBy = "'self'") {
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
      .header('content-security-policy', `default-src 'none'; frame-ancestors ${framedBy}`)
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(errorPage(status, body));
  });
  return scope;
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
