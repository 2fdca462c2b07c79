import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  freePort,
  SERVER_MAIN,
  setupLink,
  startServer,
  type ServerProcess,
} from './server-process.ts';

const running: ServerProcess[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.stop();
});

describe('the server process', () => {
  it('prints a one-time setup link on first run, and a JSON log line with a request id', async () => {
    const server = await startServer();
    running.push(server);
    const link = new URL(setupLink(server));
    expect(link.origin).toBe(server.origin);
    const response = await fetch(`${server.origin}/api/me`);
    expect(response.status).toBe(401);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const line = server
      .output()
      .split('\n')
      .find((text) => text.includes(requestId!) && text.startsWith('{'));
    expect(JSON.parse(line!)).toMatchObject({ reqId: requestId });
  });

  it('a bad configuration value exits with code 2 and one line naming the variable', () => {
    const result = spawnSync(process.execPath, [SERVER_MAIN], {
      env: { ...process.env, PORT: 'eighty' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      'config error: PORT: must be an integer from 1 to 65535 (got "eighty")',
    );
  });

  it('STUDIO_ADMIN_EMAIL/PASSWORD create that admin at start, and no setup link is printed', async () => {
    const server = await startServer({
      STUDIO_ADMIN_EMAIL: 'ops@example.com',
      STUDIO_ADMIN_PASSWORD: 'headless setup pw',
    });
    running.push(server);
    const response = await fetch(`${server.origin}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.origin },
      body: JSON.stringify({ email: 'ops@example.com', password: 'headless setup pw' }),
    });
    const me = (await response.json()) as { user: { role: string } };
    expect(me.user.role).toBe('admin');
    expect(server.output()).not.toContain('/setup?token=');
  });

  it('on SIGTERM finishes the in-flight request, then exits 0 and keeps the data', async () => {
    const server = await startServer({
      STUDIO_ADMIN_EMAIL: 'ops@example.com',
      STUDIO_ADMIN_PASSWORD: 'headless setup pw',
      // Requests are logged as they arrive only at debug.
      LOG_LEVEL: 'debug',
    });
    // Sign-in hashes a password with scrypt: slow enough to still be in flight when SIGTERM lands.
    const inFlight = fetch(`${server.origin}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.origin },
      body: JSON.stringify({ email: 'ops@example.com', password: 'headless setup pw' }),
    });
    // SIGTERM only once the server has logged the request: a request that arrives after close
    // began rightly gets 503, so a fixed delay made this test race on a loaded machine.
    const received = () =>
      server
        .output()
        .split('\n')
        .some((line) => line.includes('"incoming request"') && line.includes('"/api/session"'));
    const deadline = Date.now() + 10_000;
    while (!received() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    expect(received()).toBe(true);
    server.child.kill('SIGTERM');
    expect((await inFlight).status).toBe(200);
    expect(await server.exited).toBe(0);
    await expect(fetch(`${server.origin}/healthz`)).rejects.toThrow();
    // Same data dir: the admin is still there, so no setup link this time.
    const again = await startServer({ STUDIO_DATA_DIR: server.dataDir });
    running.push(again);
    expect(again.output()).not.toContain('/setup?token=');
  });

  it('a second server on the same embedded data dir refuses to start, naming the holder', async () => {
    const first = await startServer();
    running.push(first);
    const result = spawnSync(process.execPath, [SERVER_MAIN], {
      env: { ...process.env, PORT: String(await freePort()), STUDIO_DATA_DIR: first.dataDir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `in use by another Prometheus Studio process (pid ${first.child.pid})`,
    );
  });
});
