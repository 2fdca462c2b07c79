// Subdomain previews (`STUDIO_PREVIEW_DOMAIN`): each preview on a host of its own,
// `p<port>-<workspace id>.<domain>` (a link's on `link-<id>.<domain>`), for apps that need the
// root path. The host is an origin apart from the platform's, so the page is not sandboxed: its
// cookies and storage work and are its own, and the platform's cookies (host-only) never reach
// it. A browser arrives from the platform with a pass in the URL (`/__studio/open?pass=…`, made
// exactly as path mode's, bound to the session, workspace and port) which becomes a cookie of
// that host alone, `studio.preview`: named like the platform's, so it is never passed on to the
// app and the app cannot set it.
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import type { Principal } from '../auth/authenticator.ts';
import { AppError } from '../errors.ts';
import { isCrossSiteRequest, isUpgradeOriginAllowed } from '../http/origin.ts';
import type { WorkspaceAccess } from '../workspaces/members.ts';
import type { WorkspaceRow } from '../workspaces/workspace-service.ts';
import { previewForwarding, previewScope } from './forwarding.ts';
import { issuePass, passMatches, passSession, sessionPrincipal } from './pass.ts';

/** Where every request to a preview host is routed (the URL rewritten before routing). */
export const PREVIEW_HOST_ROUTE = '/__preview-host';
/** The path on a preview host that turns a pass into the host's cookie. */
const OPEN_PATH = '/__studio/open';
const COOKIE = 'studio.preview';
/** The session a public link's pass names: none, anyone with the link. */
const ANYONE = 'anyone';

export type PreviewHost =
  | { kind: 'workspace'; label: string; workspaceId: string; port: number }
  | { kind: 'link'; label: string; linkId: string };

/** The preview a Host header names under `domain`, or null when it names none. */
export function previewHostOf(host: string | undefined, domain: string): PreviewHost | null {
  if (!host) return null;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return null;
  }
  if (!hostname.endsWith(`.${domain}`)) return null;
  const label = hostname.slice(0, -domain.length - 1);
  const workspace = /^p(\d{1,5})-([a-z0-9]{1,40})$/.exec(label);
  if (workspace) {
    const port = Number(workspace[1]);
    if (port < 1 || port > 65535) return null;
    return { kind: 'workspace', label, workspaceId: workspace[2]!, port };
  }
  const link = /^link-([a-z0-9]{1,40})$/.exec(label);
  return link ? { kind: 'link', label, linkId: link[1]! } : null;
}

/** The origin of the preview host `label`: the platform's scheme and port, under `domain`. */
export function previewOrigin(publicUrl: URL, domain: string, label: string): string {
  return `${publicUrl.protocol}//${label}.${domain}${publicUrl.port ? `:${publicUrl.port}` : ''}`;
}

/**
 * For Fastify's `rewriteUrl`: a request to a preview host goes to the preview-host route whatever
 * its path, so no platform route ever answers under a preview's host (nor sees its cookies).
 */
export function routePreviewHosts(domain: string | null) {
  if (domain === null) return undefined;
  return (request: IncomingMessage): string => {
    const url = request.url ?? '/';
    return previewHostOf(request.headers.host, domain) ? `${PREVIEW_HOST_ROUTE}${url}` : url;
  };
}

/**
 * Where the platform sends a browser: the preview host's door with a pass (or a public link's
 * token), which sets the host's cookie and goes on to `path`.
 */
export function openUrl(
  publicUrl: URL,
  domain: string,
  label: string,
  credential: { pass: string } | { link: string },
  path: string,
): string {
  const url = new URL(OPEN_PATH, previewOrigin(publicUrl, domain, label));
  if ('pass' in credential) url.searchParams.set('pass', credential.pass);
  else url.searchParams.set('link', credential.link);
  url.searchParams.set('to', path);
  return url.href;
}

interface Admitted {
  row: WorkspaceRow;
  port: number;
  principal: Principal | null;
  linkId: string | null;
  /** Their role there, so the socket registry closes their sockets when it changes. */
  role: WorkspaceAccess['role'] | null;
}

