import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { get as httpGet, request as httpRequest, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { schema } from '@studio/db';
import type { DaemonStream } from '@studio/runtime';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  injectAs,
  type InjectArgs,
  signedInUser,
  startTestServer,
  waitForWorkspace,
  wsUrl,
  type TestServer,
} from '../testing.ts';

const MiB = 1024 * 1024;

/**
 * The previewed app, run inside the workspace: echoes requests as JSON, sets cookies, redirects,
 * streams 5 MiB, echoes WebSocket text frames (a hand-written server: the workspace has no `ws`),
 * and prints a line for every TCP connection it accepts.
 */
const APP = String.raw`
const http = require('http');
const crypto = require('crypto');
const pattern = Buffer.alloc(64 * 1024);
for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 7) % 251;
const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (path === '/big') {
    const size = Number(new URL(req.url, 'http://app').searchParams.get('size') || 5 * 1024 * 1024);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    let sent = 0;
    const write = () => {
      while (sent < size) {
        const n = Math.min(pattern.length, size - sent);
        sent += n;
        if (sent % (1024 * 1024) === 0) console.log('progress ' + sent);
        if (!res.write(pattern.subarray(0, n))) return res.once('drain', write);
      }
      res.end(() => console.log('sent ' + size));
    };
    return write();
  }
  if (path === '/cookie') {
    res.writeHead(200, {
      'content-type': 'text/plain',
      'set-cookie': [
        'app=1; Path=/; Domain=localhost; HttpOnly',
        'studio.session_token=stolen; Path=/',
        'scoped=2; Path=/api; SameSite=Lax',
      ],
      'clear-site-data': '"cookies"',
    });
    return res.end('ok');
  }
  if (path === '/redirect') {
    res.writeHead(302, { location: '/target?x=1' });
    return res.end();
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    }));
  });
});
server.on('connection', () => console.log('connection'));
server.on('upgrade', (req, socket) => {
  const accept = crypto.createHash('sha1')
    .update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
    .digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: ' + accept + '\r\n\r\n');
  let buffer = Buffer.alloc(0);
  socket.on('data', (data) => {
    buffer = Buffer.concat([buffer, data]);
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0] & 0x0f;
      let length = buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      }
      const mask = offset;
      offset += 4;
      if (buffer.length < offset + length) return;
      const payload = Buffer.from(buffer.subarray(offset, offset + length));
      for (let i = 0; i < length; i++) payload[i] ^= buffer[mask + (i % 4)];
      buffer = buffer.subarray(offset + length);
      if (opcode === 8) return socket.end(Buffer.from([0x88, 0]));
      const reply = Buffer.concat([Buffer.from('echo:' + (req.headers.cookie || '') + ':'), payload]);
      const header = reply.length < 126
        ? Buffer.from([0x81, reply.length])
        : Buffer.from([0x81, 126, reply.length >> 8, reply.length & 255]);
      socket.write(Buffer.concat([header, reply]));
    }
  });
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
`;

let server: TestServer;
let alice: { id: string; cookie: string };
let mallory: { id: string; cookie: string };
let app: DaemonStream;
let appOutput = '';
let port: number;
let prefix: string;

const api = (...args: InjectArgs) => injectAs(server, ...args);
/** How far the app got writing its current large response. */
const sentSoFar = (since: number) =>
  Math.max(0, ...[...appOutput.slice(since).matchAll(/progress (\d+)/g)].map((m) => Number(m[1])));
const connections = () => appOutput.split('\n').filter((line) => line === 'connection').length;
const previewUrl = (path: string) => `${server.origin}${prefix}${path}`;

/** Where a browser with `cookie` is sent when it opens the preview: the prefix with its pass. */
async function passPrefix(cookie = alice.cookie, at = prefix): Promise<string> {
  const response = await fetch(`${server.origin}${at}/`, {
    headers: { cookie },
    redirect: 'manual',
  });
  expect(response.status).toBe(302);
  const location = response.headers.get('location')!;
  expect(location).toMatch(new RegExp(`^${at}/~[\\w-]+\\.[\\w-]{43}/$`));
  return location.slice(0, -1);
}

