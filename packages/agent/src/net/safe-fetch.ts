/**
 * SSRF-safe HTTP(S) GET for the agent's `fetch_url` tool and git imports (THREATS.md item 18).
 *
 * Every hop (the first URL and each redirect) is checked the same way: scheme, no userinfo, the
 * host resolved, and EVERY resolved address must be public unicast (or an exact allow-listed
 * "ip:port"). The connection is then pinned to the addresses that were checked, so a DNS answer
 * that changes between check and connect (rebinding) cannot steer us to an internal address.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface SafeFetchOptions {
  /** Body cap (default 1 MiB); beyond it, stop reading and mark truncated. */
  maxBytes?: number;
  /** Whole request including redirects (default 15 s). */
  timeoutMs?: number;
  /** Default 5. */
  maxRedirects?: number;
  signal?: AbortSignal;
  /** Exact "ip:port" pairs allowed even though private (tests, or an admin's allow-list). IPv6 as "[::1]:80". */
  allowAddresses?: string[];
  /** DNS lookup, injectable for tests (default node:dns lookup with all: true). */
  lookup?: (hostname: string) => Promise<Array<{ address: string; family: 4 | 6 }>>;
}

export interface SafeFetchResult {
  /** Final URL, after redirects. */
  url: string;
  status: number;
  contentType: string | null;
  /** UTF-8, lossy (invalid sequences become U+FFFD). */
  body: string;
  truncated: boolean;
  /** Every URL we were redirected to, in order (the last one equals `url`). */
  redirects: string[];
}

export class FetchRefusedError extends Error {
  readonly code = 'fetch_refused';
  constructor(
    message: string,
    readonly url: string,
    readonly address?: string,
  ) {
    super(message);
    this.name = 'FetchRefusedError';
  }
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Human words for ipaddr.js range names, used in refusal messages. */
const RANGE_WORDS: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  deprecatedSiteLocal: 'site-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT',
  private: 'private',
  reserved: 'reserved',
  uniqueLocal: 'unique-local',
  rfc6052: 'NAT64',
  rfc6145: 'IPv4-translated',
  '6to4': '6to4',
  teredo: 'Teredo',
};

interface Target {
  url: URL;
  /** Host as given to http.request: a name, or an IP literal without brackets. */
  host: string;
  port: number;
  /** Checked addresses; the connection may only use these. */
  addresses: Array<{ address: string; family: 4 | 6 }>;
}

export async function safeFetch(
  url: string,
  options: SafeFetchOptions = {},
): Promise<SafeFetchResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const allowed = new Set((options.allowAddresses ?? []).map(normaliseAllowEntry));
  const lookup = options.lookup ?? defaultLookup;

  const redirects: string[] = [];
  let current = parseUrl(url);
  try {
    for (;;) {
      const target = await checkTarget(current, lookup, allowed, signal, redirects.length > 0);
      const response = await get(target, signal, maxBytes);
      const location = response.location;
      if (!REDIRECT_STATUSES.has(response.status) || location === undefined) {
        return {
          url: current.href,
          status: response.status,
          contentType: response.contentType,
          body: response.body,
          truncated: response.truncated,
          redirects,
        };
      }
      if (redirects.length >= maxRedirects) {
        throw new FetchRefusedError(`refused: more than ${maxRedirects} redirects`, current.href);
      }
      current = parseUrl(location, current);
      redirects.push(current.href);
    }
  } catch (error) {
    // Name the timeout plainly; a caller's own abort keeps its reason.
    if (timeout.aborted && !options.signal?.aborted) {
      throw new Error(`fetch ${current.href} timed out after ${timeoutMs} ms`, { cause: error });
    }
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  }
}

/**
 * Refuses a URL whose host resolves to a loopback, private, link-local or metadata address
 * (the same rules as `safeFetch`, without fetching). For URLs another library will request.
 */
export async function assertPublicUrl(
  url: string,
  options: Pick<SafeFetchOptions, 'allowAddresses' | 'lookup' | 'signal'> = {},
): Promise<void> {
  const allowed = new Set((options.allowAddresses ?? []).map(normaliseAllowEntry));
  await checkTarget(
    parseUrl(url),
    options.lookup ?? defaultLookup,
    allowed,
    options.signal ?? AbortSignal.timeout(10_000),
    false,
  );
}

function parseUrl(raw: string, base?: URL): URL {
  try {
    return new URL(raw, base);
  } catch {
    throw new FetchRefusedError(`refused: ${raw} is not a valid URL`, raw);
  }
}

/** Check scheme, userinfo and every resolved address of one hop; throws FetchRefusedError. */
async function checkTarget(
  url: URL,
  lookup: NonNullable<SafeFetchOptions['lookup']>,
  allowed: Set<string>,
  signal: AbortSignal,
  isRedirect: boolean,
): Promise<Target> {
  // Never echo credentials from the URL back into errors or logs.
  const shown = new URL(url.href);
  shown.username = '';
  shown.password = '';
  // A redirect refusal names where the redirect pointed, so the user sees why a public URL failed.
  const refuse = (reason: string, short: string, address?: string): never => {
    const message = isRedirect
      ? `refused: redirect to ${shown.href} (${short})`
      : `refused: ${reason}`;
    throw new FetchRefusedError(message, shown.href, address);
  };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    const why = `scheme ${url.protocol} is not allowed, only http: and https:`;
    refuse(`${shown.href}: ${why}`, why);
  }
  if (url.username || url.password) {
    const why = 'credentials in the URL are not allowed';
    refuse(`${shown.href}: ${why}`, why);
  }

  // WHATWG URL has already normalised odd IPv4 forms (2130706433, 0x7f.1) to dotted decimal.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const literal = isIP(host);
  const resolved = literal
    ? [{ address: host, family: literal as 4 | 6 }]
    : await abortable(lookup(host), signal).catch((error: unknown) => {
        if (signal.aborted) throw error;
        throw new Error(`cannot resolve ${host}: ${(error as Error).message}`, { cause: error });
      });
  if (resolved.length === 0) throw new Error(`cannot resolve ${host}: no addresses`);

  const addresses: Target['addresses'] = [];
  for (const entry of resolved) {
    const { address, family, refused } = classifyAddress(entry.address);
    if (refused && !allowed.has(addressKey(address, port))) {
      if (literal) refuse(`${address} is a ${refused} address`, refused, address);
      const why = `${host} resolves to ${address}, a ${refused} address`;
      refuse(why, why, address);
    }
    addresses.push({ address, family });
  }
  return { url, host, port, addresses };
}

