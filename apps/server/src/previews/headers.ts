import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, never the message, so a
 * proxy drops them. `upgrade` and `connection` are put back for a WebSocket upgrade.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Set by us from what we know, never passed on from the client, which could forge them. */
const FORWARDING = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto'];

/**
 * Response headers a previewed app may not send: path-mode previews share the platform's origin,
 * so these would act on the platform itself (wipe its cookies and storage, widen a service
 * worker's scope to the whole site).
 */
const REFUSED_RESPONSE_HEADERS = new Set(['clear-site-data', 'service-worker-allowed']);

/**
 * The sandbox gives a preview an opaque origin, so its scripts cannot read the platform's storage
 * or call the platform API as the user; `frame-ancestors 'self'` lets the IDE (and only the IDE's
 * origin) show it in an iframe.
 */
export const PREVIEW_CSP =
  'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads allow-popups-to-escape-sandbox; ' +
  "frame-ancestors 'self'";

/**
 * Is this one of the platform's cookies? better-auth names all of ours `studio.<name>`, with a
 * `__Secure-` or `__Host-` prefix when the platform is served over HTTPS.
 */
export function isPlatformCookie(name: string): boolean {
  return /^(?:__Secure-|__Host-)?studio\./i.test(name.trim());
}

/** The `Cookie` header without the platform's cookies; `undefined` when nothing is left. */
export function stripPlatformCookies(cookie: string | undefined): string | undefined {
  if (cookie === undefined) return undefined;
  const kept = cookie
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '' && !isPlatformCookie(pair.split('=', 1)[0]!));
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/** Where the request came from, for the X-Forwarded-* headers the previewed app sees. */
export interface Forwarded {
  /** `/w/<name>/p/<port>`, no trailing slash. */
  prefix: string;
  port: number;
  proto: string;
  host: string;
  clientIp: string;
}

/**
 * The request headers the previewed app receives: no platform credentials (Authorization, the
 * platform's cookies), no hop-by-hop headers, X-Forwarded-* from us, and `Host: localhost:<port>`
 * because dev servers (Vite, webpack) refuse hosts they do not know.
 */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  forwarded: Forwarded,
  { upgrade }: { upgrade: boolean },
): OutgoingHttpHeaders {
  const listed = connectionTokens(headers.connection);
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (HOP_BY_HOP.has(name) || listed.has(name) || FORWARDING.includes(name)) continue;
    if (name === 'authorization' || name === 'cookie' || name === 'host') continue;
    if (name.startsWith('x-forwarded-')) continue;
    result[name] = value;
  }
  const cookie = stripPlatformCookies(headers.cookie);
  if (cookie !== undefined) result.cookie = cookie;
  result.host = `localhost:${forwarded.port}`;
  result['x-forwarded-for'] = forwarded.clientIp;
  result['x-forwarded-proto'] = forwarded.proto;
  result['x-forwarded-host'] = forwarded.host;
  result['x-forwarded-prefix'] = forwarded.prefix;
  if (upgrade) {
    result.connection = 'Upgrade';
    result.upgrade = headers.upgrade;
  }
  return result;
}

/**
 * The response headers the browser receives from a previewed app: hop-by-hop headers dropped,
 * cookies and redirects kept under the preview's prefix, the preview sandbox added — or, for a
 * preview on a host of its own (`ownOrigin`, subdomain mode), which already has an origin apart
 * from the platform's, only the rule that no page but the platform's may frame it.
 */
