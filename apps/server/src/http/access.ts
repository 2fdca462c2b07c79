import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { WorkspaceRole } from '@studio/protocol';
import type { Principal } from '../auth/authenticator.ts';
import { requireRole, type WorkspaceAccess } from '../workspaces/members.ts';
import { AppError } from '../errors.ts';
import { previewHostOf } from '../previews/subdomain.ts';
import { isCrossSiteRequest, isUpgradeOriginAllowed } from './origin.ts';

/** Who may call a route. Every route declares one; a route without is refused. */
export type Access = 'public' | 'user' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /**
     * The route proves who is calling by itself (previews: a pass in the URL, or the session
     * cookie), in a hook of its own scope; the Host rule still applies first.
     */
    selfAuthenticated?: boolean;
    /**
     * The route answers every request to a preview's own host (subdomain mode), which checks
     * that host itself; every other route answers only the platform's hosts.
     */
    previewHost?: boolean;
    /**
     * The role the caller needs on the workspace `:name` names (routes under
     * `/api/workspaces/:name` and `/w/:name` must say).
     */
    workspace?: WorkspaceRole;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** The workspace `:name` names, with the caller's role, checked against the route's need. */
    workspaceAccess: Promise<WorkspaceAccess> | null;
  }
}

/** Routes whose `:name` is a workspace: they declare the role they need there. */
const ON_WORKSPACE = /^\/(api\/workspaces|w)\/:name(\/|$)/;

/** What the access decision needs. */
export interface AccessDeps {
  publicUrl: URL;
  /** Extra host names browsers may use for the platform (`STUDIO_ALLOWED_HOSTS`). */
  allowedHosts: string[];
  /** Subdomain previews' domain (`STUDIO_PREVIEW_DOMAIN`), whose preview hosts are allowed too. */
  previewDomain: string | null;
  authenticate(
    request: FastifyRequest,
  ): Promise<{ principal: Principal | null; setCookies: string[] }>;
  /** Whether an API token limited to one workspace may act on this request's workspace. */
  tokenReachesWorkspace(principal: Principal, request: FastifyRequest): Promise<boolean>;
  /** The workspace `ref` names for the person, with their role; `not_found` when none. */
  resolveWorkspace(userId: string, ref: string): Promise<WorkspaceAccess>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOOPBACK_NAMES = new Set(['localhost']);

/**
 * Whether `host` (the Host header) names this platform. A DNS-rebinding page reaches the server
 * under the attacker's own name; our public name, an IP literal (a load balancer's probe, a pod
 * IP) or `localhost` cannot be an attacker's page.
 */
export function isAllowedHost(
  host: string | undefined,
  deps: Pick<AccessDeps, 'publicUrl' | 'allowedHosts'>,
): boolean {
  if (!host) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  const bare = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(bare) !== 0 || LOOPBACK_NAMES.has(bare)) return true;
  return (
    bare === deps.publicUrl.hostname.toLowerCase() ||
    deps.allowedHosts.some((allowed) => allowed.toLowerCase() === bare)
  );
}

/**
 * The one access decision for every request, made on the route the router matched (never on
 * the raw URL, whose encodings the router decodes): the Host is ours, the route declares who
 * may call it, state-changing requests and upgrades come from our origin, then the caller is
 * authenticated and their token's scope checked. Unmatched requests reach only the not-found
 * handler, which serves nothing private.
 */
