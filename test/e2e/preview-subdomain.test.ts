// Subdomain previews in a real browser: with STUDIO_PREVIEW_DOMAIN, an app that needs the root
// path (a root-relative script, its own cookie and localStorage) works opened in a tab and in the
// IDE's preview frame, on `p<port>-<id>.localhost`, a site apart from the platform's 127.0.0.1.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { setUpAdmin, startServer, type ServerProcess } from './server-process.ts';

let server: ServerProcess;
let browser: Browser;
let page: Page;
let workspaceId: string;

/** The app: a page whose script is at the root path and keeps a cookie and a visit count. */
const SITE = [
  'mkdir -p site',
  `printf '%s' '<!doctype html><title>Root app</title><h1 id=out>loading</h1><script src="/app.js"></script>' > site/index.html`,
  `printf '%s' 'let note; try { document.cookie = "seen=yes; path=/"; const n = Number(localStorage.getItem("visits") || 0) + 1; localStorage.setItem("visits", String(n)); note = "cookie " + document.cookie + "; visits " + n; } catch { note = "storage blocked"; } document.getElementById("out").textContent = "root script ran; " + note;' > site/app.js`,
  'setsid -f python3 -m http.server 8766 --directory site >/dev/null 2>&1',
].join(' && ');

beforeAll(async () => {
  server = await startServer({ STUDIO_RUNTIME: 'local', STUDIO_PREVIEW_DOMAIN: 'localhost' });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  await setUpAdmin(page, server, {
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    password: 'a long preview password',
  });
  const api = (method: 'GET' | 'POST', path: string, data?: unknown) =>
    page.request.fetch(`${server.origin}${path}`, {
      method,
      data,
      headers: { origin: server.origin },
    });
  const created = await api('POST', '/api/workspaces', { name: 'site' });
  expect(created.status()).toBe(201);
  workspaceId = ((await created.json()) as { id: string }).id;
  for (let i = 0; ; i++) {
    const row = (await (await api('GET', '/api/workspaces/site')).json()) as { status: string };
    if (row.status === 'running') break;
    if (i > 200) throw new Error(`the workspace did not start: ${row.status}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const started = await api('POST', '/api/workspaces/site/exec', {
    command: 'sh',
    args: ['-c', SITE],
  });
  expect(started.status()).toBe(200);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
}, 60_000);

describe('subdomain previews', () => {
  it('opens a preview in a tab on its own host, where its root-relative script and cookie work', async () => {
    const { port } = new URL(server.origin);
    const host = `p8766-${workspaceId}.localhost:${port}`;
    // The server may need a moment to listen: the platform's error page until it does.
    await expect
      .poll(
        async () => {
          await page.goto(`${server.origin}/w/site/p/8766/`);
          return page
            .locator('#out')
            .textContent({ timeout: 2_000 })
            .catch(() => null);
        },
        { timeout: 30_000 },
      )
      .toMatch(/^root script ran; cookie seen=yes; visits 1$/);
    expect(new URL(page.url()).host).toBe(host);
    // The pass is a cookie of that host now, out of the address bar and out of the page's reach.
    expect(page.url()).toBe(`http://${host}/`);
    expect(await page.evaluate('document.cookie')).toBe('seen=yes');
    await page.reload();
    await expect.poll(() => page.locator('#out').textContent()).toContain('visits 2');
  }, 60_000);

  it('shows it in the IDE’s preview frame with its own origin', async () => {
    await page.goto(`${server.origin}/w/site`);
    await page.getByRole('tab', { name: /^Ports/ }).click({ timeout: 60_000 });
    const row = page.getByRole('listitem').filter({ hasText: '8766' });
    await row.getByRole('button', { name: 'Open preview' }).click({ timeout: 30_000 });
    const frame = page.frameLocator('iframe[title="Port 8766 of site"]');
    // Framed by the IDE, its script at the root path runs too. (Its own cookie and storage are
    // the browser's call there: a frame of another site is third-party, which this browser
    // context, like incognito, denies; the pass cookie is partitioned, so the preview still opens.)
    await expect
      .poll(
        () =>
          frame
            .locator('#out')
            .textContent({ timeout: 5_000 })
            .catch(() => null),
        {
          timeout: 30_000,
        },
      )
      .toMatch(/^root script ran; /);
    const framed = page.frames().find((each) => each !== page.mainFrame())!;
    expect(new URL(framed.url()).host).toBe(
      `p8766-${workspaceId}.localhost:${new URL(server.origin).port}`,
    );
    await page.screenshot({ path: `${SCREENSHOTS}preview-subdomain-ide.png` });
  }, 90_000);
});