/**
 * The one address rule (providers, MCP servers, `fetch_url`, git imports): an address is public
 * only if it is IPv4 unicast, or IPv6 global unicast (2000::/3) that embeds no IPv4 address.
 * Every IPv6 form that carries an IPv4 address (mapped `::ffff:a.b.c.d`, compatible
 * `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, Teredo) is judged by, or refused for,
 * what it carries; a zone id (`fe80::1%eth0`) is dropped first.
 */
export function classifyAddress(raw: string): {
  address: string;
  family: 4 | 6;
  /** Why it is not public (`loopback`, `private`, …), or null when it is. */
  refused: string | null;
} {
  const bare = raw.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return { address: bare, family: 4, refused: 'malformed' };
  // process() turns IPv4-mapped IPv6 (::ffff:127.0.0.1) into IPv4 so its real range shows.
  const ip = ipaddr.process(bare);
  const address = ip.toString();
  if (ip.kind() === 'ipv4') {
    const range = ip.range();
    return {
      address,
      family: 4,
      refused: range === 'unicast' ? null : (RANGE_WORDS[range] ?? range),
    };
  }
  const v6 = ip as ipaddr.IPv6;
  const parts = v6.parts;
  // IPv4-compatible (::a.b.c.d, deprecated): the IPv4 address in the last 32 bits decides.
  if (parts.slice(0, 6).every((part) => part === 0) && (parts[6] !== 0 || parts[7]! > 1)) {
    const embedded = ipaddr.fromByteArray(v6.toByteArray().slice(12)) as ipaddr.IPv4;
    const range = embedded.range();
    return {
      address,
      family: 6,
      refused: `IPv4-compatible ${range === 'unicast' ? 'deprecated' : (RANGE_WORDS[range] ?? range)}`,
    };
  }
  const range = v6.range();
  if (range !== 'unicast') return { address, family: 6, refused: RANGE_WORDS[range] ?? range };
  // Only global unicast (2000::/3): site-local fec0::/10, NAT64's local-use 64:ff9b:1::/48 and
  // the unassigned space are not the internet.
  if ((parts[0]! & 0xe000) !== 0x2000) return { address, family: 6, refused: 'non-global IPv6' };
  return { address, family: 6, refused: null };
}

interface RawResponse {
  status: number;
  contentType: string | null;
  location: string | undefined;
  body: string;
  truncated: boolean;
}

/** One GET, connecting only to `target.addresses`. */
function get(target: Target, signal: AbortSignal, maxBytes: number): Promise<RawResponse> {
  // Hand back the checked addresses instead of resolving again: this is what defeats rebinding.
  const pinnedLookup: LookupFunction = (_hostname, lookupOptions, callback) => {
    const first = target.addresses[0];
    if (lookupOptions.all) callback(null, target.addresses);
    else if (first) callback(null, first.address, first.family);
  };
  const isHttps = target.url.protocol === 'https:';
  const request = isHttps ? https.request : http.request;
  const literal = isIP(target.host) !== 0;

  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.host,
        port: target.port,
        path: target.url.pathname + target.url.search,
        method: 'GET',
        headers: { 'accept-encoding': 'identity', 'user-agent': 'prometheus-studio-agent' },
        lookup: pinnedLookup,
        // SNI must name the host (never an IP literal, which TLS forbids); Host defaults to it too.
        ...(isHttps && !literal ? { servername: target.host } : {}),
        // No pooling: a pooled socket could have been connected by someone else's lookup.
        agent: false,
        signal,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const contentType = res.headers['content-type'] ?? null;
        const location = res.headers.location;
        if (REDIRECT_STATUSES.has(status) && location !== undefined) {
          res.destroy();
          resolve({ status, contentType, location, body: '', truncated: false });
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        const finish = () =>
          resolve({
            status,
            contentType,
            location,
            body: new TextDecoder().decode(Buffer.concat(chunks)),
            truncated,
          });
        res.on('data', (chunk: Buffer) => {
          if (truncated) return;
          const room = maxBytes - size;
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room));
            size = maxBytes;
            truncated = true;
            res.destroy();
            finish();
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', finish);
        res.on('error', (error) => {
          if (!truncated) reject(error);
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function defaultLookup(hostname: string): Promise<Array<{ address: string; family: 4 | 6 }>> {
  const results = await dnsLookup(hostname, { all: true, verbatim: true });
  return results.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
}

/** Reject as soon as `signal` aborts, even if the (uncancellable) DNS lookup is still running. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function addressKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** "127.0.0.1:80", "[::1]:80" or "[::ffff:127.0.0.1]:80" → the same key addressKey() builds. */
function normaliseAllowEntry(entry: string): string {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(entry.trim());
  if (!match?.[1] || !match[2] || !ipaddr.isValid(match[1])) {
    throw new Error(`allowAddresses: "${entry}" is not an "ip:port" pair`);
  }
  return addressKey(ipaddr.process(match[1]).toString(), Number(match[2]));
}
