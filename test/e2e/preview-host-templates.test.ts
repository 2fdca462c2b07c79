// Templates whose page needs a preview host of its own (STUDIO_PREVIEW_DOMAIN), on a real Docker
// Engine. VS Code: the `vscode` template's image (code-server built from the npm registry) starts
// VS Code's own workbench with the workspace; the IDE's "VS Code" button opens it on its own host
// (the workbench needs its storage, which a sandboxed path-mode preview has not), behind the
// platform's sign-in, and what is saved there is the workspace's file. Signed out, neither door
// opens. Lynx: the `lynx` template's starter (ReactLynx, Rspeedy from the npm registry) passes its
// test, and its dev server, started with the workspace, shows Lynx's web preview (its page loads
// its scripts from the host's root), which answers taps and shows a change after a reload.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListedTemplate } from '@studio/protocol';
import { execResult } from '../exec-events.ts';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { dockerForTests, untilRemoved } from './docker-engine.ts';
import { setUpAdmin, startServer, type ServerProcess } from './server-process.ts';

const engine = await dockerForTests('templates on a preview host of their own');

let server: ServerProcess;
let browser: Browser;
let page: Page;
/** Workspaces to remove at the end: name → id. */
const created = new Map<string, string>();

function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, data?: unknown) {
  return page.request.fetch(`${server.origin}${path}`, {
    method,
    data,
    headers: { origin: server.origin },
    timeout: 20 * 60_000,
  });
}

/** Runs `script` with `sh -lc` in `workspace`; its exit code and what it printed. */
async function run(workspace: string, script: string) {
  const response = await api('POST', `/api/workspaces/${workspace}/exec`, {
    command: 'sh',
    args: ['-lc', script],
    timeoutMs: 5 * 60_000,
  });
  expect(response.status()).toBe(200);
  return execResult(await response.text());
}

async function readFile(workspace: string, path: string): Promise<string> {
  const answer = await api('GET', `/api/workspaces/${workspace}/files/content?path=${path}`);
  return ((await answer.json()) as { content: string }).content;
}

/** A running workspace of `template`, its starter project copied into its home. */
async function createWorkspace(name: string, template: string) {
  const answer = await api('POST', '/api/workspaces', { name, template });
  expect(answer.status(), await answer.text()).toBe(201);
  const workspace = (await answer.json()) as { id: string; vscode?: { port: number } };
  created.set(name, workspace.id);
  await expect
    .poll(
      async () =>
        ((await (await api('GET', `/api/workspaces/${name}`)).json()) as { status: string }).status,
      // Cold, the image is built first (code-server's native modules compile for minutes).
      { timeout: 20 * 60_000, interval: 1_000 },
    )
    .toBe('running');
  await expect
    .poll(async () => (await run(name, 'ls; ls .local/state/studio')).stdout, {
      timeout: 60_000,
      interval: 1_000,
    })
    .toMatch(/README\.md[\s\S]*starter-copied/);
  return workspace;
}

describe.runIf(engine)('templates on a preview host of their own', () => {
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
    for (const [name, id] of created) {
      await api('DELETE', `/api/workspaces/${name}`);
      await untilRemoved(id);
    }
    await browser?.close();
    await server?.stop();
  }, 2 * 60_000);

  it(
    'opens VS Code’s own workbench from the IDE, signed in, on the workspace’s files',
    async () => {
      const workspace = await createWorkspace('code', 'vscode');
      const workspaceId = workspace.id;
      expect(workspace.vscode).toEqual({ port: 13337 });
      expect((await run('code', 'code-server --version')).stdout).toContain('4.139.1');

      await page.goto(`${server.origin}/w/code`);
      const [vscode] = await Promise.all([
        page.context().waitForEvent('page', { timeout: 60_000 }),
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
      await expect
        .poll(() => readFile('code', 'README.md'), { timeout: 30_000 })
        .toContain('Edited in VS Code.');
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

  it(
    'lynx: the starter’s test passes, and its dev server shows Lynx’s web preview, which answers taps and shows a change',
    async () => {
      const workspace = await createWorkspace('lynx', 'lynx');
      const templates = (await (await api('GET', '/api/templates')).json()) as ListedTemplate[];
      const lynx = templates.find((template) => template.name === 'lynx');
      expect(lynx?.tools.length).toBeGreaterThan(0);
      for (const tool of lynx!.tools) {
        const checked = await run('lynx', tool.check);
        expect(checked.code, `${tool.name}: ${checked.output}`).toBe(0);
        expect(checked.output, `${tool.name} ${tool.version}`).toContain(tool.version);
      }
      // Its own starter only (not the node template's beneath it).
      expect((await run('lynx', 'ls src')).stdout.split('\n').sort()).toEqual(
        ['', 'App.css', 'App.tsx', '__tests__', 'index.tsx'].sort(),
      );
      const tested = await run('lynx', 'npm test && npm run typecheck');
      expect(tested.output).toMatch(/Tests\s+1 passed/);
      expect(tested.code, tested.output).toBe(0);

      // Port 3000 as Ports opens it: the dev server the workspace started, on the preview's own
      // host, where / leads to the web preview; its page is Lynx's, rendered by Lynx for Web.
      const preview = await page.context().newPage();
      await expect
        .poll(
          async () => {
            const answer = await preview.goto(`${server.origin}/w/lynx/p/3000/`);
            return answer?.status();
          },
          { timeout: 120_000, interval: 2_000 },
        )
        .toBe(200);
      const at = new URL(preview.url());
      expect(at.hostname).toBe(`p3000-${workspace.id}.localhost`);
      expect(at.pathname + at.search).toBe('/__web_preview?casename=main.web.bundle');
      await preview.getByText('Hello, world, from Lynx!').waitFor({ timeout: 60_000 });
      await preview.getByText('Tapped 0 times').click();
      await preview.getByText('Tapped 1 times').waitFor({ timeout: 10_000 });

      // A change to the app, saved as the editor saves it, is in the preview once reloaded.
      const app = await readFile('lynx', 'src/App.tsx');
      const saved = await api('PUT', '/api/workspaces/lynx/files/content', {
        path: 'src/App.tsx',
        content: app.replace('Hello, world, from Lynx!', 'Hello again, from Lynx!'),
      });
      expect(saved.status(), await saved.text()).toBe(200);
      await expect
        .poll(
          async () => {
            await preview.reload();
            return preview
              .getByText('Hello again, from Lynx!')
              .waitFor({ timeout: 5_000 })
              .then(
                () => true,
                () => false,
              );
          },
          { timeout: 60_000, interval: 1_000 },
        )
        .toBe(true);
      await preview.screenshot({ path: `${SCREENSHOTS}template-lynx.png` });
      await preview.close();
    },
    25 * 60_000,
  );
});
