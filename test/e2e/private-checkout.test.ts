// The server run as root from a checkout in a private home (mode 0700, like /root): local
// workspaces run as an unprivileged user, who can enter neither the data dir nor the daemon
// runtime inside the checkout. The server keeps both where that user can reach them.
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { client, removeWorkspace, signIn } from './replica-flow.ts';
import { reapLocalWorkspaces, startServer, type ServerProcess } from './server-process.ts';

const ADMIN = { email: 'private@example.com', password: 'private-checkout-password' };
const builtRuntime = fileURLToPath(new URL('../../packages/daemon/dist/runtime', import.meta.url));
let server: ServerProcess | undefined;
let home: string | undefined;

afterAll(async () => {
  await server?.stop();
  if (!home) return;
  // The server keeps such workspaces, and the runtime copy, under /var/lib (see main.ts).
  const key = createHash('sha256')
    .update(join(home, 'checkout', '.studio'))
    .digest('hex');
  const workspaces = `/var/lib/prometheus-studio/workspaces-${key.slice(0, 12)}`;
  await reapLocalWorkspaces(workspaces);
  for (const dir of [workspaces, `${workspaces}-runtime`])
    await rm(dir, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

it.skipIf(process.getuid?.() !== 0)(
  'runs local workspaces from a checkout under a folder only root may enter',
  async () => {
    home = await mkdtemp(join(tmpdir(), 'studio-root-home-'));
    await chmod(home, 0o700);
    const runtimeDir = join(home, 'checkout', 'packages', 'daemon', 'dist', 'runtime');
    await mkdir(runtimeDir, { recursive: true });
    await cp(builtRuntime, runtimeDir, { recursive: true });
    server = await startServer({
      STUDIO_DATA_DIR: join(home, 'checkout', '.studio'),
      STUDIO_DAEMON_RUNTIME_DIR: runtimeDir,
      STUDIO_RUNTIME: 'local',
      STUDIO_ADMIN_EMAIL: ADMIN.email,
      STUDIO_ADMIN_PASSWORD: ADMIN.password,
      LOG_LEVEL: 'warn',
    });
    const replica = { url: server.origin, origin: server.origin };
    const call = client(replica, await signIn(replica, ADMIN));
    expect((await call('POST', '/api/workspaces', { name: 'private' })).status).toBe(201);
    let body = { status: '', statusReason: null as string | null };
    for (let i = 0; i < 600 && !['running', 'error'].includes(body.status); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ({ body } = await call('GET', '/api/workspaces/private'));
    }
    // Before, every start failed: "bwrap: Can't find source path …/dist/runtime: Permission denied".
    expect({ status: body.status, reason: body.statusReason }).toEqual({
      status: 'running',
      reason: null,
    });
    const exec = await fetch(`${server.origin}/api/workspaces/private/exec`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: server.origin,
        cookie: await signIn(replica, ADMIN),
      },
      body: JSON.stringify({ command: 'id', args: ['-u'] }),
    });
    expect(await exec.text()).toContain('"data":"1000\\n"');
    await removeWorkspace(call, 'private');
  },
  120_000,
);