export function registerAccess(
  app: FastifyInstance,
  deps: AccessDeps,
): {
  /**
   * Declares `access` for the routes a plugin registers while `register` runs (static files,
   * the OpenAPI UI): their options are not ours to write.
   */
  withAccess(access: Access, register: () => PromiseLike<unknown>): Promise<void>;
} {
  const routes: RouteOptions[] = [];
  let declaring: Access | null = null;
  app.addHook('onRoute', (route) => {
    if (declaring && !route.config?.access) route.config = { ...route.config, access: declaring };
    routes.push(route);
  });
  // Every route declares its access level: a server with one that does not, does not start.
  // …and every route on a workspace the role it needs there.
  app.addHook('onReady', async () => {
    const undeclared = routes.filter((route) => !route.config?.access);
    if (undeclared.length > 0)
      throw new Error(
        `routes without an access level (public, user or admin): ${undeclared
          .map((route) => `${String(route.method)} ${route.url}`)
          .join(', ')}`,
      );
    const noRole = routes.filter(
      (route) => ON_WORKSPACE.test(route.url) && !route.config?.workspace,
    );
    if (noRole.length > 0)
      throw new Error(
        `workspace routes without the role they need (viewer, editor, admin or owner): ${noRole
          .map((route) => `${String(route.method)} ${route.url}`)
          .join(', ')}`,
      );
  });

  app.decorateRequest('principal', null);
  app.decorateRequest('workspaceAccess', null);
  // The workspace and the caller's role on it, once the caller is known (selfAuthenticated
  // routes learn who in their own onRequest hooks) and before the body is validated, so someone
  // without the role learns nothing of the route. A socket learns a refusal as its close code,
  // so its handler awaits the answer; any other request ends here.
  app.addHook('preValidation', async (request) => {
    const needed = request.routeOptions.config.workspace;
    if (!needed || !request.principal) return;
    const { name = '' } = request.params as { name?: string };
    const access = deps.resolveWorkspace(request.principal.user.id, name).then((found) => {
      requireRole(found.role, needed, found.row.name);
      return found;
    });
    request.workspaceAccess = access;
    if (request.ws) access.catch(() => {});
    else await access;
  });
  app.addHook('onRequest', async (request, reply) => {
    // A preview host reaches only the preview-host route (the URL is rewritten before routing).
    const previewHost =
      request.routeOptions.config.previewHost === true &&
      deps.previewDomain !== null &&
      previewHostOf(request.headers.host, deps.previewDomain) !== null;
    if (!previewHost && !isAllowedHost(request.headers.host, deps))
      throw new AppError(
        'misdirected_request',
        `this server does not answer for the host "${request.headers.host ?? ''}"; use ${deps.publicUrl.origin}`,
      );
    // The not-found handler: nothing matched, so nothing is served but a 404 or the web app.
    if (request.is404) return;
    const { access, selfAuthenticated } = request.routeOptions.config;
    if (access === undefined)
      throw new AppError('forbidden', 'this route declares no access level; refused');
    if (selfAuthenticated) return;
    const isUpgrade = request.headers.upgrade?.toLowerCase() === 'websocket';
    if (isUpgrade && !isUpgradeOriginAllowed(request.headers, deps.publicUrl))
      throw new AppError('origin_rejected', 'WebSocket upgrade from a foreign or missing Origin');
    if (!SAFE_METHODS.has(request.method) && isCrossSiteRequest(request.headers, deps.publicUrl))
      throw new AppError('origin_rejected', 'cross-site request refused');
    if (access === 'public') return;
    const { principal, setCookies } = await deps.authenticate(request);
    if (setCookies.length) void reply.header('set-cookie', setCookies);
    if (!principal) throw new AppError('unauthenticated', 'sign in or send a valid API token');
    if (access === 'admin' && principal.user.role !== 'admin')
      throw new AppError('forbidden', 'admins only');
    await checkTokenScope(principal, request, isUpgrade, deps);
    request.principal = principal;
  });

  return {
    async withAccess(access, register) {
      // Plugins queued earlier load first, under their own declarations: only the routes of
      // the plugin `register` adds get `access`.
      await app.after();
      declaring = access;
      try {
        await register();
      } finally {
        declaring = null;
      }
    },
  };
}

/** A read-only token reads; a workspace token acts on its one workspace (and says who it is). */
export async function checkTokenScope(
  principal: Principal,
  request: FastifyRequest,
  isUpgrade: boolean,
  deps: Pick<AccessDeps, 'tokenReachesWorkspace'>,
): Promise<void> {
  const scope = principal.scope ?? 'full';
  if (scope === 'full') return;
  if (scope === 'read') {
    if (!['GET', 'HEAD'].includes(request.method) || isUpgrade)
      throw new AppError(
        'forbidden',
        'this API token is read-only: it may only read (GET), not change anything or open sockets',
      );
    return;
  }
  const route = request.routeOptions.url ?? '';
  if (scope === 'metrics') {
    if (route === '/metrics') return;
    throw new AppError('forbidden', 'this API token may only read /metrics');
  }
  if (route === '/api/me' && request.method === 'GET') return;
  const onWorkspace = route.startsWith('/api/workspaces/:name') || route.startsWith('/w/:name/');
  if (!onWorkspace || !(await deps.tokenReachesWorkspace(principal, request)))
    throw new AppError(
      'forbidden',
      'this API token is limited to one workspace and may act only on it',
    );
}

/**
 * The workspace a route on one (`config.workspace`) acts on, resolved for the caller and checked
 * against the role the route needs; its refusal (404, 403) when there is none.
 */
export async function workspaceOf(request: FastifyRequest): Promise<WorkspaceAccess['row']> {
  return (await accessOf(request)).row;
}

/** The workspace of the route, as `workspaceOf` finds it, with the caller's role on it. */
export async function accessOf(request: FastifyRequest): Promise<WorkspaceAccess> {
  if (!request.workspaceAccess)
    throw new AppError('forbidden', 'this route names no workspace role; refused');
  return request.workspaceAccess;
}