beforeAll(async () => {
  server = await startTestServer();
  alice = await signedInUser(server, { email: 'alice@example.com' });
  mallory = await signedInUser(server, { email: 'mallory@example.com' });
  await api(alice, 'POST', '/api/workspaces', { name: 'demo' });
  await waitForWorkspace(server, alice, 'demo', 'running');
  const row = await server.services.workspaces.get(alice.id, 'demo');
  const daemon = await server.services.workspaces.connect(row);
  app = await daemon.open('exec.start', { command: 'node', args: ['-e', APP] });
  app.onData((payload) => (appOutput += Buffer.from(payload).toString()));
  await until(() => /port \d+\n/.test(appOutput));
  port = Number(/port (\d+)/.exec(appOutput)![1]);
  prefix = `/w/demo/p/${port}`;
}, 60_000);

afterAll(async () => {
  app?.cancel();
  await server?.close();
}, 60_000);

describe('links to previews', () => {
  const makeLink = async (audience: 'team' | 'public', who = alice) => {
    const made = await api(who, 'POST', '/api/workspaces/demo/previews/links', {
      port,
      audience,
      expiresInHours: 2,
    });
    if (made.statusCode !== 201) return { statusCode: made.statusCode, json: () => made.json() };
    const body = made.json();
    // The test server's public URL is not where it listens: the same path, here.
    return {
      statusCode: made.statusCode,
      json: () => ({ ...body, url: `${server.origin}${new URL(body.url).pathname}` }),
    };
  };
  const path = (url: string) => new URL(url).pathname;

  it('opens a port to anyone with a public link, sandboxed, without the platform’s cookies', async () => {
    const made = await makeLink('public');
    expect(made.statusCode).toBe(201);
    const { url, link } = made.json();
    expect(url).toMatch(new RegExp(`^${server.origin}/l/[\\w-]{43}/$`));
    expect(link).toMatchObject({ port, audience: 'public', createdBy: 'alice@example.com' });
    const response = await fetch(`${url}echo?q=1`, {
      headers: { cookie: `${alice.cookie}; app=1` },
    });
    expect(response.status).toBe(200);
    const seen = (await response.json()) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/echo?q=1');
    expect(seen.headers.cookie).toBe('app=1');
    expect(response.headers.get('content-security-policy')).toContain('sandbox allow-scripts');
    // Without the slash, to the directory (relative URLs resolve there).
    const bare = await fetch(url.slice(0, -1), { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([308, `${path(url)}`]);
    // Its WebSocket too.
    const socket = new WebSocket(`${url.replace('http', 'ws')}ws`);
    await once(socket, 'open');
    socket.send('hi');
    const [frame] = (await once(socket, 'message')) as [Buffer];
    expect(frame.toString()).toBe('echo::hi');
    socket.close();
  });

  /** A WebSocket open through a link, answering, and a promise of its close. */
  const linkSocket = async (url: string) => {
    const socket = new WebSocket(`${url.replace('http', 'ws')}ws`);
    await once(socket, 'open');
    socket.send('hi');
    await once(socket, 'message');
    // In an object: an async function's promise would otherwise wait for the close itself.
    return { closed: once(socket, 'close') };
  };

  it('lets only the workspace’s admins make, list and revoke links, and audits both', async () => {
    expect((await makeLink('public', mallory)).statusCode).toBe(404);
    const made = (await makeLink('public')).json();
    const { closed } = await linkSocket(made.url);
    const listed = await api(alice, 'GET', '/api/workspaces/demo/previews/links');
    expect(listed.json()[0]).toMatchObject({ id: made.link.id, revokedAt: null });
    expect(JSON.stringify(listed.json())).not.toContain(path(made.url).split('/')[2]);
    expect(
      (await api(alice, 'DELETE', `/api/workspaces/demo/previews/links/${made.link.id}`))
        .statusCode,
    ).toBe(204);
    // Revoking closes what was open through it, not only what comes next.
    await closed;
    const gone = await fetch(`${made.url}echo`, { headers: { accept: 'text/html' } });
    expect(gone.status).toBe(404);
    expect(await gone.text()).toContain(
      'This preview link does not exist, was revoked or has expired.',
    );
    // A made-up token reads the same.
    const forged = await fetch(`${server.origin}/l/${'A'.repeat(43)}/echo`);
    expect([forged.status, ((await forged.json()) as { message: string }).message]).toEqual([
      404,
      'This preview link does not exist, was revoked or has expired.',
    ]);
    const audit = await api(alice, 'GET', '/api/audit');
    const actions = (audit.json().events as Array<{ action: string }>).map((event) => event.action);
    expect(actions).toEqual(
      expect.arrayContaining(['preview_link.created', 'preview_link.revoked']),
    );
  });

  it('stops working when it expires, closing its sockets', async () => {
    const made = (await makeLink('public')).json();
    expect((await fetch(`${made.url}echo`)).status).toBe(200);
    const { closed } = await linkSocket(made.url);
    const { database } = server.services;
    await database.db
      .update(schema.previewLinks)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(schema.previewLinks.id, made.link.id));
    expect((await fetch(`${made.url}echo`)).status).toBe(404);
    // The next re-check of open sockets (every 200 ms on the test server) finds it expired.
    await closed;
  });

  it('opens a team link to anyone signed in here, riding a pass after the first navigation', async () => {
    const { url } = (await makeLink('team')).json();
    const anonymous = await fetch(`${url}echo`);
    expect(anonymous.status).toBe(401);
    // A cookie alone opens it only to a navigation (which gets a pass), never to a cross-site POST.
    const posted = await fetch(`${url}echo`, {
      method: 'POST',
      headers: { cookie: mallory.cookie, origin: 'https://evil.example' },
      body: 'x',
    });
    expect(posted.status).toBe(401);
    // Mallory has no role on the workspace, but signs in here: the team may look.
    const first = await fetch(`${url}echo?x=1`, {
      headers: { cookie: mallory.cookie },
      redirect: 'manual',
    });
    expect(first.status).toBe(302);
    const location = first.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^${path(url)}~[\\w-]+\\.[\\w-]{43}/echo\\?x=1$`));
    const page = await fetch(`${server.origin}${location}`);
    expect(page.status).toBe(200);
    expect(((await page.json()) as { url: string }).url).toBe('/echo?x=1');
    // The pass is for this link: another link of the same port does not take it.
    const other = (await makeLink('team')).json();
    const pass = location.split('/')[3];
    expect((await fetch(`${other.url}${pass}/echo`)).status).toBe(401);
    // Signing out ends it.
    await fetch(`${server.origin}/api/session`, {
      method: 'DELETE',
      headers: { cookie: mallory.cookie, origin: server.origin },
    });
    expect((await fetch(`${server.origin}${location}`)).status).toBe(401);
    mallory = await signedInUser(server, { email: 'mallory2@example.com' });
  });
});

describe('port previews', () => {
  it('proxies a request with its query string, without the platform credentials', async () => {
    const { secret } = await server.services.tokens.create(alice.id, { name: 'preview test' });
    const response = await fetch(previewUrl('/echo/a%20b?q=1&r=two'), {
      headers: {
        authorization: `Bearer ${secret}`,
        cookie: `app=hello; ${alice.cookie}; other=x`,
        'x-forwarded-host': 'forged.example',
      },
    });
    expect(response.status).toBe(200);
    const seen = (await response.json()) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/echo/a%20b?q=1&r=two');
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers.cookie).toBe('app=hello; other=x');
    expect(seen.headers).toMatchObject({
      host: `localhost:${port}`,
      'x-forwarded-prefix': prefix,
      'x-forwarded-proto': 'http',
      'x-forwarded-host': new URL(server.origin).host,
    });

    const policy = response.headers.get('content-security-policy')!;
    expect(policy).toContain('sandbox allow-scripts');
    expect(policy).not.toContain('allow-same-origin');
    expect(policy).toContain("frame-ancestors 'self'");
  });

  it('passes request bodies through', async () => {
    const json = await fetch(previewUrl('/submit?kind=json'), {
      method: 'POST',
      headers: { cookie: alice.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(await json.json()).toMatchObject({
      method: 'POST',
      url: '/submit?kind=json',
      body: '{"hello":"world"}',
    });
    const form = await fetch(previewUrl('/form'), {
      method: 'PUT',
      headers: { cookie: alice.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1&b=2',
    });
    expect(await form.json()).toMatchObject({ method: 'PUT', body: 'a=1&b=2' });
    // Larger than the API's 1 MiB body limit: the app decides what it accepts, not the platform.
    const big = 'x'.repeat(2 * MiB);
    const upload = await fetch(previewUrl('/upload'), {
      method: 'POST',
      headers: { cookie: alice.cookie, 'content-type': 'text/plain' },
      body: big,
    });
    expect(((await upload.json()) as { body: string }).body.length).toBe(big.length);
  });

  it("scopes the app's cookies and redirects under the preview", async () => {
    const scoped = await passPrefix();
    const cookies = await fetch(`${server.origin}${scoped}/cookie`);
    expect(cookies.status).toBe(200);
    expect(cookies.headers.getSetCookie()).toEqual([
      `app=1; Path=${scoped}/; HttpOnly`,
      `scoped=2; Path=${scoped}/api; SameSite=Lax`,
    ]);
    expect(cookies.headers.get('clear-site-data')).toBeNull();

    const redirect = await fetch(`${server.origin}${scoped}/redirect`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe(`${scoped}/target?x=1`);
  });

  it('moves a browser under a preview pass that works without cookies, for that port only', async () => {
    // The sandboxed page's own requests carry no cookie: the pass in the path signs them in.
    const opened = await fetch(previewUrl('/echo?q=1'), {
      headers: { cookie: alice.cookie },
      redirect: 'manual',
    });
    expect(opened.status).toBe(302);
    expect(opened.headers.get('cache-control')).toBe('no-store');
    const location = opened.headers.get('location')!;
    const scoped = location.slice(0, location.indexOf('/echo'));
    expect(location).toBe(`${scoped}/echo?q=1`);
    const seen = await fetch(`${server.origin}${location}`);
    expect(seen.status).toBe(200);
    expect((await seen.json()) as { url: string; headers: Record<string, string> }).toMatchObject({
      url: '/echo?q=1',
      headers: { 'x-forwarded-prefix': scoped },
    });

    // The sandboxed page's fetches are cross-origin (Origin: null): preflight answered here,
    // and the answer readable.
    const preflight = await fetch(`${server.origin}${scoped}/submit`, {
      method: 'OPTIONS',
      headers: {
        origin: 'null',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('null');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('PUT');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type');
    const readable = await fetch(`${server.origin}${scoped}/echo`, { headers: { origin: 'null' } });
    expect(readable.headers.get('access-control-allow-origin')).toBe('null');

    // Tampered, moved to another port, or used by another person's browser for their own
    // workspace: refused before any connection reaches the app.
    const before = connections();
    const pass = scoped.slice(scoped.lastIndexOf('/') + 1);
    const tampered = `${prefix}/${pass.slice(0, -2)}${pass.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const path of [tampered, `/w/demo/p/${port + 1}/${pass}`]) {
      const refused = await fetch(`${server.origin}${path}/echo`);
      expect(refused.status).toBe(401);
    }
    expect(connections()).toBe(before);

    // A WebSocket from the sandboxed page says Origin: null; with the pass it is let through.
    const socket = new WebSocket(wsUrl(server, `${scoped}/ws`), { headers: { origin: 'null' } });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send('hi');
    const [message] = (await once(socket, 'message')) as [Buffer];
    expect(String(message)).toBe('echo::hi');
    socket.close();
    const foreign = new WebSocket(wsUrl(server, `${scoped}/ws`), {
      headers: { origin: 'https://evil.example' },
    });
    expect(await refusedWith(foreign)).toBe(403);
  });

  it('ends a preview pass with the session it was made for', async () => {
    const bob = await signedInUser(server, { email: 'bob@example.com' });
    await api(bob, 'POST', '/api/workspaces', { name: 'bobs' });
    await waitForWorkspace(server, bob, 'bobs', 'running');
    // Bob's workspace has a network of its own: an app of his answers on the same port.
    const row = await server.services.workspaces.get(bob.id, 'bobs');
    const daemon = await server.services.workspaces.connect(row);
    let said = '';
    const bobsApp = await daemon.open('exec.start', {
      command: 'node',
      args: [
        '-e',
        `require('http').createServer((q, r) => r.end('ok')).listen(${port}, () => console.log('up'))`,
      ],
    });
    bobsApp.onData((payload) => (said += Buffer.from(payload).toString()));
    await until(() => said.includes('up'));
    const scoped = await passPrefix(bob.cookie, `/w/bobs/p/${port}`);
    expect((await fetch(`${server.origin}${scoped}/echo`)).status).toBe(200);
    expect((await api(bob, 'DELETE', '/api/session')).statusCode).toBe(204);
    const after = await fetch(`${server.origin}${scoped}/echo`);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { message: string }).message).toMatch(/open the preview again/);
    bobsApp.cancel();
  }, 60_000);

  it('redirects the bare preview path to the one with a slash', async () => {
    const response = await fetch(`${server.origin}${prefix}?tab=1`, {
      headers: { cookie: alice.cookie },
      redirect: 'manual',
    });
    expect(response.status).toBe(308);
    expect(response.headers.get('location')).toBe(`${prefix}/?tab=1`);
  });

  it('streams a 5 MiB response intact', async () => {
    const response = await fetch(previewUrl('/big'), { headers: { cookie: alice.cookie } });
    expect(response.status).toBe(200);
    const body = Buffer.from(await response.arrayBuffer());
    const pattern = Buffer.alloc(64 * 1024);
    for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 7) % 251;
    const expected = Buffer.concat(Array.from({ length: 80 }, () => pattern));
    expect(body.byteLength).toBe(5 * MiB);
    expect(sha256(body)).toBe(sha256(expected));
  }, 30_000);

  it('holds the app back while the browser reads slowly', async () => {
    const size = 64 * MiB;
    const scoped = await passPrefix();
    const since = appOutput.length;
    const response = await new Promise<IncomingMessage>((resolve, reject) =>
      httpGet(`${server.origin}${scoped}/big?size=${size}`, resolve).on('error', reject),
    );
    response.pause();
    // Unread, the body stays in the workspace: the app is stalled, not piling bytes into the server.
    await sleep(1000);
    const stalledAt = sentSoFar(since);
    await sleep(1500);
    expect(sentSoFar(since)).toBe(stalledAt);
    expect(stalledAt).toBeLessThan(size / 2);
    let received = 0;
    response.on('data', (chunk: Buffer) => (received += chunk.byteLength));
    response.resume();
    await new Promise((resolve) => response.once('end', resolve));
    expect(received).toBe(size);
    await until(() => appOutput.includes(`sent ${size}`));
  }, 60_000);

  it('refuses the unauthenticated before the app is reached', async () => {
    const before = connections();
    const attempts = await Promise.all([
      fetch(previewUrl('/echo')),
      fetch(previewUrl('/echo'), { headers: { cookie: 'studio.session_token=forged' } }),
      fetch(previewUrl('/echo'), { headers: { authorization: 'Bearer nope' } }),
      fetch(previewUrl('/echo'), { method: 'POST', body: 'x' }),
    ]);
    for (const response of attempts) {
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: 'unauthenticated' });
    }
    const socket = new WebSocket(wsUrl(server, `${prefix}/ws`), {
      headers: { origin: server.origin },
    });
    expect(await refusedWith(socket)).toBe(401);
    await sleep(300);
    expect(connections()).toBe(before);
    // The count does see a request that is let through.
    await fetch(previewUrl('/echo'), { headers: { cookie: alice.cookie } });
    expect(connections()).toBe(before + 1);
  });

  it("hides another user's workspace behind 404", async () => {
    const response = await fetch(previewUrl('/echo'), { headers: { cookie: mallory.cookie } });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'not_found' });
    const socket = new WebSocket(wsUrl(server, `${prefix}/ws`), {
      headers: { origin: server.origin, cookie: mallory.cookie },
    });
    expect(await refusedWith(socket)).toBe(404);
    const url = await api(mallory, 'GET', `/api/workspaces/demo/previews/${port}/url`);
    expect(url.statusCode).toBe(404);
  });

  it('says clearly when nothing listens on the port', async () => {
    const json = await fetch(`${server.origin}/w/demo/p/1/`, { headers: { cookie: alice.cookie } });
    expect(json.status).toBe(502);
    expect(await json.json()).toMatchObject({
      code: 'unavailable',
      message: 'Nothing is listening on port 1 in workspace demo.',
    });
    const page = await fetch(`${server.origin}/w/demo/p/1/`, {
      headers: { cookie: alice.cookie, accept: 'text/html,*/*' },
    });
    expect(page.status).toBe(502);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('Nothing is listening on port 1 in workspace demo.');
  });

  it('refuses a port outside 1–65535, naming it', async () => {
    for (const bad of ['0', '65536', 'abc']) {
      const response = await fetch(`${server.origin}/w/demo/p/${bad}/`, {
        headers: { cookie: alice.cookie },
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toContain(`"${bad}"`);
    }
  });

  it('pipes WebSockets to the app and refuses foreign origins', async () => {
    const socket = new WebSocket(wsUrl(server, `${prefix}/ws?room=1`), {
      headers: { origin: server.origin, cookie: `${alice.cookie}; app=ws` },
    });
    const messages: string[] = [];
    socket.on('message', (data) => messages.push(String(data)));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.send('hello');
    socket.send('y'.repeat(1000));
    await until(() => messages.length === 2);
    // The app saw its own cookie and not the session.
    expect(messages).toEqual(['echo:app=ws:hello', `echo:app=ws:${'y'.repeat(1000)}`]);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.close();
    await closed;

    // The app's other sockets still go through the WebSocket plugin.
    const events = new WebSocket(wsUrl(server, '/api/events'), {
      headers: { origin: server.origin, cookie: alice.cookie },
    });
    const hello = await new Promise<string>((resolve, reject) => {
      events.once('message', (data) => resolve(String(data)));
      events.once('error', reject);
    });
    expect(JSON.parse(hello)).toMatchObject({ type: 'hello', userId: alice.id });
    events.close();

    for (const origin of ['https://evil.example', 'null']) {
      const foreign = new WebSocket(wsUrl(server, `${prefix}/ws`), {
        headers: { origin, cookie: alice.cookie },
      });
      expect(await refusedWith(foreign)).toBe(403);
    }
  });

  it('answers a WebSocket to a dead port with 502', async () => {
    const socket = new WebSocket(wsUrl(server, '/w/demo/p/1/ws'), {
      headers: { origin: server.origin, cookie: alice.cookie },
    });
    expect(await refusedWith(socket)).toBe(502);
  });

  it('gives the preview URL of a port, and leaves /w/:name to the web app', async () => {
    const response = await api(alice, 'GET', `/api/workspaces/demo/previews/${port}/url`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ url: `http://localhost:3000${prefix}/`, mode: 'path' });
    const bad = await api(alice, 'GET', '/api/workspaces/demo/previews/0/url');
    expect(bad.statusCode).toBe(400);

    const ide = await fetch(`${server.origin}/w/demo`, {
      headers: { cookie: alice.cookie, accept: 'text/html' },
    });
    expect(ide.status).toBe(200);
    expect(ide.headers.get('content-type')).toContain('text/html');
    expect(ide.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('answers 409 while the workspace is stopped', async () => {
    await api(alice, 'POST', '/api/workspaces/demo/stop');
    await waitForWorkspace(server, alice, 'demo', 'stopped');
    const response = await fetch(previewUrl('/echo'), { headers: { cookie: alice.cookie } });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: 'workspace_not_running' });
    const page = await fetch(previewUrl('/echo'), {
      headers: { cookie: alice.cookie, accept: 'text/html' },
    });
    expect(page.status).toBe(409);
    expect(await page.text()).toContain('start it first');
  }, 30_000);
});

