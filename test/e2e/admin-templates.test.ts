// Admin → Templates on a real Docker Engine. A template's warm pool: started workspaces wait,
// unowned; ten creates in a row each take one and run at once, each its own (home, owner); the
// pool fills again; a size of 0 empties it, leaving no container behind. And a workspace saved as
// a template from the page: new workspaces of it start with its files. And a template built from a
// Dockerfile written on the page, its build log streaming; a failing or forbidden one refused.
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
    // The templates' images this file made, which nothing else removes on this engine.
    for (const image of await docker.listImages({
      filters: { reference: ['studio-saved/golden', 'studio-custom/*'] },
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

  it('builds a template from a Dockerfile written on the page, its log as it comes; refuses a bad one, saying why', async () => {
    browser ??= await launchChromium();
    const page = await (
      await browser.newContext({ viewport: { width: 1440, height: 900 } })
    ).newPage();
    await signInPage(page, server, ADMIN.email, ADMIN.password);
    // The editor's code fails to load the first time (as when the machine's network changes under
    // the browser): the page loads again by itself, and the editor comes.
    let loads = 0;
    page.on('request', (request) => {
      if (request.isNavigationRequest() && request.url().endsWith('/admin/templates')) loads += 1;
    });
    await page.route('**/assets/MonacoField-*.js', (route) =>
      loads < 2 ? route.abort('internetdisconnected') : route.continue(),
    );
    const form = page.getByRole('region', { name: 'New template from a Dockerfile' });
    await openWhenReady(page, `${server.origin}/admin/templates`, form);
    await form.locator('.monaco-editor').waitFor();
    expect(loads).toBe(2);
    const writeDockerfile = async (lines: string[]) => {
      await form.locator('.monaco-editor .view-lines').click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Delete');
      await page.keyboard.type(lines.join('\n'));
    };

    // A step that fails: its output and the engine's reason, on the page.
    await form.getByLabel('Template name').fill('broken');
    await form.getByLabel('Title').fill('Broken');
    await writeDockerfile(['FROM studio/base:1', 'RUN echo about to fail && false']);
    await form.getByRole('button', { name: 'Build template' }).click();
    await form
      .getByRole('alert')
      .getByText(/returned a non-zero code/)
      .waitFor({ timeout: 120_000 });
    expect(await form.getByRole('log', { name: 'Build log' }).innerText()).toContain(
      'about to fail',
    );
    expect((await call('GET', '/api/templates')).body).not.toContainEqual(
      expect.objectContaining({ name: 'broken' }),
    );

    await form.getByLabel('Template name').fill('admin-made');
    await form.getByLabel('Title').fill('Admin made');
    await writeDockerfile([
      'FROM studio/base:1',
      'USER root',
      'RUN echo built-by-an-admin > /etc/flavour',
      'USER 1000:1000',
    ]);
    await form.getByLabel('Start commands').fill('echo started > /tmp/started');
    await form.getByRole('button', { name: 'Build template' }).click();
    await page.getByText('Template admin-made built').waitFor({ timeout: 120_000 });
    expect(await form.getByRole('log', { name: 'Build log' }).innerText()).toMatch(
      /RUN echo built-by-an-admin/,
    );
    await page.getByRole('row', { name: 'admin-made' }).waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}admin-templates-dockerfile.png` });

    const created = await call('POST', '/api/workspaces', {
      name: 'custom',
      template: 'admin-made',
    });
    expect(created.status).toBe(201);
    for (let i = 0; i < 600; i++) {
      if ((await call('GET', '/api/workspaces/custom')).body.status === 'running') break;
      await sleep(200);
    }
    expect(await exec('custom', 'cat /etc/flavour')).toBe('built-by-an-admin\n');
    await expect
      .poll(() => exec('custom', 'cat /tmp/started 2>&1'), { timeout: 10_000 })
      .toBe('started\n');

    // Refused before anything is built, each naming what is wrong.
    const refused = async (name: string, dockerfile: string) => {
      const answer = await call('POST', '/api/admin/templates/dockerfile', {
        name,
        title: name,
        dockerfile,
      });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      return String((answer.body as unknown as { message: string }).message);
    };
    expect(await refused('admin-made', 'FROM studio/base:1')).toMatch(
      /there is a template "admin-made" already/,
    );
    expect(await refused('fetcher', 'FROM studio/base:1\nADD http://169.254.169.254/ /x')).toMatch(
      /ADD http:\/\/169\.254\.169\.254\/ would be fetched by the container engine itself/,
    );
    expect(await refused('elsewhere', 'FROM registry.example.com/tools:1')).toMatch(
      /registry\.example\.com\/tools:1 is not in the engine/,
    );
    expect(await refused('nothing', 'RUN true')).toMatch(/must start with FROM/);
  });
});
