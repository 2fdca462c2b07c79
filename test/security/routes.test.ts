// THREATS.md as a suite over every route the server's OpenAPI document lists: each probe is
// generated per route, so a route added later is covered the day it lands. Each test names the
// THREATS lines it guards. Add a line: add a probe here (or a test in isolation.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  fill,
  raw,
  sampleBody,
  startWorld,
  stringFields,
  type Operation,
  type World,
} from './harness.ts';

let world: World;

// QUERY (a body-carrying GET) is listed for previews, which pass every method to the app; the
// other methods cover its access decision, which is the same.
const operations = () => world.operations.filter((operation) => operation.method !== 'QUERY');

beforeAll(async () => {
  // Subdomain previews on: their hosts are probed too (THREATS 37).
  world = await startWorld({ STUDIO_PREVIEW_DOMAIN: 'localhost' });
}, 180_000);

afterAll(async () => {
  await world?.stop();
});

/** Every way found to write the same path that a router might decode and a check might not. */
function encodings(path: string, origin: string): Array<[string, string]> {
  const [, first = '', ...rest] = path.split('/');
  const tail = rest.length ? `/${rest.join('/')}` : '';
  const hex = (char: string) => `%${char.charCodeAt(0).toString(16)}`;
  return [
    ['plain', path],
    ['percent-encoded letter', `/${hex(first[0]!)}${first.slice(1)}${tail}`],
    [
      'percent-encoded later letter',
      `/${first}/${rest.length ? `${hex(rest[0]![0]!)}${rest[0]!.slice(1)}/${rest.slice(1).join('/')}` : ''}`.replace(
        /\/$/,
        '',
      ),
    ],
    ['double encoding', `/%25${first.charCodeAt(0).toString(16)}${first.slice(1)}${tail}`],
    ['absolute-form target', `${origin}${path}`],
    ['double slash', `/${path}`],
    ['semicolon', `/${first};x${tail}`],
    ['upper case', path.toUpperCase()],
    ['trailing dot', `${path}.`],
    ['dot segment', `/./${first}/../${first}${tail}`],
  ];
}

const probed = (operation: Operation) => operation.access !== 'public';
const stateChanging = (operation: Operation) =>
  !['GET', 'HEAD', 'OPTIONS', 'QUERY', 'TRACE'].includes(operation.method);

