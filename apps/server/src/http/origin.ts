import type { IncomingHttpHeaders } from 'node:http';

/** Is `origin` this server: the public URL's origin, or exactly the origin the request was addressed to? */
export function isSameOrigin(
  origin: string,
  headers: IncomingHttpHeaders,
  publicUrl: URL,
): boolean {
  if (origin === publicUrl.origin) return true;
  try {
    const parsed = new URL(origin);
    // The Host header is the victim browser's own target, never the attacker's page.
    return (
      parsed.host === headers.host && (parsed.protocol === 'http:' || parsed.protocol === 'https:')
    );
  } catch {
    return false;
  }
}

/**
 * CSRF check for a state-changing request: a browser always sends Origin (or at least
 * Sec-Fetch-Site) on these, so a foreign one is refused; a request with neither is not from
 * a browser and cannot ride on a victim's cookies.
 */
export function isCrossSiteRequest(headers: IncomingHttpHeaders, publicUrl: URL): boolean {
  const origin = headers.origin;
  if (origin !== undefined) return !isSameOrigin(origin, headers, publicUrl);
  const site = headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

/**
 * The one Origin rule for every WebSocket upgrade (browsers do not apply CORS to sockets):
 * a browser upgrade must come from our origin; an upgrade without Origin must not carry a
 * cookie, so only non-browser clients with a Bearer token get through.
 */
export function isUpgradeOriginAllowed(headers: IncomingHttpHeaders, publicUrl: URL): boolean {
  const origin = headers.origin;
  if (origin === undefined)
    return headers.cookie === undefined && headers.authorization !== undefined;
  return isSameOrigin(origin, headers, publicUrl);
}
