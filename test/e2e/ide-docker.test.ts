// A new user's first hour on a real Docker workspace: create it, write and run code, preview a
// server, then commit and push to a git server over HTTPS-style token auth.
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../git-http-server.ts';
import { followRun, streamedText } from '../run-events.ts';
import { startScriptedLlm } from '../scripted-llm.ts';
import { SCREENSHOTS, keepFailures, launchChromium, openWhenReady } from './chromium.ts';
import { dockerForTests, untilRemoved } from './docker-engine.ts';
import { setUpAdmin, startServer, type ServerProcess } from './server-process.ts';

const TOKEN = 'e2e-git-token';

const engine = await dockerForTests('the Docker IDE flow');

let server: ServerProcess;
let git: GitHttpServer;
let gitRoot: string;
let browser: Browser;
let page: Page;
/** What the page showed when a step failed, kept after each test. */
let afterFailure: ((task: { name: string }) => Promise<void>) | undefined;

/** Call the API with the page's session cookie (and its Origin, which the CSRF check wants). */
function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, data?: unknown) {
  return page.request.fetch(`${server.origin}${path}`, {
    method,
    data,
    headers: { origin: server.origin },
  });
}

/** Text of the visible terminal. */
function terminalText(): Promise<string> {
  return page.locator('.xterm:visible .xterm-rows').first().innerText();
}

/** Run a shell command in the terminal and wait until `expected` shows up. */
async function runInTerminal(command: string, expected: RegExp): Promise<void> {
  await page.locator('.xterm:visible').first().click();
  await page.keyboard.type(`${command}\n`);
  await expect.poll(terminalText, { timeout: 20_000 }).toMatch(expected);
}

