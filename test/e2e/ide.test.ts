import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { setupLink, startServer, type ServerProcess } from './server-process.ts';

let server: ServerProcess;
let browser: Browser;
let page: Page;
/** Every URL the page asked for: documents, scripts, workers, fetches and WebSockets. */
const requested: string[] = [];

beforeAll(async () => {
  // The local driver runs workspaces as processes on this machine: no Docker needed.
  server = await startServer({ STUDIO_RUNTIME: 'local' });
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  context.on('request', (request) => requested.push(request.url()));
  page = await context.newPage();
  page.on('websocket', (socket) => requested.push(socket.url()));
  await page.goto(setupLink(server));
  await page.getByLabel('Name').fill('Ada Lovelace');
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Password').fill('analytical engine');
  await page.getByRole('button', { name: 'Create admin account' }).click();
  await page.getByRole('heading', { name: 'Workspaces', exact: true }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Call the API with the page's session cookie (and its Origin, which the CSRF check wants). */
function api(method: 'GET' | 'POST' | 'PUT', path: string, data?: unknown) {
  return page.request.fetch(`${server.origin}${path}`, {
    method,
    data,
    headers: { origin: server.origin },
  });
}

/** What the terminal shows right now, as text. */
function terminalText(): Promise<string> {
  return page.locator('.xterm-rows').first().innerText();
}

describe('the IDE', () => {
  it('creates, edits and saves a file, runs it in a terminal, and keeps the terminal across a reload', async () => {
    expect((await api('POST', '/api/workspaces', { name: 'ide-demo' })).status()).toBe(201);
    const row = page.getByRole('row').filter({ hasText: 'ide-demo' });
    await expect.poll(() => row.innerText(), { timeout: 30_000 }).toMatch(/Running/);
    await page.screenshot({ path: `${SCREENSHOTS}dashboard-open.png` });

    await page.getByRole('link', { name: 'Open ide-demo' }).click();
    await page.waitForURL(/\/w\/ide-demo$/);
    await page.getByRole('heading', { name: 'ide-demo', level: 1 }).waitFor();

    // A new file through the tree: it is created on disk and opens in the editor.
    await page.getByRole('button', { name: 'New file' }).click();
    const dialog = page.getByRole('dialog', { name: 'New file' });
    await dialog.getByLabel('Name').fill('hello.py');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('treeitem', { name: 'hello.py' }).waitFor();
    await page.getByRole('tab', { name: 'hello.py' }).waitFor();

    const editor = page.locator('.monaco-editor').first();
    await editor.waitFor();
    await editor.click();
    await page.keyboard.type('print("hello from the IDE")');
    await page.getByLabel('unsaved changes').waitFor();
    await page.keyboard.press('Control+s');
    await page.getByLabel('unsaved changes').waitFor({ state: 'detached' });
    const saved = await api('GET', '/api/workspaces/ide-demo/files/content?path=hello.py');
    expect((await saved.json()).content).toBe('print("hello from the IDE")');

    // Someone else changes the file while there are unsaved edits: saving shows both sides.
    await page.keyboard.press('End');
    await page.keyboard.type('  # mine');
    const elsewhere = await api('PUT', '/api/workspaces/ide-demo/files/content', {
      path: 'hello.py',
      content: 'print("changed elsewhere")\n',
    });
    expect(elsewhere.status()).toBe(200);
    await page.keyboard.press('Control+s');
    const conflict = page.getByRole('region', { name: 'Save conflict in hello.py' });
    await conflict.waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}ide-conflict.png` });
    await conflict.getByRole('button', { name: 'Keep mine (overwrite)' }).click();
    await conflict.waitFor({ state: 'detached' });
    await expect
      .poll(
        async () =>
          (await (await api('GET', '/api/workspaces/ide-demo/files/content?path=hello.py')).json())
            .content,
      )
      .toBe('print("hello from the IDE")  # mine');

    await page.getByRole('button', { name: 'New terminal' }).click();
    await page.locator('.xterm').first().waitFor();
    // Wait for the prompt, so the shell reads what is typed.
    await expect.poll(terminalText, { timeout: 15_000 }).toMatch(/\S/);
    await page.locator('.xterm').first().click();
    await page.keyboard.type('python3 hello.py\n');
    await expect.poll(terminalText, { timeout: 15_000 }).toMatch(/^hello from the IDE$/m);
    await page.screenshot({ path: `${SCREENSHOTS}ide.png` });

    // After a reload the page attaches to the same shell and its scrollback is replayed.
    await page.reload();
    await page.locator('.xterm').first().waitFor();
    await expect.poll(terminalText, { timeout: 15_000 }).toMatch(/^hello from the IDE$/m);
    expect(await page.getByRole('tablist', { name: 'Terminals' }).getByRole('tab').count()).toBe(1);
    // The open tab came back with the saved text, not a stale draft.
    await expect
      // Monaco renders spaces as no-break spaces.
      .poll(async () =>
        (await page.locator('.monaco-editor .view-lines').first().innerText()).replace(
          /\u00a0/g,
          ' ',
        ),
      )
      .toBe('print("hello from the IDE")  # mine');
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    await page.screenshot({ path: `${SCREENSHOTS}ide-dark.png` });

    // Monaco, its workers and fonts, xterm.js: all served by this server, nothing from elsewhere.
    const wsOrigin = server.origin.replace(/^http/, 'ws');
    const foreign = requested.filter(
      (url) =>
        !url.startsWith(`${server.origin}/`) &&
        !url.startsWith(`${wsOrigin}/`) &&
        !url.startsWith('data:') &&
        !url.startsWith('blob:'),
    );
    expect(foreign).toEqual([]);
    expect(requested.some((url) => /\/assets\/.*worker.*\.js$/.test(url))).toBe(true);
  });
});
