import { WS_CLOSE } from '@studio/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RateLimiter } from './auth/rate-limiter.ts';
import { TokenService } from './auth/tokens.ts';
import {
  cookiePair,
  sameOrigin,
  signedInUser,
  signIn,
  startTestServer,
  type TestServer,
} from './testing.ts';

let server: TestServer;
let admin: { id: string; cookie: string; password: string };
beforeAll(async () => {
  server = await startTestServer();
  admin = await signedInUser(server, { email: 'admin@example.com', role: 'admin' });
});
afterAll(() => server.close());

/** A same-origin request as the web app makes it. */
function api(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  options: {
    cookie?: string;
    token?: string;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = { ...sameOrigin(server), ...options.headers };
  if (options.cookie) headers.cookie = options.cookie;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return server.app.inject({
    method,
    url,
    headers,
    ...(options.body !== undefined ? { payload: options.body as object } : {}),
  });
}

describe('errors on the wire', () => {
  it('unknown routes are a JSON 404', async () => {
    const response = await api('GET', '/api/does-not-exist');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      code: 'not_found',
      message: 'no route GET /api/does-not-exist',
    });
  });

  it('malformed JSON, unknown fields, wrong types and oversized bodies are 400/413 naming the problem', async () => {
    const malformed = await server.app.inject({
      method: 'POST',
      url: '/api/session',
      headers: { 'content-type': 'application/json', ...sameOrigin(server) },
      payload: '{"email":',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('bad_request');

    const unknown = await api('POST', '/api/session', {
      body: { email: 'a@b.co', password: 'x', admin: true },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toBe('body.admin: unknown field admin');

    const wrongType = await api('POST', '/api/tokens', {
      cookie: admin.cookie,
      body: { name: 42 },
    });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().message).toMatch(/^body\.name: /);

    const huge = await api('POST', '/api/tokens', {
      cookie: admin.cookie,
      body: { name: 'x'.repeat(2 * 1024 * 1024) },
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().code).toBe('payload_too_large');
    // Still serving.
    expect((await api('GET', '/healthz')).statusCode).toBe(200);
  });

  it('takes an empty body that says it is JSON as no body', async () => {
    const revoke = await server.app.inject({
      method: 'POST',
      url: '/api/session/revoke-all',
      headers: {
        ...sameOrigin(server),
        'content-type': 'application/json',
        cookie: (await signedInUser(server, { email: 'empty-body@example.com' })).cookie,
      },
      payload: '',
    });
    expect(revoke.statusCode).toBe(204);
    // Where a body is needed, the schema names it.
    const token = await api('POST', '/api/tokens', {
      cookie: admin.cookie,
      headers: { 'content-type': 'application/json' },
    });
    expect(token.statusCode).toBe(400);
    expect(token.json().message).toMatch(/^body/);
  });

  it('/api/me without credentials is 401 unauthenticated', async () => {
    const response = await api('GET', '/api/me');
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('unauthenticated');
  });
});

describe('health, metrics, OpenAPI', () => {
  it('reports liveness and readiness to anyone, metrics to admins and metrics tokens', async () => {
    expect((await api('GET', '/healthz')).json()).toEqual({ status: 'ok' });
    expect((await api('GET', '/readyz')).json()).toEqual({ status: 'ready' });
    expect((await api('GET', '/metrics')).statusCode).toBe(401);
    const metrics = (await api('GET', '/metrics', { cookie: admin.cookie })).body;
    expect(metrics).toContain('studio_http_request_duration_seconds_bucket');
    expect(metrics).toContain('studio_websockets_open');
    expect(metrics).toContain('process_resident_memory_bytes');
    // A scraper's token: /metrics and nothing else.
    const { secret } = await server.services.tokens.create(admin.id, {
      name: 'scraper',
      scope: 'metrics',
    });
    expect((await api('GET', '/metrics', { token: secret })).statusCode).toBe(200);
    expect((await api('GET', '/api/me', { token: secret })).json()).toMatchObject({
      code: 'forbidden',
      message: 'this API token may only read /metrics',
    });
    const member = await signedInUser(server, { email: 'not-an-admin@example.com' });
    expect((await api('GET', '/metrics', { cookie: member.cookie })).statusCode).toBe(403);
  });

  it('publishes an OpenAPI 3 document of the routes and readable docs, to admins', async () => {
    expect((await api('GET', '/api/openapi.json')).statusCode).toBe(401);
    expect((await api('GET', '/api/docs/')).statusCode).toBe(401);
    const spec = (await api('GET', '/api/openapi.json', { cookie: admin.cookie })).json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/api/me', '/api/tokens', '/api/admin/users']),
    );
    expect(spec.paths['/api/tokens'].post.requestBody).toBeDefined();
    const docs = await api('GET', '/api/docs/', { cookie: admin.cookie });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('serves metrics and docs to anyone only when configured so', async () => {
    const open = await startTestServer({
      STUDIO_PUBLIC_METRICS: 'true',
      STUDIO_PUBLIC_API_DOCS: 'true',
    });
    try {
      expect(
        (await open.app.inject({ url: '/metrics', headers: sameOrigin(open) })).statusCode,
      ).toBe(200);
      expect(
        (await open.app.inject({ url: '/api/openapi.json', headers: sameOrigin(open) })).statusCode,
      ).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe('first-run setup', () => {
  it('creates the first admin only with the token from the log, once', async () => {
    const fresh = await startTestServer();
    try {
      expect((await fresh.app.inject('/api/setup')).json().needsSetup).toBe(true);
      const body = {
        token: 'wrong',
        name: 'Ada',
        email: 'ada@example.com',
        password: 'a long enough password',
      };
      const headers = sameOrigin(fresh);
      const bad = await fresh.app.inject({
        method: 'POST',
        url: '/api/setup',
        headers,
        payload: body,
      });
      expect(bad.json().code).toBe('invalid_setup_token');
      const token = fresh.services.setupToken;
      const [first, second] = await Promise.all([
        fresh.app.inject({
          method: 'POST',
          url: '/api/setup',
          headers,
          payload: { ...body, token },
        }),
        fresh.app.inject({
          method: 'POST',
          url: '/api/setup',
          headers,
          payload: { ...body, token, email: 'eve@example.com' },
        }),
      ]);
      expect([first.statusCode, second.statusCode].sort()).toEqual([201, 409]);
      const winner = first.statusCode === 201 ? first : second;
      expect(winner.json().user.role).toBe('admin');
      const cookie = winner.headers['set-cookie'];
      expect(String(cookie)).toMatch(/HttpOnly/i);
      expect(String(cookie)).toMatch(/SameSite=Lax/i);
      expect((await fresh.app.inject('/api/setup')).json().needsSetup).toBe(false);
      expect(await fresh.services.users.count()).toBe(1);
    } finally {
      await fresh.close();
    }
  });
});

describe('sign-in and sessions', () => {
  it('a wrong password is 401 invalid_credentials, and attempts are rate-limited per account', async () => {
    await signedInUser(server, { email: 'limited@example.com' });
    const wrong = () =>
      api('POST', '/api/session', {
        body: { email: 'limited@example.com', password: 'wrong password' },
      });
    expect((await wrong()).json().code).toBe('invalid_credentials');
    let last;
    for (let attempt = 0; attempt < 10; attempt++) last = await wrong();
    expect(last!.statusCode).toBe(429);
    expect(last!.json().code).toBe('rate_limited');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('attempts are rate-limited per IP across accounts', async () => {
    const saved = server.services.limits.ip;
    server.services.limits.ip = new RateLimiter(server.services.database.db, 'ip-test', 3, 60_000);
    try {
      const statuses = [];
      for (let index = 0; index < 4; index++) {
        statuses.push(
          (
            await api('POST', '/api/session', {
              body: { email: `nobody${index}@example.com`, password: 'x' },
            })
          ).statusCode,
        );
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      server.services.limits.ip = saved;
    }
  });

  it('sign out ends only this session; sign out everywhere ends all of them', async () => {
    const user = await signedInUser(server, { email: 'multi@example.com' });
    const laptop = await signIn(server, 'multi@example.com', user.password);
    expect((await api('DELETE', '/api/session', { cookie: user.cookie })).statusCode).toBe(204);
    expect((await api('GET', '/api/me', { cookie: user.cookie })).statusCode).toBe(401);
    expect((await api('GET', '/api/me', { cookie: laptop })).statusCode).toBe(200);
    const phone = await signIn(server, 'multi@example.com', user.password);
    expect((await api('POST', '/api/session/revoke-all', { cookie: laptop })).statusCode).toBe(204);
    expect((await api('GET', '/api/me', { cookie: laptop })).statusCode).toBe(401);
    expect((await api('GET', '/api/me', { cookie: phone })).statusCode).toBe(401);
  });

  it('a password change keeps this session and ends the others', async () => {
    const user = await signedInUser(server, { email: 'changer@example.com' });
    const other = await signIn(server, 'changer@example.com', user.password);
    const wrong = await api('POST', '/api/me/password', {
      cookie: user.cookie,
      body: { currentPassword: 'not it at all', newPassword: 'a brand new password' },
    });
    expect(wrong.json().code).toBe('invalid_credentials');
    const changed = await api('POST', '/api/me/password', {
      cookie: user.cookie,
      body: { currentPassword: user.password, newPassword: 'a brand new password' },
    });
    expect(changed.statusCode).toBe(204);
    expect((await api('GET', '/api/me', { cookie: user.cookie })).statusCode).toBe(200);
    expect((await api('GET', '/api/me', { cookie: other })).statusCode).toBe(401);
    await expect(signIn(server, 'changer@example.com', user.password)).rejects.toThrow();
    await signIn(server, 'changer@example.com', 'a brand new password');
  });
});

describe('CSRF', () => {
  it('refuses cookie-authenticated state changes from another origin, however they are sent', async () => {
    const attempts = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
    ];
    for (const headers of attempts) {
      const response = await server.app.inject({
        method: 'POST',
        url: '/api/tokens',
        headers: { cookie: admin.cookie, host: new URL(server.origin).host, ...headers },
        payload: { name: 'csrf' },
      });
      expect(response.statusCode, JSON.stringify(headers)).toBe(403);
      expect(response.json().code).toBe('origin_rejected');
    }
    expect(await server.services.tokens.list(admin.id)).not.toContainEqual(
      expect.objectContaining({ name: 'csrf' }),
    );
  });
});

describe('API tokens', () => {
  it('are shown once, work as Bearer on every route, list without the secret, and stop working when revoked', async () => {
    const created = await api('POST', '/api/tokens', {
      cookie: admin.cookie,
      body: { name: 'ci' },
    });
    expect(created.statusCode).toBe(201);
    const { token, secret } = created.json();
    expect(secret).toMatch(/^studio_/);
    const me = await api('GET', '/api/me', { token: secret, headers: { origin: '' } });
    expect(me.json()).toMatchObject({ via: 'token', user: { email: 'admin@example.com' } });
    expect((await api('GET', '/api/admin/users', { token: secret })).statusCode).toBe(200);
    const listed = (await api('GET', '/api/tokens', { token: secret })).json();
    expect(listed).toContainEqual(expect.objectContaining({ id: token.id, name: 'ci' }));
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(
      (await api('DELETE', `/api/tokens/${token.id}`, { cookie: admin.cookie })).statusCode,
    ).toBe(204);
    expect((await api('GET', '/api/me', { token: secret })).statusCode).toBe(401);
  });

  it("another user's token id answers 404, exactly like a missing one", async () => {
    const other = await signedInUser(server, { email: 'other-tokens@example.com' });
    const { token } = (
      await api('POST', '/api/tokens', { cookie: other.cookie, body: { name: 'mine' } })
    ).json();
    const response = await api('DELETE', `/api/tokens/${token.id}`, { cookie: admin.cookie });
    expect(response.statusCode).toBe(404);
    expect(await server.services.tokens.list(other.id)).toHaveLength(1);
  });

  it('an expired token is refused', async () => {
    const { secret, token } = await server.services.tokens.create(admin.id, {
      name: 'short',
      expiresInDays: 1,
    });
    // Remembered while valid, refused once expired all the same.
    expect(await server.services.tokens.resolve(secret)).not.toBeNull();
    const later = new Date(Date.parse(token.createdAt) + 2 * 86_400_000);
    const resolved = await new TokenService(
      server.services.database.db,
      server.services.principals,
      () => later,
    ).resolve(secret);
    expect(resolved).toBeNull();
  });
});

describe('admin', () => {
  it('members cannot reach admin routes', async () => {
    const member = await signedInUser(server, { email: 'member@example.com' });
    const response = await api('GET', '/api/admin/users', { cookie: member.cookie });
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe('forbidden');
  });

  it('invites a user who then chooses a password once and is signed in', async () => {
    const created = await api('POST', '/api/admin/users', {
      cookie: admin.cookie,
      body: { email: 'Invitee@Example.com', name: 'Invitee' },
    });
    expect(created.statusCode).toBe(201);
    const { user, inviteUrl } = created.json();
    expect(user).toMatchObject({ email: 'invitee@example.com', role: 'member' });
    const path = new URL(inviteUrl).pathname.replace('/invite/', '/api/invites/');
    expect((await api('GET', path)).json()).toEqual({
      email: 'invitee@example.com',
      name: 'Invitee',
    });
    const accepted = await api('POST', path, { body: { password: 'invitee password!' } });
    expect(accepted.statusCode).toBe(200);
    expect(
      (await api('GET', '/api/me', { cookie: cookiePair(accepted.headers['set-cookie']) }))
        .statusCode,
    ).toBe(200);
    expect((await api('POST', path, { body: { password: 'second use here' } })).json().code).toBe(
      'invalid_invite',
    );
    const duplicate = await api('POST', '/api/admin/users', {
      cookie: admin.cookie,
      body: { email: 'invitee@example.com', name: 'x' },
    });
    expect(duplicate.json().code).toBe('conflict');
  });

  it('disabling a user ends their sessions, tokens and open sockets at once; they cannot sign in', async () => {
    const user = await signedInUser(server, { email: 'disabled@example.com' });
    const { secret } = await server.services.tokens.create(user.id, { name: 't' });
    const socket = await openEventsSocket(user.cookie);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const response = await api('PATCH', `/api/admin/users/${user.id}`, {
      cookie: admin.cookie,
      body: { disabled: true },
    });
    expect(response.json()).toMatchObject({ disabled: true });
    expect(await closed).toBe(WS_CLOSE.sessionEnded.code);
    expect((await api('GET', '/api/me', { cookie: user.cookie })).statusCode).toBe(401);
    expect((await api('GET', '/api/me', { token: secret })).statusCode).toBe(401);
    const signInAgain = await api('POST', '/api/session', {
      body: { email: 'disabled@example.com', password: user.password },
    });
    expect(signInAgain.json().code).toBe('user_disabled');
  });

  it('refuses to demote or disable the last active admin', async () => {
    const response = await api('PATCH', `/api/admin/users/${admin.id}`, {
      cookie: admin.cookie,
      body: { role: 'member' },
    });
    expect(response.statusCode).toBe(409);
  });
});

describe('WebSocket upgrades', () => {
  it('accept our origin with a session, and say hello', async () => {
    const socket = new WebSocket(`${server.origin.replace('http', 'ws')}/api/events`, {
      headers: { origin: server.origin, cookie: admin.cookie },
    });
    const hello = await new Promise<unknown>((resolve) =>
      socket.once('message', (data) => resolve(JSON.parse(String(data)))),
    );
    expect(hello).toEqual({ type: 'hello', userId: admin.id });
    socket.close();
  });

  it.each([
    ['a foreign Origin', { origin: 'https://evil.example' }, 403],
    ['a null Origin', { origin: 'null' }, 403],
    ['no Origin but a cookie', { origin: undefined }, 403],
    ['our Origin but no session', { origin: 'self', cookie: undefined }, 401],
  ])('reject %s before the upgrade', async (_name, options, status) => {
    const headers: Record<string, string> = {};
    const origin = options.origin === 'self' ? server.origin : options.origin;
    if (origin) headers.origin = origin;
    if (!('cookie' in options)) headers.cookie = admin.cookie;
    const result = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${server.origin.replace('http', 'ws')}/api/events`, {
        headers,
      });
      socket.once('unexpected-response', (request, response) => {
        request.destroy();
        resolve(response.statusCode ?? 0);
      });
      socket.once('open', () => reject(new Error('upgraded')));
      socket.once('error', () => {});
    });
    expect(result).toBe(status);
  });

  it('a session ended behind the server’s back (another replica) closes its socket within seconds', async () => {
    const user = await signedInUser(server, { email: 'replica@example.com' });
    const socket = await openEventsSocket(user.cookie);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await server.services.users.endSessions(user.id);
    expect(await closed).toBe(WS_CLOSE.sessionEnded.code);
  });
});

function openEventsSocket(cookie: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${server.origin.replace('http', 'ws')}/api/events`, {
      headers: { origin: server.origin, cookie },
    });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`upgrade refused: ${response.statusCode}`)),
    );
  });
}
