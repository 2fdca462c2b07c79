// THREATS.md lines about people sharing one server, against the built server as a real process:
// local workspaces that cannot reach each other or the host, previews that close a refused
// upgrade, secrets the platform issues redacted from transcripts, admins who can stop anyone's
// workspace, disabled people whose tokens stay revoked, scoped tokens and guessable passwords.
import { connect, createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedLlm, type ScriptedLlm } from '../scripted-llm.ts';
import { api, signIn, startWorld, type World } from './harness.ts';

let world: World;
let llm: ScriptedLlm;

beforeAll(async () => {
  world = await startWorld();
  llm = await startScriptedLlm();
}, 180_000);

afterAll(async () => {
  await world?.stop();
  await llm?.close();
});

/** Runs a shell command in a person's workspace through the exec API; answers its stdout. */
async function shell(who: { cookie: string }, workspace: string, script: string) {
  const response = await fetch(`${world.server.origin}/api/workspaces/${workspace}/exec`, {
    method: 'POST',
    headers: {
      cookie: who.cookie,
      origin: world.server.origin,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ command: 'sh', args: ['-c', script], timeoutMs: 20_000 }),
  });
  const lines = (await response.text())
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string; data?: string; code?: number });
  return {
    stdout: lines
      .filter((line) => line.type === 'stdout')
      .map((line) => line.data)
      .join(''),
    code: lines.find((line) => line.type === 'exit')?.code ?? null,
  };
}