describe.runIf(engine)('a new user on a Docker workspace', () => {
  beforeAll(async () => {
    gitRoot = await mkdtemp(join(tmpdir(), 'studio-e2e-git-'));
    execFileSync('git', ['init', '--bare', '-b', 'main', join(gitRoot, 'project.git')]);
    // On every address: the workspace reaches the host through its bridge's gateway, and the
    // server opens exactly this port in the workspace firewall.
    git = await startGitHttpServer({ root: gitRoot, token: TOKEN, host: '0.0.0.0' });
    const gitPort = Number(git.hostPort.split(':').pop());
    server = await startServer({
      STUDIO_RUNTIME: 'docker',
      STUDIO_DOCKER_HOST_PORTS: String(gitPort),
    });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    afterFailure = keepFailures(page, 'ide-docker');
    await setUpAdmin(page, server, {
      name: 'Grace Hopper',
      email: 'grace@example.com',
      password: 'compiler pioneer',
    });
  }, 30 * 60_000);

  afterEach(async ({ task }) => afterFailure?.(task));

  afterAll(async () => {
    if (page) {
      // Wait for the removal to finish: a container left behind outlives this server.
      const hopper = await api('GET', '/api/workspaces/hopper').catch(() => null);
      if (hopper?.status() === 200) {
        const { id } = (await hopper.json()) as { id: string };
        await api('DELETE', '/api/workspaces/hopper');
        await untilRemoved(id);
      }
    }
    await browser?.close();
    await server?.stop();
    await git?.close();
  });

  it(
    'creates, edits, runs, previews, commits and pushes',
    async () => {
      // Create through the dialog, with a smaller memory limit than the template's.
      await page.getByRole('button', { name: 'New workspace' }).click();
      const dialog = page.getByRole('dialog', { name: 'New workspace' });
      await dialog.getByLabel('Name').fill('hopper');
      await dialog.getByLabel('Memory (GiB)').fill('1');
      await dialog.getByRole('button', { name: 'Create workspace' }).click();
      const row = page.getByRole('row').filter({ hasText: 'hopper' });
      // Cold, the template image is built first: minutes.
      // The status, not a cold build's "Running in <container>" log lines.
      await expect
        .poll(() => row.innerText(), { timeout: 20 * 60_000 })
        .toMatch(/\bRunning\b(?! in )/);
      await expect.poll(() => row.innerText(), { timeout: 15_000 }).toMatch(/\/ 1\.0 GiB/);
      await page.screenshot({ path: `${SCREENSHOTS}docker-dashboard.png` });

      // The host as the workspace sees it: its bridge's gateway.
      const route = await api('POST', '/api/workspaces/hopper/exec', {
        command: 'sh',
        args: ['-c', "ip route | awk '/default/ {print $3}'"],
      });
      const gateway = /"data":"([\d.]+)\\n"/.exec(await route.text())?.[1];
      expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const gitHost = `${gateway}:${git.hostPort.split(':').pop()}`;

      await page.getByRole('link', { name: 'Open hopper' }).click();
      await page.waitForURL(/\/w\/hopper$/);

      // A file from the tree, typed in Monaco, saved with Ctrl+S.
      await page.getByRole('button', { name: 'New file' }).click();
      await page.getByRole('textbox', { name: 'New file name' }).fill('hello.py');
      await page.keyboard.press('Enter');
      const editor = page.locator('.monaco-editor').first();
      await editor.waitFor();
      await editor.click();
      await page.keyboard.type('print("hello from Docker")');
      await page.keyboard.press('Control+s');
      await page.getByLabel('unsaved changes').waitFor({ state: 'detached' });

      // Run it, make the home a repository with the git server as its remote.
      await page.getByRole('button', { name: 'New terminal' }).click();
      await page.locator('.xterm').first().waitFor();
      await expect.poll(terminalText, { timeout: 15_000 }).toMatch(/\$/);
      await runInTerminal('python3 hello.py', /^hello from Docker$/m);
      await runInTerminal(
        `git init -q -b main && git remote add origin http://${gitHost}/project.git && echo repo-ready`,
        /^repo-ready$/m,
      );

      // A server in a second terminal, then its preview through the authenticated proxy.
      await page.getByRole('button', { name: 'New terminal' }).click();
      const terminalTabs = page.getByRole('tablist', { name: 'Terminals' }).getByRole('tab');
      await expect.poll(() => terminalTabs.count()).toBe(2);
      await expect.poll(() => terminalTabs.nth(1).getAttribute('aria-selected')).toBe('true');
      // Named, so it is easy to find again; the name lives with the shell, across reloads.
      await terminalTabs.nth(1).dblclick();
      await page.getByRole('textbox', { name: 'Terminal name' }).fill('http server');
      await page.keyboard.press('Enter');
      await page.getByRole('tab', { name: 'http server' }).waitFor();
      await expect.poll(terminalText, { timeout: 15_000 }).toMatch(/\$/);
      await runInTerminal('python3 -m http.server 8000', /Serving HTTP on .* port 8000/);
      await page.getByRole('tab', { name: /^Ports/ }).click();
      await page.getByRole('button', { name: 'Open preview' }).click({ timeout: 15_000 });
      const preview = page.frameLocator('iframe[title="Port 8000 of hopper"]');
      await expect
        .poll(() => preview.locator('body').innerText(), { timeout: 15_000 })
        .toMatch(/Directory listing for \/[\s\S]*hello\.py/);
      await page.screenshot({ path: `${SCREENSHOTS}docker-ide-preview.png` });

      // Nothing listens on 8001: a clear page, not a hang.
      await page.getByRole('textbox', { name: 'Preview port' }).fill('8001');
      await page.getByRole('button', { name: 'Open', exact: true }).click();
      await expect
        .poll(() =>
          page.frameLocator('iframe[title="Port 8001 of hopper"]').locator('body').innerText(),
        )
        .toMatch(/Nothing is listening on port 8001 in workspace hopper/);

      // Source control: stage hello.py, commit.
      await page.getByRole('tab', { name: 'Git' }).click();
      const changes = page.getByRole('region', { name: 'Changes', exact: true });
      await changes.getByText('hello.py').hover();
      await page.getByRole('button', { name: 'Stage hello.py' }).click();
      await page
        .getByRole('region', { name: 'Staged changes', exact: true })
        .getByText('hello.py')
        .waitFor();
      await page.getByRole('textbox', { name: 'Commit message' }).fill('Say hello from Docker');
      await page.getByRole('button', { name: /^Commit 1 file/ }).click();
      await page
        .getByRole('region', { name: 'Staged changes', exact: true })
        .waitFor({ state: 'detached' });

      // Pushing before there is a token: a clear message naming the host and where to add one.
      await page.getByRole('button', { name: /^Push/ }).click();
      await expect
        .poll(() => page.getByRole('alert').allInnerTexts(), { timeout: 30_000 })
        .toContainEqual(expect.stringContaining(`Add a token for ${gitHost}`));
      expect(git.unauthorized).toBeGreaterThan(0);

      // Add the token in Settings, as the message says, and push again.
      await page.goto(`${server.origin}/settings#git-credentials`);
      await page.getByLabel('Host').fill(gitHost);
      await page.getByLabel('Token', { exact: true }).fill(TOKEN);
      await page.getByRole('button', { name: 'Save token' }).click();
      await page.getByRole('cell', { name: gitHost, exact: true }).waitFor();
      await page.goto(`${server.origin}/w/hopper`);
      await page.getByRole('tab', { name: 'http server' }).waitFor();
      await page.getByRole('tab', { name: 'Git' }).click();
      await page.getByRole('button', { name: /^Push/ }).click();
      await page.getByText('Pushed.').waitFor({ timeout: 30_000 });
      await page.screenshot({ path: `${SCREENSHOTS}docker-ide-git.png` });

      const log = execFileSync(
        'git',
        ['--git-dir', join(gitRoot, 'project.git'), 'log', '--format=%s|%an', 'main'],
        { encoding: 'utf8' },
      );
      expect(log.trim()).toBe('Say hello from Docker|Grace Hopper');
      const tree = execFileSync(
        'git',
        ['--git-dir', join(gitRoot, 'project.git'), 'show', 'main:hello.py'],
        { encoding: 'utf8' },
      );
      expect(tree).toBe('print("hello from Docker")');
    },
    30 * 60_000,
  );

  it('lets the agent fix a failing test in the Docker workspace, each step approved', async () => {
    const llm = await startScriptedLlm();
    try {
      await api('PUT', '/api/workspaces/hopper/files/content', {
        path: 'calc.py',
        content: 'def add(a, b):\n    return a - b\n',
      });
      await api('PUT', '/api/workspaces/hopper/files/content', {
        path: 'test_calc.py',
        content: CALC_TEST,
      });
      const provider = await (
        await api('POST', '/api/ai/providers', {
          name: 'Local',
          kind: 'openai-compatible',
          baseUrl: llm.openaiBaseUrl,
        })
      ).json();
      await api('PUT', '/api/ai/settings', {
        agent: { providerId: provider.id, model: 'scripted-coder' },
      });
      const conversation = await (
        await api('POST', '/api/workspaces/hopper/ai/conversations', {})
      ).json();

      const runTests = {
        name: 'run_command',
        input: { command: 'python3 -m unittest -v test_calc' },
      };
      llm.script(
        { text: 'Running the tests first.', toolCalls: [runTests] },
        {
          toolCalls: [
            {
              name: 'edit_file',
              input: { path: 'calc.py', oldText: 'return a - b', newText: 'return a + b' },
            },
          ],
        },
        { toolCalls: [runTests] },
        { text: 'add subtracted; it adds now and the test passes.' },
      );
      const sent = await api(
        'POST',
        `/api/workspaces/hopper/ai/conversations/${conversation.id}/messages`,
        {
          text: 'Make the tests pass',
          mode: 'agent',
        },
      );
      expect(sent.status()).toBe(202);
      const runId = (await sent.json()).runId as string;
      const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
      const approved: string[] = [];
      const events = await followRun({
        origin: server.origin,
        cookie,
        runId,
        answer: async (event) => {
          approved.push(event.detail.summary);
          await api('POST', `/api/ai/runs/${runId}/approvals/${event.callId}`, {
            decision: 'approve',
          });
        },
      });
      expect(events.at(-1)).toMatchObject({ type: 'end', code: 'done' });
      expect(approved).toEqual([
        'run_command: python3 -m unittest -v test_calc',
        'edit_file: calc.py',
        'run_command: python3 -m unittest -v test_calc',
      ]);
      const results = llm.requests.at(-1)!.toolResults.map((result) => result.content);
      expect(results[0]).toMatch(/^exit code 1\n[\s\S]*FAILED \(failures=1\)/);
      expect(results[2]).toMatch(/^exit code 0\n[\s\S]*\nOK/);
      const fixed = await (
        await api('GET', '/api/workspaces/hopper/files/content?path=calc.py')
      ).json();
      expect(fixed.content).toBe('def add(a, b):\n    return a + b\n');
      expect(streamedText(events)).toContain('the test passes');
    } finally {
      await llm.close();
    }
  });
  it('shows a desktop workspace live, view-only until the person takes control', async () => {
    expect(
      (await api('POST', '/api/workspaces', { name: 'screen', template: 'desktop' })).status(),
    ).toBe(201);
    // Cold, the desktop image builds on base first: minutes.
    await expect
      .poll(async () => (await (await api('GET', '/api/workspaces/screen')).json()).status, {
        timeout: 20 * 60_000,
      })
      .toBe('running');
    try {
      const desktopButton = page.getByRole('button', { name: 'Desktop', exact: true });
      await openWhenReady(page, `${server.origin}/w/screen`, desktopButton);
      await desktopButton.click();
      const viewer = page.getByRole('region', { name: 'Desktop' });
      await expect
        .poll(() => viewer.getByRole('status').innerText(), { timeout: 60_000 })
        .toContain('Connected');
      const canvas = viewer.locator('canvas');
      await canvas.waitFor();
      const box = (await canvas.boundingBox())!;
      expect(box.width).toBeGreaterThan(300);
      // View-only: a click and typing do nothing on the desktop (had they reached the terminal,
      // the command typed after taking control would write another file).
      await canvas.click({ position: { x: box.width * 0.2, y: box.height * 0.2 } });
      await page.keyboard.type('echo no > ~/viewonly.txt');
      // Taking control: the session's terminal gets the keystrokes.
      await viewer.getByRole('button', { name: 'Take control' }).click();
      await canvas.click({ position: { x: box.width * 0.2, y: box.height * 0.2 } });
      await page.keyboard.type('echo yes > ~/viewer.txt\n', { delay: 20 });
      await expect
        .poll(
          async () =>
            (await api('GET', '/api/workspaces/screen/files/content?path=viewer.txt')).status(),
          {
            timeout: 20_000,
          },
        )
        .toBe(200);
      const written = await (
        await api('GET', '/api/workspaces/screen/files/content?path=viewer.txt')
      ).json();
      expect(written.content).toBe('yes\n');
      expect(
        (await api('GET', '/api/workspaces/screen/files/content?path=viewonly.txt')).status(),
      ).toBe(404);
      await page.screenshot({ path: `${SCREENSHOTS}docker-desktop-viewer.png` });
      await viewer.getByRole('button', { name: 'Hand back' }).click();
    } finally {
      // Wait for the removal: a container left behind outlives this server.
      const { id } = (await (await api('GET', '/api/workspaces/screen')).json()) as { id: string };
      await api('DELETE', '/api/workspaces/screen');
      await untilRemoved(id);
    }
  });
});

const CALC_TEST = `import unittest
from calc import add


class AddTest(unittest.TestCase):
    def test_adds(self):
        self.assertEqual(add(2, 3), 5)
`;