/** The HTTP status a refused WebSocket handshake was answered with. */
function refusedWith(socket: WebSocket): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => reject(new Error('the socket opened')));
    socket.once('error', reject);
  });
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(25);
  }
  throw new Error('condition not met in time');
}

describe('subdomain previews (STUDIO_PREVIEW_DOMAIN)', () => {
  // Its own server: the mode is the server's. Its public URL is http://localhost:3000, so preview
  // hosts are `p<port>-<id>.localhost:3000`; requests go to where it listens, with that Host.
  let sub: TestServer;
  let owner: { id: string; cookie: string };
  let outsider: { id: string; cookie: string };
  let subPort: number;
  let workspaceId: string;
  let running: DaemonStream;
  const label = () => `p${subPort}-${workspaceId}`;
  const previewHost = (name = label()) => `${name}.localhost:3000`;

  /** One request to the test server with exactly these headers (Host among them). */
  const send = (
    path: string,
    headers: Record<string, string>,
    method = 'GET',
  ): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> =>
    new Promise((resolve, reject) => {
      const { port: listening } = new URL(sub.origin);
      const request = httpRequest(
        { host: '127.0.0.1', port: listening, path, method, headers },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
          );
        },
      );
      request.on('error', reject);
      request.end();
    });

  /** The cookie a browser holds after following the platform's redirect to the preview host. */
  async function enter(platformPath: string, cookie = owner.cookie) {
    const first = await send(platformPath, { host: 'localhost:3000', cookie });
    expect(first.status).toBe(302);
    const door = new URL(first.headers.location!);
    const opened = await send(`${door.pathname}${door.search}`, { host: door.host });
    expect(opened.status).toBe(302);
    const setCookie = opened.headers['set-cookie']![0]!;
    return {
      door,
      setCookie,
      to: opened.headers.location!,
      cookie: setCookie.split(';')[0]!,
    };
  }

  beforeAll(async () => {
    sub = await startTestServer({ STUDIO_PREVIEW_DOMAIN: 'localhost' });
    owner = await signedInUser(sub, { email: 'owner@example.com' });
    outsider = await signedInUser(sub, { email: 'outsider@example.com' });
    await injectAs(sub, owner, 'POST', '/api/workspaces', { name: 'site' });
    await waitForWorkspace(sub, owner, 'site', 'running');
    const row = await sub.services.workspaces.get(owner.id, 'site');
    workspaceId = row.id;
    let output = '';
    running = await (
      await sub.services.workspaces.connect(row)
    ).open('exec.start', { command: 'node', args: ['-e', APP] });
    running.onData((payload) => (output += Buffer.from(payload).toString()));
    await until(() => /port \d+\n/.test(output));
    subPort = Number(/port (\d+)/.exec(output)![1]);
  }, 60_000);

  afterAll(async () => {
    running?.cancel();
    await sub?.close();
  }, 60_000);

  it('moves a browser to the preview’s own host, where the app has the root path and its own cookies', async () => {
    const place = await injectAs(sub, owner, 'GET', `/api/workspaces/site/previews/${subPort}/url`);
    expect(place.json()).toMatchObject({ mode: 'subdomain' });
    const { door, setCookie, to, cookie } = await enter(`/w/site/p/${subPort}/echo?q=1`);
    expect(door.origin).toBe(`http://${previewHost()}`);
    expect(door.pathname).toBe('/__studio/open');
    expect(door.searchParams.get('to')).toBe('/echo?q=1');
    // A cookie of that host alone, which works framed by the IDE too.
    expect(setCookie).toMatch(
      /^studio\.preview=~[\w-]+\.[\w-]{43}; Path=\/; HttpOnly; Secure; SameSite=None; Partitioned$/,
    );
    expect(to).toBe('/echo?q=1');
    const page = await send(to, { host: previewHost(), cookie: `${cookie}; app=1` });
    expect(page.status).toBe(200);
    const seen = JSON.parse(page.body) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/echo?q=1');
    // Neither the host's pass nor anything of the platform's reaches the app.
    expect(seen.headers.cookie).toBe('app=1');
    expect(seen.headers['x-forwarded-host']).toBe(previewHost());
    // Not sandboxed (its own origin already), framed only by the platform.
    expect(page.headers['content-security-policy']).toBe('frame-ancestors http://localhost:3000');
    expect(page.headers['x-frame-options']).toBeUndefined();
    // The app's cookies are the host's: no Domain, no path rewriting, none named like ours.
    const cookies = await send('/cookie', { host: previewHost(), cookie });
    expect(cookies.headers['set-cookie']).toEqual([
      'app=1; Path=/; HttpOnly',
      'scoped=2; Path=/api; SameSite=Lax',
    ]);
  });

  it('answers nothing of the platform under a preview host, and nothing without the host’s pass', async () => {
    const { cookie } = await enter(`/w/site/p/${subPort}/`);
    // The platform's own session cookie on a preview host opens nothing: not the API, not the app.
    const api = await send('/api/me', { host: previewHost(), cookie: owner.cookie });
    expect(api.status).toBe(401);
    expect(api.body).toContain('Open this preview from Studio');
    // As a page the IDE's frame may show (it is framed by the platform, not itself).
    const page = await send('/', { host: previewHost(), accept: 'text/html' });
    expect([page.status, page.headers['content-security-policy']]).toEqual([
      401,
      "default-src 'none'; frame-ancestors http://localhost:3000",
    ]);
    // With the pass, /api/me is the app's path.
    const apps = await send('/api/me', { host: previewHost(), cookie });
    expect(JSON.parse(apps.body)).toMatchObject({ url: '/api/me' });
    // Another port of the same workspace, or another workspace: the pass opens neither.
    const otherPort = await send('/', { host: previewHost(`p1-${workspaceId}`), cookie });
    expect(otherPort.status).toBe(401);
    // The route's own path under the platform's host is nothing.
    expect((await send('/__preview-host/echo', { host: 'localhost:3000' })).status).toBe(404);
    // Hosts under the domain that name no preview are not the platform's either.
    expect((await send('/api/health', { host: 'evil.localhost:3000' })).status).toBe(421);
    // The door goes only to a path on its own host.
    const door = await send(
      `/__studio/open?pass=${encodeURIComponent(cookie.split('=')[1]!)}&to=${encodeURIComponent('/\\evil.example')}`,
      { host: previewHost() },
    );
    expect(door.headers.location).toBe('/');
    // Someone without a role on the workspace gets no way in from the platform.
    const refused = await send(`/w/${workspaceId}/p/${subPort}/`, {
      host: 'localhost:3000',
      cookie: outsider.cookie,
    });
    expect(refused.status).toBe(404);
    // A state-changing request from a foreign page is refused before the app sees it.
    const posted = await send(
      '/echo',
      { host: previewHost(), cookie, origin: 'https://evil.example' },
      'POST',
    );
    expect(posted.status).toBe(403);
  });

  it('carries WebSockets from the page’s own origin, and ends when the session does', async () => {
    const viewer = await signedInUser(sub, { email: 'viewer@example.com' });
    await injectAs(sub, owner, 'PUT', `/api/workspaces/site/members/viewer@example.com`, {
      role: 'viewer',
    });
    const { cookie } = await enter(`/w/${workspaceId}/p/${subPort}/`, viewer.cookie);
    const { port: listening } = new URL(sub.origin);
    const socketFrom = (origin: string) =>
      new WebSocket(`ws://127.0.0.1:${listening}/ws`, {
        headers: { host: previewHost(), cookie, origin },
      });
    expect(await refusedWith(socketFrom('https://evil.example'))).toBe(403);
    const socket = socketFrom(`http://${previewHost()}`);
    await once(socket, 'open');
    socket.send('hi');
    const [frame] = (await once(socket, 'message')) as [Buffer];
    expect(frame.toString()).toBe('echo::hi');
    // Removed from the workspace: their socket closes, and the pass opens nothing more.
    const closed = once(socket, 'close');
    await injectAs(sub, owner, 'DELETE', `/api/workspaces/site/members/viewer@example.com`);
    await closed;
    expect((await send('/', { host: previewHost(), cookie })).status).toBe(404);
  });

  it('serves a public link on a host of its own until it is revoked', async () => {
    const made = await injectAs(sub, owner, 'POST', '/api/workspaces/site/previews/links', {
      port: subPort,
      audience: 'public',
      expiresInHours: 1,
    });
    const { url, link } = made.json() as { url: string; link: { id: string } };
    const first = await send(`${new URL(url).pathname}hello`, { host: 'localhost:3000' });
    const door = new URL(first.headers.location!);
    expect(door.host).toBe(`link-${link.id}.localhost:3000`);
    const opened = await send(`${door.pathname}${door.search}`, { host: door.host });
    const cookie = opened.headers['set-cookie']![0]!.split(';')[0]!;
    const page = await send(opened.headers.location!, { host: door.host, cookie });
    expect(JSON.parse(page.body)).toMatchObject({ url: '/hello' });
    // The link's pass is for its own host, not the workspace's private preview.
    expect((await send('/', { host: previewHost(), cookie })).status).toBe(401);
    await injectAs(sub, owner, 'DELETE', `/api/workspaces/site/previews/links/${link.id}`);
    expect((await send('/hello', { host: door.host, cookie })).status).toBe(401);
  });
});
