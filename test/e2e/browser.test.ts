import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { setupLink, startServer, type ServerProcess } from './server-process.ts';

let server: ServerProcess;
let browser: Browser;
beforeAll(async () => {
  server = await startServer();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A page that records every request that leaves the server's origin (there must be none). */
async function newPage(): Promise<{ page: Page; foreign: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const foreign: string[] = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(server.origin) && !url.startsWith('data:') && !url.startsWith('blob:'))
      foreign.push(url);
  });
  return { page, foreign };
}

describe('a new user in the browser', () => {
  it('sets up the first admin, reaches the dashboard, creates an API token and signs out', async () => {
    const { page, foreign } = await newPage();
    await page.goto(setupLink(server));
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('analytical engine');
    await page.getByRole('button', { name: 'Create admin account' }).click();

    await expect
      .poll(() => page.getByRole('heading', { name: 'Workspaces', exact: true }).isVisible())
      .toBe(true);
    expect(await page.title()).toContain('Prometheus Studio');
    await page.screenshot({ path: `${SCREENSHOTS}dashboard.png` });

    await page.getByRole('link', { name: 'Settings' }).first().click();
    await page.getByLabel('Token name').fill('laptop');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secretBox = page.getByRole('textbox', { name: 'New token' });
    await secretBox.waitFor();
    const secret = await secretBox.inputValue();
    expect(secret).toMatch(/^studio_/);
    await page.screenshot({ path: `${SCREENSHOTS}settings-token.png`, fullPage: true });
    // The token the page showed works against the API.
    const me = await fetch(`${server.origin}/api/me`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(((await me.json()) as { user: { email: string } }).user.email).toBe('ada@example.com');

    await page.getByRole('button', { name: 'Account menu' }).click();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(/\/sign-in/);
    await expect.poll(() => page.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}signed-out.png` });
    // Signed out for real: the session no longer works.
    expect((await page.request.get(`${server.origin}/api/me`)).status()).toBe(401);

    expect(foreign).toEqual([]);
  });

  it('signs back in with the password and lands where it was headed', async () => {
    const { page } = await newPage();
    await page.goto(`${server.origin}/settings`);
    await page.waitForURL(/\/sign-in/);
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByText(/incorrect email or password/i).isVisible()).toBe(true);
    await page.screenshot({ path: `${SCREENSHOTS}sign-in-wrong.png` });
    await page.getByLabel('Password').fill('analytical engine');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/settings$/);
    await expect
      .poll(() => page.getByRole('heading', { name: 'API tokens' }).isVisible())
      .toBe(true);
    await page.getByRole('button', { name: /Switch to dark theme/ }).click();
    await page.screenshot({ path: `${SCREENSHOTS}settings-dark.png` });
  });
});
