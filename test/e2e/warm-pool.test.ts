// A template's warm pool on a real Docker Engine: started workspaces wait, unowned; ten creates in
// a row each take one and run at once, each its own (home, owner); the pool fills again; a size
// of 0 empties it, leaving no container behind.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Workspace, WarmPoolState } from '@studio/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, dockerForTests, untilRemoved } from './docker-engine.ts';
import { client, removeWorkspace, signIn } from './replica-flow.ts';
import { startServer, type ServerProcess } from './server-process.ts';

const engine = await dockerForTests('the warm pool');
const ADMIN = { email: 'pool@example.com', password: 'warm pool password' };
const POOL = 10;

let server: ServerProcess;
let call: ReturnType<typeof client>;

async function pool(): Promise<WarmPoolState> {
  const { body } = await call('GET', '/api/admin/warm-pools');
  return (body as unknown as WarmPoolState[]).find((item) => item.template === 'base')!;
}

async function until(check: (state: WarmPoolState) => boolean, what: string): Promise<void> {
  // Cold, the first warm workspace waits for `base` to build: minutes.
  for (const deadline = Date.now() + 20 * 60_000; Date.now() < deadline; await sleep(200)) {
    if (check(await pool())) return;
  }
  throw new Error(`the pool never ${what}: ${JSON.stringify(await pool())}`);
}

/** What `sh -c script` printed in the workspace. */
async function exec(name: string, script: string): Promise<string> {
  const response = await fetch(`${server.origin}/api/workspaces/${name}/exec`, {
    method: 'POST',
    headers: { cookie: cookie, origin: server.origin, 'content-type': 'application/json' },
    body: JSON.stringify({ command: 'sh', args: ['-c', script] }),
  });
  expect(response.status).toBe(200);
  return (await response.text())
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string; data?: string })
    .filter((event) => event.type === 'stdout')
    .map((event) => event.data)
    .join('');
}

let cookie = '';

/**
 * The engine's warm workspaces nobody claimed (no other server runs beside this file). A claimed
 * one keeps the label it was made with; the database says whose it is.
 */
async function poolContainers(): Promise<string[]> {
  const { body } = await call('GET', '/api/workspaces');
  const claimed = new Set((body as unknown as Workspace[]).map((item) => item.id));
  const listed = await docker.listContainers({
    all: true,
    filters: { label: ['studio.owner=warm-pool'] },
  });
  return listed
    .map((container) => container.Labels['studio.workspace']!)
    .filter((id) => !claimed.has(id));
}

describe.runIf(engine)('the warm pool', () => {
  beforeAll(async () => {
    server = await startServer({
      STUDIO_RUNTIME: 'docker',
      STUDIO_ADMIN_EMAIL: ADMIN.email,
      STUDIO_ADMIN_PASSWORD: ADMIN.password,
    });
    const replica = { url: server.origin, origin: server.origin };
    cookie = await signIn(replica, ADMIN);
    call = client(replica, cookie);
  }, 60_000);

  afterAll(async () => {
    if (call) {
      const { body } = await call('GET', '/api/workspaces');
      for (const item of (body as unknown as Workspace[]) ?? []) {
        await removeWorkspace(call, item.name);
        await untilRemoved(item.id);
      }
    }
    await server?.stop();
  });

  it('serves ten creates in a row, each its own workspace, and fills again', async () => {
    expect((await pool()).size).toBe(0);
    const set = await call('PUT', '/api/admin/templates/base/warm-pool', { size: POOL });
    expect(set.status).toBe(200);
    expect((set.body as unknown as { warmPool: number }).warmPool).toBe(POOL);
    await until((state) => state.ready === POOL, `held ${POOL} ready`);

    for (let run = 0; run < POOL; run++) {
      const created = await call('POST', '/api/workspaces', { name: `warm-${run}` });
      expect(created.status).toBe(201);
      // Served from the pool: running in the answer itself, no provisioning step.
      expect(created.body.status, `create ${run}`).toBe('running');
      expect(await exec(`warm-${run}`, `echo mine-${run} > mine.txt && cat mine.txt`)).toBe(
        `mine-${run}\n`,
      );
    }
    // Each its own home: no one sees another's file.
    expect(await exec('warm-3', 'ls')).not.toMatch(/mine-\d/);
    expect(await exec('warm-3', 'cat mine.txt')).toBe('mine-3\n');
    const { body } = await call('GET', '/api/workspaces');
    expect(
      (body as unknown as Workspace[]).filter((item) => item.status === 'running'),
    ).toHaveLength(POOL);

    await until((state) => state.ready === POOL, 'filled again');

    // A create with resources of its own is not a pool one: it is made for it.
    const sized = await call('POST', '/api/workspaces', {
      name: 'sized',
      resources: { memoryMiB: 1024 },
    });
    expect(sized.status).toBe(201);
    expect(sized.body.status).toBe('creating');

    // Size 0: the pool empties, and its containers go.
    expect(await poolContainers()).toHaveLength(POOL);
    expect((await call('PUT', '/api/admin/templates/base/warm-pool', { size: 0 })).status).toBe(
      200,
    );
    await until((state) => state.ready + state.warming === 0, 'emptied');
    await expect.poll(poolContainers, { timeout: 60_000 }).toHaveLength(0);
  });
});