describe('THREATS 31: local workspaces of different people', () => {
  it('cannot reach each other’s ports, the host’s services or the platform', async () => {
    const { alice, bob, server } = world;
    // Alice's app, listening on every address of her workspace.
    void shell(
      alice,
      alice.workspace.name,
      'timeout 60 python3 -m http.server 8123 --bind 0.0.0.0',
    );
    for (let i = 0; i < 100; i++) {
      const { stdout } = await shell(
        alice,
        alice.workspace.name,
        "python3 -c \"import socket; socket.create_connection(('127.0.0.1', 8123), timeout=1); print('up')\" 2>/dev/null",
      );
      if (stdout.includes('up')) break;
      await sleep(100);
    }
    // A service on the host's loopback, as PostgreSQL or a browser's DevTools port would be.
    const hostService = createServer((socket) => socket.end('host secret\n'));
    await new Promise<void>((resolve) => hostService.listen(0, '127.0.0.1', resolve));
    const hostPort = (hostService.address() as AddressInfo).port;
    const platformPort = new URL(server.origin).port;
    try {
      const targets = [
        ['127.0.0.1', 8123],
        ['10.0.2.2', 8123],
        ['127.0.0.1', hostPort],
        ['10.0.2.2', hostPort],
        ['10.0.2.2', platformPort],
        ['127.0.0.1', platformPort],
      ] as const;
      for (const [address, port] of targets) {
        const probe = await shell(
          bob,
          bob.workspace.name,
          `python3 -c "import socket; socket.create_connection(('${address}', ${port}), timeout=2); print('reached')" 2>&1`,
        );
        expect(probe.stdout, `${address}:${port} from bob's workspace`).not.toContain('reached');
      }
      // Bob's port list is his workspace's, not the host's or alice's.
      const ports = (
        await api(server, { cookie: bob.cookie })(
          'GET',
          `/api/workspaces/${bob.workspace.name}/ports`,
        )
      ).json as { ports: Array<{ port: number }> };
      const listed = ports.ports.map((item) => item.port);
      for (const port of [8123, hostPort, Number(platformPort)]) expect(listed).not.toContain(port);
      // Bob's preview of that port is his own workspace's: nothing listens there.
      const preview = await fetch(`${server.origin}/w/${bob.workspace.name}/p/8123/`, {
        headers: { cookie: bob.cookie },
      });
      expect(preview.status).toBe(502);
      // Alice's own app is hers: her preview answers, and the host cannot reach it unsigned.
      const own = await fetch(`${server.origin}/w/${alice.workspace.name}/p/8123/`, {
        headers: { cookie: alice.cookie },
      });
      expect(own.status).toBe(200);
      const unsigned = await new Promise<string>((resolve) => {
        const socket = connect(8123, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve('reached');
        });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      expect(unsigned).toBe('ECONNREFUSED');
    } finally {
      hostService.close();
    }
  });

  it('THREATS 18: a git import from the server’s own network is refused, naming why', async () => {
    const asBob = api(world.server, { cookie: world.bob.cookie });
    for (const repoUrl of [
      `http://127.0.0.1:${new URL(world.server.origin).port}/x.git`,
      'http://[::127.0.0.1]/x.git',
      'http://169.254.169.254/x.git',
      'git@10.0.0.1:team/x.git',
    ]) {
      const { status, json } = await asBob('POST', '/api/workspaces', {
        name: 'imported',
        repoUrl,
      });
      expect(status, repoUrl).toBe(400);
      expect(json.message).toMatch(/^repoUrl: refused: /);
    }
  });
});

describe('THREATS 29: a previewed app that refuses a WebSocket upgrade', () => {
  it('answers the browser and closes its connection, never piping the next request to the app', async () => {
    const { alice, server } = world;
    const app = `require('http').createServer((q, r) => r.end('app saw ' + q.url + ' cookie=' + (q.headers.cookie || ''))).on('upgrade', (q, socket) => socket.write('HTTP/1.1 403 Forbidden\\r\\ncontent-length: 7\\r\\n\\r\\nrefused')).listen(8124, () => console.log('up'))`;
    void shell(alice, alice.workspace.name, `timeout 60 node -e "${app.replaceAll('"', '\\"')}"`);
    for (let i = 0; i < 100; i++) {
      const probe = await fetch(`${server.origin}/w/${alice.workspace.name}/p/8124/`, {
        headers: { cookie: alice.cookie },
      });
      if (probe.status === 200) break;
      await sleep(100);
    }
    // One keep-alive connection: an upgrade the app refuses, then a request with the cookie.
    const { port } = new URL(server.origin);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write(
      [
        `GET /w/${alice.workspace.name}/p/8124/socket HTTP/1.1`,
        `host: 127.0.0.1:${port}`,
        `origin: ${server.origin}`,
        `cookie: ${alice.cookie}`,
        'upgrade: websocket',
        'connection: Upgrade',
        'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-version: 13',
        '',
        '',
      ].join('\r\n'),
    );
    await sleep(1000);
    socket.write(
      [
        `GET /w/${alice.workspace.name}/p/8124/second HTTP/1.1`,
        `host: 127.0.0.1:${port}`,
        `cookie: ${alice.cookie}`,
        '',
        '',
      ].join('\r\n'),
    );
    await Promise.race([closed, sleep(5000)]);
    expect(received).toMatch(/^HTTP\/1\.1 403/);
    expect(received).toContain('refused');
    expect(received).not.toContain('app saw /second');
    expect(socket.destroyed || socket.readableEnded).toBe(true);
    socket.destroy();
  });
});

describe('THREATS 32, 19: secrets the platform issues, printed in a workspace', () => {
  it('are redacted from the run’s events and never reach the model; the daemon’s secret file is gone', async () => {
    const { server } = world;
    const adminCall = api(server, { cookie: world.admin.cookie });
    const provider = await adminCall('POST', '/api/ai/providers', {
      name: 'Scripted',
      kind: 'openai-compatible',
      baseUrl: llm.openaiBaseUrl,
    });
    expect(provider.status).toBe(201);
    await adminCall('PUT', '/api/ai/settings', {
      agent: { providerId: provider.json.id, model: 'scripted-coder' },
    });
    await adminCall('PUT', '/api/ai/policy', {
      rules: [{ tool: 'run_command', decision: 'allow' }],
    });
    expect((await adminCall('POST', '/api/workspaces', { name: 'root-ws' })).status).toBe(201);
    for (let i = 0; i < 300; i++) {
      if ((await adminCall('GET', '/api/workspaces/root-ws')).json.status === 'running') break;
      await sleep(100);
    }
    const token = (await adminCall('POST', '/api/tokens', { name: 'printed' })).json
      .secret as string;
    await shell(world.admin, 'root-ws', `printf '%s' '${token}' > ~/.studio-token`);
    llm.reset();
    llm.respond((request) =>
      request.toolResults.length === 0
        ? {
            toolCalls: [
              {
                name: 'run_command',
                input: {
                  command:
                    'cat ~/.studio-token; echo; ls /run/studio; cat /run/studio/secret 2>&1; echo; tr "\\0" "\\n" < /proc/1/environ | grep -c STUDIO_ || true',
                },
              },
            ],
          }
        : { text: 'done' },
    );
    const conversation = (
      await adminCall('POST', '/api/workspaces/root-ws/ai/conversations', { title: 'secrets' })
    ).json;
    const sent = await adminCall(
      'POST',
      `/api/workspaces/root-ws/ai/conversations/${conversation.id}/messages`,
      { text: 'print the token', mode: 'agent' },
    );
    expect(sent.status, JSON.stringify(sent.json)).toBe(202);
    const events = await (
      await fetch(`${server.origin}/api/ai/runs/${sent.json.runId}/events`, {
        headers: { cookie: world.admin.cookie },
      })
    ).text();
    expect(events).toContain('"type":"end"');
    expect(events).toContain('[REDACTED]');
    expect(events).not.toContain(token);
    expect(events).not.toMatch(/studio_daemon_[0-9a-f]{16}/);
    // The secret file is read once by the daemon and then gone from the workspace.
    expect(events).toMatch(/No such file or directory/);
    const toModel = JSON.stringify(llm.requests.map((request) => request.toolResults));
    expect(toModel).not.toContain(token);
    expect(toModel).toContain('[REDACTED]');
    // The stored transcript too.
    const stored = JSON.stringify(
      (await adminCall('GET', `/api/workspaces/root-ws/ai/conversations/${conversation.id}`)).json,
    );
    expect(stored).not.toContain(token);
  });
});

describe('admins and disabled people', () => {
  it('an admin sees, stops and deletes anyone’s workspace, and the audit log says so', async () => {
    const adminCall = api(world.server, { cookie: world.admin.cookie });
    const listed = (await adminCall('GET', '/api/admin/workspaces')).json as Array<{
      id: string;
      name: string;
      owner: { email: string };
    }>;
    const bobs = listed.find((item) => item.name === world.bob.workspace.name)!;
    expect(bobs.owner.email).toBe(world.bob.email);
    // Members may not.
    const asAlice = api(world.server, { cookie: world.alice.cookie });
    expect((await asAlice('GET', '/api/admin/workspaces')).status).toBe(403);
    expect((await asAlice('POST', `/api/admin/workspaces/${bobs.id}/stop`)).status).toBe(403);

    expect((await adminCall('POST', `/api/admin/workspaces/${bobs.id}/stop`)).status).toBe(200);
    const asBob = api(world.server, { cookie: world.bob.cookie });
    for (let i = 0; i < 100; i++) {
      if (
        (await asBob('GET', `/api/workspaces/${world.bob.workspace.name}`)).json.status ===
        'stopped'
      )
        break;
      await sleep(100);
    }
    expect((await asBob('GET', `/api/workspaces/${world.bob.workspace.name}`)).json).toMatchObject({
      status: 'stopped',
      statusReason: 'stopped by an admin',
    });
    const audit = (await adminCall('GET', '/api/audit?action=admin.workspace.stop')).json;
    expect(JSON.stringify(audit)).toContain(bobs.id);
  });

  it('THREATS 12: disabling a person stops their workspaces and revokes their tokens for good', async () => {
    const adminCall = api(world.server, { cookie: world.admin.cookie });
    const { alice } = world;
    expect((await api(world.server, { token: alice.token })('GET', '/api/me')).status).toBe(200);
    expect(
      (await adminCall('PATCH', `/api/admin/users/${alice.id}`, { disabled: true })).status,
    ).toBe(200);
    expect((await api(world.server, { token: alice.token })('GET', '/api/me')).status).toBe(401);
    const workspaces = (await adminCall('GET', '/api/admin/workspaces')).json as Array<{
      name: string;
      status: string;
    }>;
    for (let i = 0; i < 100; i++) {
      const status = (
        (await adminCall('GET', '/api/admin/workspaces')).json as Array<{
          name: string;
          status: string;
        }>
      ).find((item) => item.name === alice.workspace.name)?.status;
      if (status === 'stopped') break;
      await sleep(100);
    }
    expect(workspaces.some((item) => item.name === alice.workspace.name)).toBe(true);
    expect(
      (
        (await adminCall('GET', '/api/admin/workspaces')).json as Array<{
          name: string;
          status: string;
        }>
      ).find((item) => item.name === alice.workspace.name)?.status,
    ).toBe('stopped');
    // Enabled again, she signs in again; her old token stays revoked.
    expect(
      (await adminCall('PATCH', `/api/admin/users/${alice.id}`, { disabled: false })).status,
    ).toBe(200);
    expect((await api(world.server, { token: alice.token })('GET', '/api/me')).status).toBe(401);
    const cookie = await signIn(world.server, alice.email, alice.password);
    expect((await api(world.server, { cookie })('GET', '/api/tokens')).json).toEqual([]);
  });
});

describe('API tokens with scopes, and passwords', () => {
  it('a read-only token reads and changes nothing; a workspace token reaches its workspace only', async () => {
    const { bob, server } = world;
    const cookie = await signIn(server, bob.email, bob.password);
    const asBob = api(server, { cookie });
    const read = (await asBob('POST', '/api/tokens', { name: 'reader', scope: 'read' })).json
      .secret;
    const byRead = api(server, { token: read });
    expect((await byRead('GET', '/api/workspaces')).status).toBe(200);
    const refused = await byRead('POST', '/api/tokens', { name: 'escalate' });
    expect(refused.status).toBe(403);
    expect(refused.json.message).toMatch(/read-only/);
    expect((await byRead('DELETE', `/api/workspaces/${bob.workspace.name}`)).status).toBe(403);

    expect((await asBob('POST', '/api/workspaces', { name: 'bob-other' })).status).toBe(201);
    const limited = (
      await asBob('POST', '/api/tokens', {
        name: 'one workspace',
        scope: 'workspace',
        workspace: bob.workspace.name,
      })
    ).json;
    expect(limited.token).toMatchObject({
      scope: 'workspace',
      workspace: { name: bob.workspace.name },
    });
    const byLimited = api(server, { token: limited.secret });
    expect((await byLimited('GET', `/api/workspaces/${bob.workspace.name}`)).status).toBe(200);
    expect((await byLimited('GET', '/api/me')).status).toBe(200);
    expect((await byLimited('GET', '/api/workspaces/bob-other')).status).toBe(403);
    expect((await byLimited('GET', '/api/workspaces')).status).toBe(403);
    expect((await byLimited('GET', '/api/ai/providers')).status).toBe(403);
    // Another person's workspace cannot be named in a token at all.
    const foreign = await asBob('POST', '/api/tokens', {
      name: 'theirs',
      scope: 'workspace',
      workspace: world.alice.workspace.name,
    });
    expect(foreign.status).toBe(404);
  });

  it('refuses commonly used passwords, naming the field', async () => {
    const adminCall = api(world.server, { cookie: world.admin.cookie });
    for (const password of ['password123', 'qwertyuiop', '1234567890', 'iloveyou12']) {
      const { status, json } = await adminCall('POST', '/api/admin/users', {
        email: `weak-${password}@example.com`,
        name: 'Weak',
        password,
      });
      expect(status, password).toBe(400);
      expect(json.message).toMatch(/^password: this password is among the most commonly used/);
    }
    const changed = await adminCall('POST', '/api/me/password', {
      currentPassword: 'security-suite-admin-password',
      newPassword: 'Password12',
    });
    expect(changed.status).toBe(400);
    expect(changed.json.message).toMatch(/^newPassword: /);
  });
});
