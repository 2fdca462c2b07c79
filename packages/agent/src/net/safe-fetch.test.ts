import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyAddress, FetchRefusedError, safeFetch } from './safe-fetch.ts';

interface TestServer {
  server: Server;
  port: number;
  /** Request URLs seen, to prove a refused target was never contacted. */
  seen: string[];
}

const servers: TestServer[] = [];

async function startServer(handler: RequestListener): Promise<TestServer> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.headers.host ?? ''}${req.url ?? ''}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const entry = { server, port: (server.address() as AddressInfo).port, seen };
  servers.push(entry);
  return entry;
}

/** A lookup that answers from a fixed table, like DNS for names only tests know. */
function fakeDns(table: Record<string, string[]>) {
  return async (hostname: string) =>
    (table[hostname] ?? []).map((address) => ({
      address,
      family: address.includes(':') ? (6 as const) : (4 as const),
    }));
}

async function refusal(promise: Promise<unknown>): Promise<FetchRefusedError> {
  const error: unknown = await promise.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FetchRefusedError);
  return error as FetchRefusedError;
}

let page: TestServer;
let other: TestServer;
let silent: TestServer;

beforeAll(async () => {
  other = await startServer((_req, res) => res.end('other'));
  silent = await startServer(() => {
    // Never answers: for the timeout test.
  });
  page = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/page') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end('<h1>Docs ✓</h1>');
    } else if (url.pathname === '/to-other') {
      res.writeHead(302, { location: `http://127.0.0.1:${other.port}/` }).end();
    } else if (url.pathname === '/hop') {
      // /hop?n=2 → /hop?n=1 → /hop?n=0 → /page, relative Locations.
      const n = Number(url.searchParams.get('n'));
      res.writeHead(n > 0 ? 307 : 301, { location: n > 0 ? `/hop?n=${n - 1}` : 'page' }).end();
    } else if (url.pathname === '/loop') {
      res.writeHead(302, { location: '/loop' }).end();
    } else if (url.pathname === '/big') {
      res.end('x'.repeat(100_000));
    } else {
      res.writeHead(404).end('not found');
    }
  });
});

