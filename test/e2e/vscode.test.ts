// VS Code in the workspace, on a real Docker Engine: the `vscode` template's image (code-server
// built from the npm registry) starts VS Code's own workbench with the workspace; the IDE's
// "VS Code" button opens it on a preview host of its own (STUDIO_PREVIEW_DOMAIN: the workbench
// needs its storage, which a sandboxed path-mode preview has not), behind the platform's sign-in,
// and what is saved there is the workspace's file. Signed out, neither door opens.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execResult } from '../exec-events.ts';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { dockerForTests, untilRemoved } from './docker-engine.ts';
import { setUpAdmin, startServer, type ServerProcess } from './server-process.ts';

const engine = await dockerForTests('VS Code in the workspace');

let server: ServerProcess;
let browser: Browser;
let page: Page;
let workspaceId = '';

function api(method: 'GET' | 'POST' | 'DELETE', path: string, data?: unknown) {
  return page.request.fetch(`${server.origin}${path}`, {
    method,
    data,
    headers: { origin: server.origin },
    timeout: 20 * 60_000,
  });
}

async function run(script: string): Promise<string> {
  const response = await api('POST', '/api/workspaces/code/exec', {
    command: 'sh',
    args: ['-lc', script],
  });
  expect(response.status()).toBe(200);
  return execResult(await response.text()).stdout;
}

async function readme(): Promise<string> {
  const answer = await api('GET', '/api/workspaces/code/files/content?path=README.md');
  return ((await answer.json()) as { content: string }).content;
}

describe.runIf(engine)('VS Code in the workspace', () => {
  beforeAll(async () => {
    server = await startServer({ STUDIO_RUNTIME: 'docker', STUDIO_PREVIEW_DOMAIN: 'localhost' });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await setUpAdmin(page, server, {
      name: 'Grace Hopper',
      email: 'grace@example.com',
      password: 'a long compiler password',
    });
  }, 5 * 60_000);

  afterAll(async () => {
    if (workspaceId) {
      await api('DELETE', '/api/workspaces/code');
      await untilRemoved(workspaceId);
    }
    await browser?.close();
    await server?.stop();
  }, 2 * 60_000);

  it(
    'opens VS Code’s own workbench from the IDE, signed in, on the workspace’s files',
    async () => {
      const created = await api('POST', '/api/workspaces', { name: 'code', template: 'vscode' });
      expect(created.status(), await created.text()).toBe(201);
      const workspace = (await created.json()) as { id: string; vscode?: { port: number } };
      workspaceId = workspace.id;
      expect(workspace.vscode).toEqual({ port: 13337 });
      await expect
        .poll(
          async () =>
            ((await (await api('GET', '/api/workspaces/code')).json()) as { status: string })
              .status,
          // Cold, the image is built first: code-server's native modules compile for minutes.
          { timeout: 20 * 60_000, interval: 1_000 },
        )
        .toBe('running');
      expect(await run('code-server --version')).toContain('4.139.1');
      await expect
        .poll(() => run('ls; ls .local/state/studio'), { timeout: 60_000, interval: 1_000 })
        .toMatch(/README\.md[\s\S]*starter-copied/);

      await page.goto(`${server.origin}/w/code`);
      const [vscode] = await Promise.all([
        page.context().waitForEvent('page'),
        page.getByRole('link', { name: 'VS Code' }).click({ timeout: 60_000 }),
      ]);
      await vscode.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
      expect(new URL(vscode.url()).hostname).toBe(`p13337-${workspaceId}.localhost`);
      // Its explorer shows the home: the starter project the daemon copied.
      await vscode.getByRole('treeitem', { name: 'README.md' }).click({ timeout: 60_000 });
      await vscode.getByRole('tab', { name: /README\.md/ }).waitFor();
      const editor = vscode.locator('.editor-instance .monaco-editor .view-lines').first();
      await editor.click();
      await vscode.keyboard.press('Control+End');
      await vscode.keyboard.type('Edited in VS Code.');
      await vscode.keyboard.press('Control+S');
      await expect.poll(readme, { timeout: 30_000 }).toContain('Edited in VS Code.');
      await vscode.screenshot({ path: `${SCREENSHOTS}vscode-workbench.png` });
      const host = new URL(vscode.url()).origin;
      await vscode.close();

      // Signed out, through the platform or straight at the host: refused, no workbench.
      const stranger = await browser.newContext();
      const door = await stranger.newPage();
      for (const url of [`${server.origin}/w/code/p/13337/`, `${host}/`]) {
        const answer = await door.goto(url);
        expect(answer?.status(), url).toBe(401);
        expect(await door.locator('body').innerText()).toMatch(/sign in/i);
        expect(await door.locator('.monaco-workbench').count()).toBe(0);
      }
      await stranger.close();
    },
    25 * 60_000,
  );
});