describe('every route, generated from /api/openapi.json', () => {
  it('lists every route with who may call it', () => {
    expect(world.operations.length).toBeGreaterThan(100);
    for (const operation of world.operations)
      expect(['public', 'user', 'admin'], `${operation.method} ${operation.route}`).toContain(
        operation.access,
      );
    // The routes that were open by mistake are listed and guarded.
    const routes = world.operations.map((operation) => `${operation.method} ${operation.route}`);
    expect(routes).toEqual(
      expect.arrayContaining(['GET /api/admin/users', 'PUT /api/admin/templates/:name']),
    );
  });

  it('THREATS 26: without credentials, no route answers 2xx or 3xx in any encoding of its path', async () => {
    const templatesBefore = (
      await api(world.server, { cookie: world.admin.cookie })('GET', '/api/templates')
    ).json;
    const failures: string[] = [];
    for (const operation of operations().filter(probed)) {
      const path = fill(operation, world.aliceParams);
      for (const [how, target] of encodings(path, world.server.origin)) {
        const body =
          operation.method === 'GET' || operation.method === 'HEAD'
            ? undefined
            : sampleBody(operation.body);
        const response = await raw(world.server, {
          method: operation.method,
          target,
          headers: {
            origin: world.server.origin,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        if (response.status < 400 || response.status >= 500)
          failures.push(
            `${operation.method} ${operation.route} (${how}: ${target}) → ${response.status}`,
          );
      }
    }
    expect(failures).toEqual([]);
    // Nothing changed behind the refusals.
    const asAdmin = api(world.server, { cookie: world.admin.cookie });
    expect((await asAdmin('GET', '/api/templates')).json).toEqual(templatesBefore);
    expect(((await asAdmin('GET', '/api/admin/users')).json as unknown[]).length).toBe(3);
    const asAlice = api(world.server, { cookie: world.alice.cookie });
    expect(
      (await asAlice('GET', `/api/workspaces/${world.alice.workspace.name}`)).json,
    ).toMatchObject({
      status: 'running',
    });
  });

  it('THREATS 37: under a preview’s host no route of the platform answers, whatever the credentials', async () => {
    const { port } = new URL(world.server.origin);
    const hosts = [
      `p8123-${world.alice.workspace.id}.localhost:${port}`,
      `link-0123456789abcdef.localhost:${port}`,
    ];
    const failures: string[] = [];
    for (const operation of operations())
      for (const host of hosts) {
        const target = fill(operation, world.aliceParams);
        const response = await raw(world.server, {
          method: operation.method,
          target,
          // The owner's platform session and API token, from the preview's own origin.
          headers: {
            host,
            origin: `http://${host}`,
            cookie: world.alice.cookie,
            authorization: `Bearer ${world.alice.token}`,
          },
        });
        // Every path there is the preview's, which takes only its own pass: 401, never the route.
        if (response.status !== 401)
          failures.push(`${operation.method} ${target} on ${host} → ${response.status}`);
      }
    expect(failures).toEqual([]);
  });

  it('THREATS 26, 8: no socket upgrades without credentials, in any encoding', async () => {
    const failures: string[] = [];
    for (const operation of world.operations.filter(
      (item) => item.websocket && item.method === 'GET',
    )) {
      const path = fill(operation, world.aliceParams);
      for (const [how, target] of encodings(path, world.server.origin)) {
        const response = await raw(world.server, {
          method: 'GET',
          target,
          headers: {
            origin: world.server.origin,
            upgrade: 'websocket',
            connection: 'Upgrade',
            'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
            'sec-websocket-version': '13',
          },
        });
        if (response.status === 101 || response.status < 400)
          failures.push(`${operation.route} (${how}) → ${response.status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('THREATS 10: every route naming something of alice’s answers 404 to bob', async () => {
    const failures: string[] = [];
    for (const operation of operations()) {
      if (operation.access !== 'user' || operation.params.length === 0) continue;
      // His own things (credentials by host) and invites by secret are not another's objects.
      if (operation.route.startsWith('/api/me/') || operation.route.startsWith('/api/invites/'))
        continue;
      const path = fill(operation, world.aliceParams);
      const body = stateChanging(operation) ? sampleBody(operation.body) : undefined;
      const response = await raw(world.server, {
        method: operation.method,
        target: path,
        headers: {
          cookie: world.bob.cookie,
          origin: world.server.origin,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (response.status !== 404)
        failures.push(
          `${operation.method} ${operation.route} → ${response.status} ${response.body.slice(0, 120)}`,
        );
    }
    expect(failures).toEqual([]);
    // Alice's things are all still hers.
    const asAlice = api(world.server, { cookie: world.alice.cookie });
    expect((await asAlice('GET', `/api/workspaces/${world.alice.workspace.name}`)).status).toBe(
      200,
    );
    expect((await asAlice('GET', '/api/tokens')).json).toHaveLength(1);
  });

  it('THREATS 33: on a workspace shared with him, each role does what it names and no more, on every route', async () => {
    const onWorkspace = operations().filter((operation) =>
      /^\/(api\/workspaces|w)\/:name(\/|$)/.test(operation.route),
    );
    expect(onWorkspace.length).toBeGreaterThan(40);
    // Every route on a workspace says which role it needs.
    expect(
      onWorkspace
        .filter((operation) => !operation.workspaceRole)
        .map((operation) => `${operation.method} ${operation.route}`),
    ).toEqual([]);
    const asAlice = api(world.server, { cookie: world.alice.cookie });
    const share = (role: string) =>
      asAlice('PUT', `/api/workspaces/${world.alice.workspace.name}/members/${world.bob.email}`, {
        role,
      });
    const rank = { viewer: 1, editor: 2, admin: 3, owner: 4 } as const;
    // Bob reaches it by its id; routes his role is too small for answer 403 naming the role.
    const params = { ...world.aliceParams, name: world.alice.workspace.id };
    const failures: string[] = [];
    for (const role of ['viewer', 'editor', 'admin'] as const) {
      expect((await share(role)).status).toBe(200);
      for (const operation of onWorkspace) {
        if (rank[operation.workspaceRole!] <= rank[role]) continue;
        const body = stateChanging(operation) ? sampleBody(operation.body) : undefined;
        const response = await raw(world.server, {
          method: operation.method,
          target: fill(operation, params),
          headers: {
            cookie: world.bob.cookie,
            origin: world.server.origin,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        if (
          response.status !== 403 ||
          !response.body.includes(`needs the ${operation.workspaceRole} role`)
        )
          failures.push(
            `${role}: ${operation.method} ${operation.route} → ${response.status} ${response.body.slice(0, 120)}`,
          );
      }
    }
    expect(failures).toEqual([]);
    // What a viewer may do, he can: read the workspace and its files.
    await share('viewer');
    const asBob = api(world.server, { cookie: world.bob.cookie });
    const seen = await asBob('GET', `/api/workspaces/${world.alice.workspace.id}`);
    expect(seen.json).toMatchObject({ name: world.alice.workspace.name, role: 'viewer' });
    expect(
      (await asBob('GET', `/api/workspaces/${world.alice.workspace.id}/files?path=.`)).status,
    ).toBe(200);
    expect(
      (await asBob('GET', '/api/workspaces')).json as Array<{
        id: string;
        role: string;
        ownerEmail?: string;
      }>,
    ).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: world.alice.workspace.id,
          role: 'viewer',
          ownerEmail: world.alice.email,
        }),
      ]),
    );
    // Removed, it is another person's again: 404, as if it did not exist.
    expect(
      (
        await asAlice(
          'DELETE',
          `/api/workspaces/${world.alice.workspace.name}/members/${world.bob.email}`,
        )
      ).status,
    ).toBe(204);
    expect((await asBob('GET', `/api/workspaces/${world.alice.workspace.id}`)).status).toBe(404);
  });

  it('THREATS 9: every state-changing route refuses a foreign, null or cross-site request', async () => {
    const failures: string[] = [];
    const origins: Array<[string, Record<string, string>]> = [
      ['foreign Origin', { origin: 'https://evil.example' }],
      ['null Origin', { origin: 'null' }],
      [
        'no Origin, cross-site fetch',
        { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
      ],
    ];
    for (const operation of operations().filter(stateChanging)) {
      // Previews and links to them are the app's own pages (their pass or the link's token, not
      // our cookie, signs them in; a team link takes the cookie only on a GET, to issue a pass);
      // a preview host's route answers nothing under ours (THREATS 37 probes it on its hosts).
      if (['/w/', '/l/', '/__preview-host/'].some((prefix) => operation.route.startsWith(prefix)))
        continue;
      const path = fill(operation, world.aliceParams);
      const body = sampleBody(operation.body);
      for (const [how, headers] of origins) {
        const response = await raw(world.server, {
          method: operation.method,
          target: path,
          headers: {
            cookie: world.alice.cookie,
            ...headers,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        if (response.status !== 403 || !response.body.includes('origin_rejected'))
          failures.push(`${operation.method} ${operation.route} (${how}) → ${response.status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('THREATS 30, 15: every text field refuses a NUL, a megabyte and (in names) control characters with a 400 naming it', async () => {
    const failures: string[] = [];
    for (const operation of operations()) {
      if (
        !operation.body ||
        !stateChanging(operation) ||
        operation.route.startsWith('/w/') ||
        operation.route.startsWith('/l/')
      )
        continue;
      const who = operation.access === 'admin' ? world.admin : world.alice;
      const fields = stringFields(operation.body);
      for (const field of fields) {
        const base = (sampleBody(operation.body) ?? {}) as Record<string, unknown>;
        // File contents and program input are the person's own bytes, up to their own limits.
        if (operation.rawText) continue;
        const probes: Array<[string, string]> = [
          ['a megabyte', 'x'.repeat(1024 * 1024)],
          ['a NUL', 'before\u0000after'],
        ];
        if (/name|title/i.test(field)) probes.push(['control characters', 'bell\u0007\u001b[31m']);
        for (const [what, value] of probes) {
          const response = await raw(world.server, {
            method: operation.method,
            target: fill(operation, world.aliceParams),
            headers: {
              cookie: who.cookie,
              origin: world.server.origin,
              'content-type': 'application/json',
            },
            body: JSON.stringify({ ...base, [field]: value }),
          });
          const named = response.body.includes(field);
          const refused =
            response.status === 400 || response.status === 413 || response.status === 404;
          if (!refused || (response.status === 400 && !named))
            failures.push(
              `${operation.method} ${operation.route} ${field} (${what}) → ${response.status} ${response.body.slice(0, 120)}`,
            );
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('THREATS 28: a Host that is not the platform’s is refused with 421 before any route', async () => {
    const failures: string[] = [];
    for (const operation of operations()) {
      const response = await raw(world.server, {
        method: 'GET',
        target: fill(operation, world.aliceParams),
        headers: {
          host: `rebound.example:${new URL(world.server.origin).port}`,
          cookie: world.alice.cookie,
        },
      });
      if (response.status !== 421) failures.push(`${operation.route} → ${response.status}`);
    }
    expect(failures).toEqual([]);
    // The web app too.
    const page = await raw(world.server, {
      method: 'GET',
      target: '/',
      headers: { host: 'rebound.example', accept: 'text/html' },
    });
    expect(page.status).toBe(421);
  });

  it('THREATS 27: better-auth’s own endpoints beyond OAuth are not exposed', async () => {
    for (const [method, path] of [
      ['POST', '/api/auth/sign-in/email'],
      ['POST', '/api/auth/change-password'],
      ['POST', '/api/auth/change-email'],
      ['GET', '/api/auth/get-session'],
      ['GET', '/api/auth/list-sessions'],
      ['POST', '/api/auth/revoke-sessions'],
      ['POST', '/api/auth/update-user'],
      ['POST', '/api/auth/delete-user'],
      ['POST', '/api/auth/sign-up/email'],
      ['POST', '/api/auth/request-password-reset'],
    ] as const) {
      const response = await raw(world.server, {
        method,
        target: path,
        headers: {
          cookie: world.alice.cookie,
          origin: world.server.origin,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          email: world.alice.email,
          password: world.alice.password,
          currentPassword: world.alice.password,
          newPassword: 'a brand new passphrase',
        }),
      });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    // The only sign-in is the platform's, and it is limited: guesses then the right password
    // still answer 429.
    const guesses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const response = await raw(world.server, {
        method: 'POST',
        target: '/api/session',
        headers: { origin: world.server.origin, 'content-type': 'application/json' },
        body: JSON.stringify({ email: world.bob.email, password: `wrong guess ${i}` }),
      });
      guesses.push(response.status);
    }
    expect(guesses).toContain(429);
    const right = await raw(world.server, {
      method: 'POST',
      target: '/api/session',
      headers: { origin: world.server.origin, 'content-type': 'application/json' },
      body: JSON.stringify({ email: world.bob.email, password: world.bob.password }),
    });
    expect(right.status).toBe(429);
  });
});