afterAll(async () => {
  for (const { server } of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('safeFetch refuses internal targets', () => {
  it.each([
    ['loopback by IP', () => `http://127.0.0.1:${page.port}/page`, 'loopback'],
    ['localhost (real DNS)', () => `http://localhost:${page.port}/page`, 'loopback'],
    ['IPv6 loopback', () => 'http://[::1]/', 'loopback'],
    ['IPv4-mapped IPv6 loopback', () => 'http://[::ffff:127.0.0.1]/', '127.0.0.1 is a loopback'],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['decimal IPv4', () => 'http://2130706433/', '127.0.0.1 is a loopback'],
    ['hex/short IPv4', () => 'http://0x7f.1/', '127.0.0.1 is a loopback'],
    ['RFC 1918', () => 'http://10.1.2.3/', '10.1.2.3 is a private address'],
    ['unspecified', () => 'http://0.0.0.0/', 'unspecified'],
    ['carrier-grade NAT', () => 'http://100.64.0.1/', 'carrier-grade NAT'],
    ['unique-local IPv6', () => 'http://[fd00::1]/', 'unique-local'],
    ['link-local IPv6', () => 'http://[fe80::1]/', 'link-local'],
    ['NAT64 of a private v4', () => 'http://[64:ff9b::a00:1]/', 'NAT64'],
    // Found by probing: IPv4-compatible IPv6 passed as "unicast" (THREATS 18).
    ['IPv4-compatible loopback', () => 'http://[::127.0.0.1]/v1', 'IPv4-compatible loopback'],
    ['IPv4-compatible public', () => 'http://[::8.8.8.8]/', 'IPv4-compatible deprecated'],
    ['6to4 of loopback', () => 'http://[2002:7f00:1::1]/', '6to4'],
    ['Teredo', () => 'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'Teredo'],
    ['site-local IPv6', () => 'http://[fec0::1]/', 'site-local'],
    ['NAT64 local-use', () => 'http://[64:ff9b:1::a00:1]/', 'NAT64'],
    ['unassigned IPv6', () => 'http://[4000::1]/', 'non-global IPv6'],
    ['zone id', () => 'http://[fe80::1%25eth0]/', 'not a valid URL'],
    ['multicast', () => 'http://224.0.0.1/', 'multicast'],
    ['broadcast', () => 'http://255.255.255.255/', 'broadcast'],
    ['non-http scheme', () => 'ftp://x/', 'scheme ftp:'],
    ['file scheme', () => 'file:///etc/passwd', 'scheme file:'],
    ['userinfo', () => 'http://user:pw@example.com/', 'credentials'],
  ])('%s', async (_name, url, reason) => {
    // Real DNS: IP literals never reach it, and localhost resolves offline.
    const error = await refusal(safeFetch(url()));
    expect(error.code).toBe('fetch_refused');
    expect(error.message).toContain(reason);
    expect(error.message).not.toContain('pw@');
    expect(page.seen).toEqual([]);
  });

  it('refuses a name when any of its addresses is private, naming it', async () => {
    const error = await refusal(
      safeFetch('http://example.internal/', {
        lookup: fakeDns({ 'example.internal': ['93.184.215.14', '10.0.0.5'] }),
      }),
    );
    expect(error.message).toBe('refused: example.internal resolves to 10.0.0.5, a private address');
    expect(error.address).toBe('10.0.0.5');
  });

  it('refuses a name resolving to IPv4-mapped loopback', async () => {
    const error = await refusal(
      safeFetch('http://mapped.test/', {
        lookup: fakeDns({ 'mapped.test': ['::ffff:127.0.0.1'] }),
      }),
    );
    expect(error.message).toContain('resolves to 127.0.0.1, a loopback address');
  });

  it('allow-listing is per exact ip:port', async () => {
    const error = await refusal(
      safeFetch(`http://127.0.0.1:${page.port}/page`, {
        allowAddresses: [`127.0.0.1:${other.port}`],
      }),
    );
    expect(error.message).toContain('loopback');
    expect(page.seen).toEqual([]);
  });

  it('connects to the checked address, not a later DNS answer (rebinding)', async () => {
    // First answer public, then loopback: a re-resolving client would reach the local server.
    let calls = 0;
    const rebinding = async () => {
      calls++;
      return [{ address: calls === 1 ? '93.184.215.14' : '127.0.0.1', family: 4 as const }];
    };
    // There is no route to the public address in tests: the fetch fails or times out, but
    // must never land on 127.0.0.1.
    await expect(
      safeFetch(`http://rebind.test:${page.port}/page`, { lookup: rebinding, timeoutMs: 1000 }),
    ).rejects.toThrow();
    expect(calls).toBe(1);
    expect(page.seen).toEqual([]);
  });

  it('resolves once per hop even when later answers would differ', async () => {
    let calls = 0;
    const rebinding = async () => {
      calls++;
      return [{ address: calls === 1 ? '127.0.0.1' : '10.9.9.9', family: 4 as const }];
    };
    const result = await safeFetch(`http://docs.example.test:${page.port}/page`, {
      lookup: rebinding,
      allowAddresses: [`127.0.0.1:${page.port}`],
    });
    expect(result.status).toBe(200);
    expect(calls).toBe(1);
  });
});

describe('safeFetch on allowed addresses', () => {
  const docs = fakeDns({ 'docs.example.test': ['127.0.0.1'] });
  const allow = () => [`127.0.0.1:${page.port}`];

  it('fetches a page with the hostname kept as Host', async () => {
    const result = await safeFetch(`http://docs.example.test:${page.port}/page#frag`, {
      lookup: docs,
      allowAddresses: allow(),
    });
    expect(result).toEqual({
      url: `http://docs.example.test:${page.port}/page#frag`,
      status: 200,
      contentType: 'text/html; charset=utf-8',
      body: '<h1>Docs ✓</h1>',
      truncated: false,
      redirects: [],
    });
    expect(page.seen.at(-1)).toBe(`docs.example.test:${page.port}/page`);
  });

  it('returns non-2xx statuses as results', async () => {
    const result = await safeFetch(`http://docs.example.test:${page.port}/nope`, {
      lookup: docs,
      allowAddresses: allow(),
    });
    expect(result.status).toBe(404);
    expect(result.body).toBe('not found');
  });

  it('refuses a redirect to a non-allowed address, which never sees a request', async () => {
    const error = await refusal(
      safeFetch(`http://docs.example.test:${page.port}/to-other`, {
        lookup: docs,
        allowAddresses: allow(),
      }),
    );
    expect(error.message).toBe(`refused: redirect to http://127.0.0.1:${other.port}/ (loopback)`);
    expect(error.url).toBe(`http://127.0.0.1:${other.port}/`);
    expect(other.seen).toEqual([]);
  });

  it('follows redirects within allowed addresses, resolving relative Locations', async () => {
    const base = `http://docs.example.test:${page.port}`;
    const result = await safeFetch(`${base}/hop?n=2`, { lookup: docs, allowAddresses: allow() });
    expect(result.status).toBe(200);
    expect(result.body).toBe('<h1>Docs ✓</h1>');
    expect(result.url).toBe(`${base}/page`);
    expect(result.redirects).toEqual([`${base}/hop?n=1`, `${base}/hop?n=0`, `${base}/page`]);
  });

  it('refuses more than maxRedirects', async () => {
    const error = await refusal(
      safeFetch(`http://docs.example.test:${page.port}/loop`, {
        lookup: docs,
        allowAddresses: allow(),
        maxRedirects: 3,
      }),
    );
    expect(error.message).toBe('refused: more than 3 redirects');
  });

  it('truncates the body at maxBytes', async () => {
    const result = await safeFetch(`http://docs.example.test:${page.port}/big`, {
      lookup: docs,
      allowAddresses: allow(),
      maxBytes: 1000,
    });
    expect(result.truncated).toBe(true);
    expect(result.body).toBe('x'.repeat(1000));
  });

  it('times out on a server that never answers', async () => {
    const started = Date.now();
    await expect(
      safeFetch(`http://127.0.0.1:${silent.port}/`, {
        allowAddresses: [`127.0.0.1:${silent.port}`],
        timeoutMs: 300,
      }),
    ).rejects.toThrow(/timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(silent.seen).toHaveLength(1);
  });

  it("honours the caller's abort signal", async () => {
    const controller = new AbortController();
    const pending = safeFetch(`http://127.0.0.1:${silent.port}/`, {
      allowAddresses: [`127.0.0.1:${silent.port}`],
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('user cancelled')), 50);
    await expect(pending).rejects.toThrow('user cancelled');
  });
});

describe('classifyAddress', () => {
  it.each([
    ['fe80::1%eth0', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::a00:1', 'IPv4-compatible private'],
    ['2606:4700::1111', null],
    ['8.8.8.8', null],
  ])('%s → %s', (address, refused) => {
    expect(classifyAddress(address).refused).toBe(refused);
  });
});