/** The preview hosts' route: registered only in subdomain mode. */
export function subdomainPreviewRoutes(app: App, services: Services): void {
  const { config, database, users, members, previewLinks, sockets } = services;
  const domain = config.previewDomain;
  if (domain === null) return;
  const { tunnel, proxy, proxyUpgrade } = previewForwarding(services);
  const framedBy = config.publicUrl.origin;
  const secureCookie =
    config.publicUrl.protocol === 'https:' ||
    domain === 'localhost' ||
    domain.endsWith('.localhost');

  /** The host's cookie: partitioned where browsers allow it, so it works framed by the IDE too. */
  const cookie = (pass: string) =>
    [
      `${COOKIE}=${pass}`,
      'Path=/',
      'HttpOnly',
      ...(secureCookie ? ['Secure', 'SameSite=None', 'Partitioned'] : ['SameSite=Lax']),
    ].join('; ');

  function hostOf(request: FastifyRequest): PreviewHost {
    const host = previewHostOf(request.headers.host, domain!);
    // The route's own URL asked for under the platform's host: there is nothing here.
    if (!host) throw new AppError('not_found', 'Route not found.');
    return host;
  }

  /** What a pass opens on `host`, or null when it opens nothing (any more). */
  async function admitPass(host: PreviewHost, pass: string): Promise<Admitted | null> {
    const sessionId = passSession(pass);
    if (!sessionId) return null;
    const session = () =>
      sessionId === ANYONE ? null : sessionPrincipal(database.db, users, sessionId, new Date());
    if (host.kind === 'workspace') {
      if (!passMatches(config.secret, pass, host.workspaceId, host.port)) return null;
      const principal = await session();
      if (!principal) return null;
      // Their role now, not when the pass was made: someone removed is 404 at once.
      const { row, role } = await members.resolve(principal.user.id, host.workspaceId);
      return { row, port: host.port, principal, linkId: null, role };
    }
    const found = await previewLinks.byId(host.linkId);
    if (!found) return null;
    const { link, row } = found;
    if (!passMatches(config.secret, pass, `link:${link.id}`, link.port)) return null;
    const principal = await session();
    if (link.audience === 'team' && !principal) return null;
    return { row, port: link.port, principal, linkId: link.id, role: null };
  }

  /** Who is asking, from the host's cookie; the same Origin rules as the platform's own. */
  async function admit(request: FastifyRequest): Promise<Admitted> {
    const host = hostOf(request);
    const upgrade = request.headers.upgrade !== undefined;
    if (upgrade && !isUpgradeOriginAllowed(request.headers, config.publicUrl))
      throw new AppError('origin_rejected', 'WebSocket upgrade from a foreign or missing Origin');
    if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method))
      if (isCrossSiteRequest(request.headers, config.publicUrl))
        throw new AppError('origin_rejected', 'cross-site request refused');
    // Several when a page of another preview host set one for the whole domain: any that opens it.
    for (const pass of cookieValues(request.headers.cookie, COOKIE)) {
      const admitted = await admitPass(host, pass);
      if (admitted) return admitted;
    }
    throw new AppError(
      'unauthenticated',
      host.kind === 'workspace'
        ? `Open this preview from Studio to sign in to it: ${
            new URL(`/w/${host.workspaceId}/p/${host.port}/`, config.publicUrl).href
          }`
        : 'Open the preview link again.',
    );
  }

  /** `/__studio/open?pass=…|link=…&to=/path`: the pass becomes the host's cookie. */
  async function open(request: FastifyRequest, host: PreviewHost, query: URLSearchParams) {
    const token = query.get('link');
    let pass = query.get('pass');
    if (token !== null && host.kind === 'link') {
      const found = await previewLinks.resolve(token);
      pass =
        found && found.link.id === host.linkId && found.link.audience === 'public'
          ? issuePass(config.secret, ANYONE, `link:${found.link.id}`, found.link.port)
          : null;
    }
    if (pass === null || !(await admitPass(host, pass)))
      throw new AppError(
        'unauthenticated',
        'This preview address has expired or is not for this preview; open the preview again.',
      );
    const to = query.get('to') ?? '/';
    // Only a path on this host: never `//elsewhere` (nor `/\\elsewhere`, which browsers read so).
    return { pass, to: /^\/(?![/\\])[!-~]*$/.test(to) && !to.includes('\\') ? to : '/' };
  }

  void app.register(async (plugin) => {
    const scope = previewScope(plugin, framedBy);
    const track = (admitted: Admitted) => (socket: WebSocket) => {
      if (admitted.linkId !== null)
        sockets.trackLink(socket, admitted.linkId, admitted.principal ?? undefined);
      else if (admitted.principal && admitted.role)
        sockets.track(socket, admitted.principal).onWorkspace(admitted.row.id, admitted.role);
    };
    const reach = (request: FastifyRequest, admitted: Admitted) =>
      tunnel(request, admitted.row, admitted.port, '', request.originalUrl);

    scope.all(
      `${PREVIEW_HOST_ROUTE}/*`,
      {
        config: { access: 'public', selfAuthenticated: true, previewHost: true },
        schema: {
          tags: ['previews'],
          description:
            'Subdomain mode: every request to a preview’s own host (`p<port>-<workspace id>.<STUDIO_PREVIEW_DOMAIN>`).',
          'x-websocket': true,
          params: z.object({ '*': z.string() }),
        },
        preHandler: async (request, reply) => {
          if (request.headers.upgrade === undefined) return;
          const admitted = await admit(request);
          await proxyUpgrade(request, reply, await reach(request, admitted), track(admitted));
        },
      },
      async (request, reply) => {
        const url = new URL(request.originalUrl, 'http://preview');
        if (url.pathname === OPEN_PATH) {
          const { pass, to } = await open(request, hostOf(request), url.searchParams);
          return reply
            .header('set-cookie', cookie(pass))
            .header('cache-control', 'no-store')
            .header('referrer-policy', 'no-referrer')
            .redirect(to, 302);
        }
        const admitted = await admit(request);
        return proxy(request, reply, await reach(request, admitted), {
          ownOrigin: { framedBy },
        });
      },
    );
  });
}

/** Every value of cookie `name` in a Cookie header. */
function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.startsWith(`${name}=`))
    .map((pair) => pair.slice(name.length + 1));
}
