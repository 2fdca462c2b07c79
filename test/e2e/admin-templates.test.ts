// Admin → Templates on a real Docker Engine. A template's warm pool: started workspaces wait,
// unowned; ten creates in a row each take one and run at once, each its own (home, owner); the
// pool fills again; a size of 0 empties it, leaving no container behind. And a workspace saved as
// a template from the page: new workspaces of it start with its files.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Workspace, WarmPoolState } from '@studio/protocol';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREENSHOTS, launchChromium, openWhenReady } from './chromium.ts';
import { execResult } from '../exec-events.ts';
import { docker, dockerForTests, untilRemoved } from './docker-engine.ts';
import { client, removeWorkspace, signIn } from './replica-flow.ts';
import { signInPage, startServer, type ServerProcess } from './server-process.ts';

const engine = await dockerForTests('the warm pool');
const ADMIN = { email: 'pool@example.com', password: 'warm pool password' };
const POOL = 10;

let server: ServerProcess;
let browser: Browser | undefined;
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
  return execResult(await response.text()).stdout;
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
    await browser?.close();
    await server?.stop();
    // The saved template's image, which nothing else removes on this engine.
    for (const image of await docker.listImages({
      filters: { reference: ['studio-saved/golden'] },
    }))
      await docker
        .getImage(image.Id)
        .remove({ force: true })
        .catch(() => {});
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

  it('saves a workspace as a template from the page; its workspaces start with those files', async () => {
    expect((await call('POST', '/api/workspaces', { name: 'golden' })).status).toBe(201);
    for (let i = 0; i < 600; i++) {
      if ((await call('GET', '/api/workspaces/golden')).body.status === 'running') break;
      await sleep(200);
    }
    await exec('golden', 'mkdir -p project && echo "print(42)" > project/main.py');

    browser = await launchChromium();
    const page = await (
      await browser.newContext({ viewport: { width: 1440, height: 900 } })
    ).newPage();
    await signInPage(page, server, ADMIN.email, ADMIN.password);
    const form = page.getByRole('region', { name: 'Save a workspace as a template' });
    await openWhenReady(page, `${server.origin}/admin/templates`, form);
    await form.getByLabel('Workspace').selectOption({ label: 'golden (pool@example.com, base)' });
    await form.getByLabel('Template name').fill('golden');
    await form.getByLabel('Title').fill('Golden project');
    await form.getByRole('button', { name: 'Save as template' }).click();
    await page.getByText('Template golden saved').waitFor({ timeout: 120_000 });
    await page.getByRole('row', { name: 'golden' }).waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}admin-templates-saved.png` });

    // A second save under the same name is refused, saying why, and nothing is lost.
    await form.getByLabel('Workspace').selectOption({ label: 'golden (pool@example.com, base)' });
    await form.getByLabel('Template name').fill('golden');
    await form.getByLabel('Title').fill('Again');
    await form.getByRole('button', { name: 'Save as template' }).click();
    await form.getByText('there is a template "golden" already').waitFor();

    const created = await call('POST', '/api/workspaces', { name: 'copy', template: 'golden' });
    expect(created.status).toBe(201);
    for (let i = 0; i < 600; i++) {
      if ((await call('GET', '/api/workspaces/copy')).body.status === 'running') break;
      await sleep(200);
    }
    expect(await exec('copy', 'cat project/main.py')).toBe('print(42)\n');
    expect(await exec('copy', 'stat -c %u project/main.py')).toBe('1000\n');
  });
});