export function clientResponseHeaders(
  headers: IncomingHttpHeaders,
  forwarded: Pick<Forwarded, 'prefix' | 'port'>,
  ownOrigin?: { framedBy: string },
): OutgoingHttpHeaders {
  const listed = connectionTokens(headers.connection);
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || listed.has(name) || REFUSED_RESPONSE_HEADERS.has(name)) continue;
    result[name] = value;
  }
  const setCookie = headers['set-cookie']
    ?.map((cookie) => rewriteSetCookie(cookie, forwarded.prefix))
    .filter((cookie): cookie is string => cookie !== null);
  if (setCookie?.length) result['set-cookie'] = setCookie;
  else delete result['set-cookie'];
  if (typeof headers.location === 'string') {
    result.location = rewriteLocation(headers.location, forwarded);
  }
  // Added beside any policy of the app's own (a comma separates policies): browsers enforce all.
  const ours = ownOrigin ? `frame-ancestors ${ownOrigin.framedBy}` : PREVIEW_CSP;
  const appPolicy = headers['content-security-policy'];
  result['content-security-policy'] = appPolicy ? `${appPolicy}, ${ours}` : ours;
  // For browsers without CSP frame-ancestors; same effect (none can name another origin).
  if (ownOrigin) delete result['x-frame-options'];
  else result['x-frame-options'] = 'SAMEORIGIN';
  return result;
}

/**
 * A previewed app's Set-Cookie, scoped under the preview: `Path` moved under `prefix`, `Domain`
 * dropped (host-only). A cookie named like one of the platform's is refused (`null`), so an app
 * cannot overwrite or shadow the user's session.
 */
export function rewriteSetCookie(setCookie: string, prefix: string): string | null {
  const [pair = '', ...attributes] = setCookie.split(';');
  const name = pair.includes('=') ? pair.slice(0, pair.indexOf('=')) : '';
  if (isPlatformCookie(name)) return null;
  const kept: string[] = [pair.trim()];
  for (const attribute of attributes) {
    const trimmed = attribute.trim();
    const key = trimmed.split('=', 1)[0]!.trim().toLowerCase();
    if (key === 'domain' || trimmed === '') continue;
    if (key === 'path') {
      const path = trimmed.slice(trimmed.indexOf('=') + 1).trim();
      kept.push(`Path=${underPrefix(path.startsWith('/') ? path : '/', prefix)}`);
      continue;
    }
    kept.push(trimmed);
  }
  return kept.join('; ');
}

/**
 * A redirect that stays inside the preview: a root-relative `/foo` becomes `<prefix>/foo`, and an
 * absolute URL to the app's own `localhost:<port>` (the Host it was sent) likewise. Relative and
 * foreign URLs are left alone.
 */
export function rewriteLocation(
  location: string,
  { prefix, port }: Pick<Forwarded, 'prefix' | 'port'>,
): string {
  if (location.startsWith('/') && !location.startsWith('//')) return underPrefix(location, prefix);
  try {
    const url = new URL(location);
    const own = ['localhost', '127.0.0.1', '[::1]'].some((host) => url.host === `${host}:${port}`);
    if (own && (url.protocol === 'http:' || url.protocol === 'https:')) {
      return underPrefix(`${url.pathname}${url.search}${url.hash}`, prefix);
    }
  } catch {
    // Not an absolute URL: relative to the current page, which is already under the prefix.
  }
  return location;
}

/** `path` under `prefix`, unless an app that honours X-Forwarded-Prefix already put it there. */
function underPrefix(path: string, prefix: string): string {
  if (path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`)) {
    return path;
  }
  return `${prefix}${path}`;
}

/** Header names listed in `Connection`, which are hop-by-hop for this message. */
function connectionTokens(connection: string | string[] | undefined): Set<string> {
  const value = Array.isArray(connection) ? connection.join(',') : (connection ?? '');
  return new Set(
    value
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter((token) => token !== '' && token !== 'close' && token !== 'keep-alive'),
  );
}

/**
 * The answer to a CORS preflight from the preview's own sandboxed page (Origin `null`): whatever
 * method and headers it asks for, for the preview's URLs only, which only its pass opens.
 */
export function sandboxPreflightHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const result: OutgoingHttpHeaders = {
    'access-control-allow-origin': 'null',
    'access-control-allow-methods': headers['access-control-request-method'] ?? 'GET',
    'access-control-max-age': '600',
    vary: 'Origin',
  };
  const asked = headers['access-control-request-headers'];
  if (asked) result['access-control-allow-headers'] = asked;
  return result;
}
