// An image whose recipe changed is built again in the background when the server starts (a real
// Docker Engine): Admin → Templates shows it being built, its current step, then built; and a
// workspace of it then has what the new recipe makes. A missing image is left to its first create.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TemplateImageStatus } from '@studio/protocol';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execResult } from '../exec-events.ts';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { docker, dockerForTests, untilRemoved } from './docker-engine.ts';
import { client, removeWorkspace, signIn } from './replica-flow.ts';
import { signInPage, startServer, type ServerProcess } from './server-process.ts';

const engine = await dockerForTests('images rebuilt after their recipe changed');
const ADMIN = { email: 'images@example.com', password: 'rebuilt images password' };
const REF = 'studio-e2e/rebuilt:1';

let imagesDir = '';
let server: ServerProcess | undefined;
let browser: Browser | undefined;
let call: ReturnType<typeof client>;
let cookie = '';

/**
 * The recipe of the `rebuilt` template: `base` plus a file saying which version made it; its build
 * takes `seconds` (long enough to be seen building).
 */
function recipe(version: string, seconds = 0): Promise<void> {
  return writeFile(
    join(imagesDir, 'rebuilt', 'Dockerfile'),
    `FROM studio/base:1\nUSER root\nRUN sleep ${seconds} && echo ${version} > /etc/recipe-version\nUSER 1000:1000\n`,
  );
}

/** `POST path` with a JSON body as the signed-in admin; the answer's text. */
async function post(path: string, body: unknown): Promise<string> {
  const response = await fetch(`${server!.origin}${path}`, {
    method: 'POST',
    headers: { cookie, origin: server!.origin, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return response.text();
}

async function serve(): Promise<void> {
  server = await startServer({
    STUDIO_RUNTIME: 'docker',
    STUDIO_IMAGES_DIR: imagesDir,
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_REBUILD_OUTDATED_IMAGES: 'true',
  });
  const replica = { url: server.origin, origin: server.origin };
  cookie = await signIn(replica, ADMIN);
  call = client(replica, cookie);
}

async function image(): Promise<TemplateImageStatus> {
  const { status, body } = await call('GET', '/api/admin/images');
  expect(status).toBe(200);
  return (body as unknown as TemplateImageStatus[]).find((item) => item.template === 'rebuilt')!;
}

describe.runIf(engine)('images after their recipe changed', () => {
  beforeAll(async () => {
    // `base` as shipped (the image this engine has) and one of the test's own, nothing else: an
    // image of the engine's that a commit's recipe made outdated is not this test's to rebuild.
    imagesDir = await mkdtemp(join(tmpdir(), 'studio-images-'));
    const shipped = fileURLToPath(new URL('../../images', import.meta.url));
    for (const path of ['rootfs', 'base', 'templates/base.json'])
      await cp(join(shipped, path), join(imagesDir, path), { recursive: true });
    await mkdir(join(imagesDir, 'rebuilt'));
    await writeFile(
      join(imagesDir, 'templates', 'rebuilt.json'),
      JSON.stringify({
        name: 'rebuilt',
        title: 'Rebuilt',
        image: { build: 'rebuilt', ref: REF },
      }),
    );
    await recipe('first');
    await serve();
  }, 5 * 60_000);

  afterAll(async () => {
    if (call) await removeWorkspace(call, 'rebuilt');
    await browser?.close();
    await server?.stop();
    await docker
      .getImage(REF)
      .remove({ force: true })
      .catch(() => {});
    if (imagesDir) await rm(imagesDir, { recursive: true, force: true });
  });

  it(
    'builds it again in the background at start, its progress on Admin → Templates',
    async () => {
      // Not built yet: left to its first create, not built ahead of need.
      await docker
        .getImage(REF)
        .remove({ force: true })
        .catch(() => {});
      expect(await image()).toMatchObject({ state: 'missing', ref: REF });
      expect(await post('/api/admin/images/build', { template: 'rebuilt' })).toContain(
        '"type":"done"',
      );
      expect(await image()).toMatchObject({ state: 'ready' });

      // The recipe changes (as a new version of the server would bring): outdated at once.
      await recipe('second', 20);
      expect(await image()).toMatchObject({ state: 'outdated' });

      // The next start builds it again, in the background, while the page watches.
      await server!.stop();
      await serve();
      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await signInPage(page, server!, ADMIN.email, ADMIN.password);
      await page.goto(`${server!.origin}/admin/templates`);
      const row = page.getByRole('row', { name: 'rebuilt', exact: true });
      await row.getByLabel('image building again', { exact: true }).waitFor({ timeout: 60_000 });
      await row.scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${SCREENSHOTS}image-rebuilding.png` });
      await row.getByLabel('image built', { exact: true }).waitFor({ timeout: 10 * 60_000 });
      expect(await image()).toMatchObject({ state: 'ready', detail: null });

      // A workspace of it has what the new recipe made, with no build at its create.
      const created = await call('POST', '/api/workspaces', {
        name: 'rebuilt',
        template: 'rebuilt',
      });
      expect(created.status).toBe(201);
      const id = (created.body as unknown as { id: string }).id;
      await expect
        .poll(async () => (await call('GET', '/api/workspaces/rebuilt')).body.status, {
          timeout: 120_000,
        })
        .toBe('running');
      const printed = await post('/api/workspaces/rebuilt/exec', {
        command: 'cat',
        args: ['/etc/recipe-version'],
      });
      expect(execResult(printed).stdout.trim()).toBe('second');
      await removeWorkspace(call, 'rebuilt');
      await untilRemoved(id);
    },
    20 * 60_000,
  );
});
