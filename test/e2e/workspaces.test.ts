import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { setupLink, startServer, type ServerProcess } from './server-process.ts';

let server: ServerProcess;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  // The local driver runs workspaces as processes on this machine: no Docker needed.
  server = await startServer({ STUDIO_RUNTIME: 'local' });
  browser = await launchChromium();
  page = await signUpAdmin(server);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Set up the first admin of `target` in a new browser context; resolves on the dashboard. */
async function signUpAdmin(target: ServerProcess): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const next = await context.newPage();
  await next.goto(setupLink(target));
  await next.getByLabel('Name').fill('Ada Lovelace');
  await next.getByLabel('Email').fill('ada@example.com');
  await next.getByLabel('Password').fill('analytical engine');
  await next.getByRole('button', { name: 'Create admin account' }).click();
  await next.getByRole('heading', { name: 'Workspaces', exact: true }).waitFor();
  return next;
}

/** Switch the theme and wait until the colour transitions are over, so a screenshot is true. */
async function switchTheme(to: 'dark' | 'light'): Promise<void> {
  await page.getByRole('button', { name: `Switch to ${to} theme` }).click();
  // A string, because this file is type-checked without the DOM library.
  await page.evaluate('Promise.all(document.getAnimations().map((item) => item.finished))');
}

/** The text of the table row that shows workspace `name`. */
function rowText(name: string): Promise<string> {
  return page.getByRole('row').filter({ hasText: name }).innerText();
}

describe('workspaces on the dashboard', () => {
  it('keeps what was typed and shows the server’s reason when a name is refused', async () => {
    await page.getByText('No workspaces yet').waitFor();
    await page.getByRole('button', { name: 'New workspace' }).click();
    const dialog = page.getByRole('dialog', { name: 'New workspace' });
    await dialog.getByLabel('Name').fill('Bad Name');
    await dialog.getByRole('button', { name: 'Create workspace' }).click();

    await expect
      .poll(() => dialog.getByText(/must be 1–40 lowercase letters/i).isVisible())
      .toBe(true);
    expect(await dialog.isVisible()).toBe(true);
    expect(await dialog.getByLabel('Name').inputValue()).toBe('Bad Name');
    expect(await dialog.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: `${SCREENSHOTS}workspaces-bad-name.png` });

    // Corrected, the name's error goes at once; the field takes no more than the rule allows.
    await dialog.getByLabel('Name').fill('good-name');
    expect(await dialog.getByText(/must be 1–40 lowercase letters/i).count()).toBe(0);
    expect(await dialog.getByLabel('Name').getAttribute('aria-invalid')).not.toBe('true');
    await dialog.getByLabel('Name').fill('');
    await dialog.getByLabel('Name').pressSequentially('a'.repeat(45));
    expect(await dialog.getByLabel('Name').inputValue()).toBe('a'.repeat(40));

    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  it('creates a workspace with live progress, stops, starts and deletes it', async () => {
    await page.getByRole('button', { name: 'New workspace' }).click();
    const dialog = page.getByRole('dialog', { name: 'New workspace' });
    await dialog.getByLabel('Name').fill('demo');
    expect(await dialog.getByLabel('Template').inputValue()).toBe('base');
    await dialog.getByRole('button', { name: 'Create workspace' }).click();

    // After the 201 the dialog follows the steps the server reports over /api/events.
    const progress = page.getByRole('log', { name: 'Progress of demo' });
    await progress.waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}workspaces-progress.png` });
    await expect.poll(() => progress.innerText()).toMatch(/Creating/);

    // It closes by itself once the workspace runs, and the list says so.
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    await expect.poll(() => rowText('demo'), { timeout: 30_000 }).toMatch(/Running/);
    expect(await rowText('demo')).toMatch(/base/);
    await page.screenshot({ path: `${SCREENSHOTS}workspaces-dashboard.png` });
    await switchTheme('dark');
    await page.screenshot({ path: `${SCREENSHOTS}workspaces-dashboard-dark.png` });
    await switchTheme('light');

    await page.getByRole('button', { name: 'Stop demo' }).click();
    await expect.poll(() => rowText('demo'), { timeout: 30_000 }).toMatch(/Stopped/);

    await page.getByRole('button', { name: 'Start demo' }).click();
    await expect.poll(() => rowText('demo'), { timeout: 30_000 }).toMatch(/Running/);

    // With a terminal open and an unsaved edit kept in this browser, Stop asks first.
    const terminal = await page.request.post(`${server.origin}/api/workspaces/demo/terminals`, {
      data: {},
      headers: { origin: server.origin },
    });
    expect(terminal.status()).toBe(201);
    // (A string, run in the page: the tests compile without the DOM's types.)
    const draft = JSON.stringify({ content: 'draft', baseVersion: 'v0' });
    await page.evaluate(`localStorage.setItem('studio.ide.draft.demo:notes.md', '${draft}')`);
    await page.getByRole('button', { name: 'Stop demo' }).click();
    const ask = page.getByRole('dialog', { name: 'Stop demo?' });
    await expect
      .poll(() => ask.innerText())
      .toMatch(/1 terminal is open.*1 file has unsaved changes: notes\.md/s);
    await page.screenshot({ path: `${SCREENSHOTS}workspaces-stop-ask.png` });
    await ask.getByRole('button', { name: 'Stop', exact: true }).click();
    await expect.poll(() => rowText('demo'), { timeout: 30_000 }).toMatch(/Stopped/);
    await page.evaluate(`localStorage.removeItem('studio.ide.draft.demo:notes.md')`);

    await page.getByRole('button', { name: 'Delete demo' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete workspace demo and all its files?' });
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByText('No workspaces yet').waitFor();
    expect(await page.getByRole('row').filter({ hasText: 'demo' }).count()).toBe(0);
    await switchTheme('dark');
    await page.screenshot({ path: `${SCREENSHOTS}workspaces-empty-dark.png` });
    await switchTheme('light');
    // Gone on the server too, once the files are removed.
    await expect
      .poll(async () => (await page.request.get(`${server.origin}/api/workspaces`)).json())
      .toEqual([]);
  });

  it('warns when the server runs workspaces unsandboxed', async () => {
    const unsandboxed = await startServer({
      STUDIO_RUNTIME: 'local',
      STUDIO_LOCAL_SANDBOX: 'none',
    });
    try {
      const other = await signUpAdmin(unsandboxed);
      const banner = other.getByRole('status').filter({ hasText: 'unsandboxed' });
      await banner.waitFor();
      expect(await banner.innerText()).toMatch(/^Workspaces run unsandboxed on this machine/);
      expect(await banner.innerText()).toMatch(/bubblewrap/);
      await other.screenshot({ path: `${SCREENSHOTS}workspaces-unsandboxed.png` });
      await other.context().close();
    } finally {
      await unsandboxed.stop();
    }
  });
});
