// Mission control end to end on a real Docker Engine, with a scripted model: the person asks the
// main agent on the Mission Control page, approves the deployment, watches the status reach ready
// and the desktop appear live; the worker takes a screenshot, clicks into the terminal, types a
// command and presses Return; the file it wrote is read back through the daemon.
import Docker from 'dockerode';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startScriptedLlm,
  type RecordedRequest,
  type ScriptedLlm,
  type ScriptedTurn,
} from '../scripted-llm.ts';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { setupLink, startServer, type ServerProcess } from './server-process.ts';

async function engineAnswers(): Promise<boolean> {
  try {
    const host = process.env.DOCKER_HOST;
    const docker = host?.startsWith('unix://')
      ? new Docker({ socketPath: host.slice('unix://'.length) })
      : new Docker();
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

const engine = await engineAnswers();
if (!engine && process.env.STUDIO_REQUIRE_DOCKER === '1') {
  throw new Error('STUDIO_REQUIRE_DOCKER=1 but no Docker Engine answers at DOCKER_HOST');
}
if (!engine) console.warn('[mission] no Docker Engine answers: skipping the mission flow');

let server: ServerProcess;
let llm: ScriptedLlm;
let browser: Browser;
let page: Page;
let missionId: string | null = null;

function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH', path: string, data?: unknown) {
  return page.request.fetch(`${server.origin}${path}`, {
    method,
    data,
    headers: { origin: server.origin },
  });
}

const REQUIREMENT = 'In the terminal on the desktop, run: echo done > ~/result.txt';

/** Which agent a request is for, by its system prompt. */
function isMain(request: RecordedRequest): boolean {
  return String(request.body.messages?.[0]?.content ?? '').includes('main agent of Prometheus');
}

describe.runIf(engine)('mission control', () => {
  beforeAll(async () => {
    llm = await startScriptedLlm();
    server = await startServer({ STUDIO_RUNTIME: 'docker' });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    page = await context.newPage();
    await page.goto(setupLink(server));
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('analytical engine');
    await page.getByRole('button', { name: 'Create admin account' }).click();
    await page.getByRole('heading', { name: 'Workspaces', exact: true }).waitFor();
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
  }, 5 * 60_000);

  afterAll(async () => {
    if (page && missionId) {
      // Wait for the removal: a container left behind outlives this server.
      await api('DELETE', `/api/missions/${missionId}`).catch(() => {});
      for (let i = 0; i < 120; i++) {
        const workspaces = await (await api('GET', '/api/workspaces')).json().catch(() => []);
        if (!Array.isArray(workspaces) || workspaces.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    await browser?.close();
    await server?.stop();
    await llm?.close();
  });

  it(
    'deploys a desktop from the main chat; the worker types into its terminal while the person watches',
    async () => {
      const main: ScriptedTurn[] = [
        {
          text: 'This needs a desktop with a terminal.',
          toolCalls: [
            {
              name: 'deploy_environment',
              input: { template: 'desktop', requirement: REQUIREMENT, ttlMinutes: 30 },
            },
          ],
        },
        { text: 'I deployed a desktop; the worker starts once it is ready.' },
      ];
      // The screen is 1280×800 and screenshots are that size: coordinates need no scaling. The
      // session's xterm sits at +40+40, 100×30 characters.
      const worker: ScriptedTurn[] = [
        { toolCalls: [{ name: 'computer', input: { action: 'screenshot' } }] },
        {
          toolCalls: [
            { name: 'computer', input: { action: 'left_click', coordinate: [300, 200] } },
          ],
        },
        {
          toolCalls: [
            { name: 'computer', input: { action: 'type', text: 'echo done > ~/result.txt' } },
          ],
        },
        { toolCalls: [{ name: 'computer', input: { action: 'key', text: 'Return' } }] },
        { text: 'Done: ~/result.txt holds "done".' },
      ];
      llm.respond(
        (request) => (isMain(request) ? main : worker).shift() ?? { text: 'Nothing more.' },
      );

      await page.goto(`${server.origin}/missions`);
      const input = page.getByLabel('Message the assistant').first();
      await input.fill('Write "done" into result.txt from a terminal on a desktop');
      await page.getByRole('button', { name: 'Send' }).first().click();
      const card = page.getByRole('group', { name: 'Approval needed' });
      await expect.poll(() => card.innerText(), { timeout: 30_000 }).toMatch(/"desktop".*30 min/s);
      await page.screenshot({ path: `${SCREENSHOTS}mission-approval.png` });
      await card.getByRole('button', { name: 'Approve' }).click();

      const status = page.getByTestId('mission-status');
      await status.waitFor({ timeout: 30_000 });
      await page.screenshot({ path: `${SCREENSHOTS}mission-status.png` });
      const seen = new Set<string>();
      // Cold, the desktop image builds on base first: minutes.
      await expect
        .poll(
          async () => {
            const value = (await status.getAttribute('data-status')) ?? '';
            seen.add(value);
            return value;
          },
          { timeout: 20 * 60_000, intervals: [200] },
        )
        .toBe('ready');
      expect([...seen].some((value) => ['queued', 'building', 'starting'].includes(value))).toBe(
        true,
      );

      const missions = (await (await api('GET', '/api/missions')).json()).missions;
      missionId = missions[0].id as string;
      const workspace = missions[0].workspace as string;

      const desktop = page.getByTestId('mission-desktop');
      await desktop.locator('canvas').waitFor({ timeout: 60_000 });
      expect((await desktop.locator('canvas').boundingBox())!.width).toBeGreaterThan(300);

      // The worker's keystrokes land in the desktop's terminal: the file appears in the workspace.
      await expect
        .poll(
          async () =>
            (
              await api('GET', `/api/workspaces/${workspace}/files/content?path=result.txt`)
            ).status(),
          { timeout: 60_000 },
        )
        .toBe(200);
      const result = await (
        await api('GET', `/api/workspaces/${workspace}/files/content?path=result.txt`)
      ).json();
      expect(result.content).toBe('done\n');

      // The screenshot reached the model as an image, and the worker's chat shows its steps.
      const workerRequests = llm.requests.filter((request) => !isMain(request));
      expect(workerRequests[1]!.images.length).toBeGreaterThan(0);
      expect(workerRequests[1]!.images[0]!.mediaType).toBe('image/png');
      await page.getByText('Done: ~/result.txt holds').first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: `${SCREENSHOTS}mission-control.png` });
    },
    25 * 60_000,
  );
});
