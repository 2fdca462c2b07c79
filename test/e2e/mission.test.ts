// Mission control end to end on a real Docker Engine, with a scripted model: the person asks the
// main agent on the Mission Control page, approves the deployment, watches the status reach ready
// and the desktop appear live; the worker takes a screenshot, clicks into the terminal, types a
// command and presses Return; the file it wrote is read back through the daemon.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startScriptedLlm,
  type RecordedRequest,
  type ScriptedLlm,
  type ScriptedTurn,
} from '../scripted-llm.ts';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { dockerForTests, untilRemoved } from './docker-engine.ts';
import { setUpAdmin, startServer, type ServerProcess } from './server-process.ts';

const engine = await dockerForTests('the mission flow');

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
  // OpenAI puts the system prompt first in `messages`; Anthropic has a `system` field.
  const system = JSON.stringify(request.body.system ?? request.body.messages?.[0]?.content ?? '');
  return system.includes('main agent of Prometheus');
}

describe.runIf(engine)('mission control', () => {
  beforeAll(async () => {
    llm = await startScriptedLlm();
    server = await startServer({ STUDIO_RUNTIME: 'docker' });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (error) => console.error(`[mission] page error: ${error.stack ?? error}`));
    page.on('console', (message) => {
      if (message.type() === 'error') console.error(`[mission] console: ${message.text()}`);
    });
    await setUpAdmin(page, server, {
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      password: 'analytical engine',
    });
  }, 5 * 60_000);

  afterAll(async () => {
    if (page && missionId) {
      // A failed test's mission: remove it and wait, or its container outlives this server.
      const mission = await (await api('GET', `/api/missions/${missionId}`)).json();
      const workspace = await (await api('GET', `/api/workspaces/${mission.workspace}`)).json();
      await api('DELETE', `/api/missions/${missionId}`).catch(() => {});
      if (workspace?.id) await untilRemoved(workspace.id as string).catch(() => {});
    }
    await browser?.close();
    await server?.stop();
    await llm?.close();
  });

  /** A screenshot of the page when `work` fails: CI keeps test-results/ to look at. */
  async function failureShot(name: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      await page.screenshot({ path: `${SCREENSHOTS}mission-failed-${name}.png` }).catch(() => {});
      console.error(`[mission] failed at ${page.url()}`);
      throw error;
    }
  }

  /**
   * The whole mission through the page. `provider` is the wire format the model speaks; with
   * `steer`, the person messages the worker while it works and the worker reads it.
   */
  async function mission(provider: 'openai-compatible' | 'anthropic', steer: boolean) {
    llm.reset();
    const created = await (
      await api('POST', '/api/ai/providers', {
        name: `Scripted ${provider}`,
        kind: provider,
        baseUrl: provider === 'anthropic' ? llm.anthropicBaseUrl : llm.openaiBaseUrl,
        ...(provider === 'anthropic' ? { apiKey: 'sk-ant-scripted-0123456789' } : {}),
      })
    ).json();
    await api('PUT', '/api/ai/settings', {
      agent: {
        providerId: created.id,
        model: provider === 'anthropic' ? 'claude-scripted' : 'scripted-coder',
      },
    });
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
        toolCalls: [{ name: 'computer', input: { action: 'left_click', coordinate: [300, 200] } }],
      },
      {
        toolCalls: [
          { name: 'computer', input: { action: 'type', text: 'echo done > ~/result.txt' } },
        ],
      },
      { toolCalls: [{ name: 'computer', input: { action: 'key', text: 'Return' } }] },
    ];
    let noteSent = () => {};
    const note = new Promise<void>((resolve) => (noteSent = resolve));
    if (steer)
      // The worker waits on the screen until the person's message is on its way.
      worker.push({ toolCalls: [{ name: 'computer', input: { action: 'wait', duration: 1 } }] });
    worker.push({ text: 'Done: ~/result.txt holds "done".' });
    let workerTurn = 0;
    llm.respond(async (request) => {
      if (isMain(request)) return main.shift() ?? { text: 'Nothing more.' };
      workerTurn++;
      if (steer && workerTurn === 5) await note;
      return worker.shift() ?? { text: 'Nothing more.' };
    });

    await page.goto(`${server.origin}/missions`);
    const mainChat = page.getByRole('complementary', { name: 'Main agent' });
    await mainChat
      .getByRole('textbox')
      .fill('Write "done" into result.txt from a terminal on a desktop');
    await mainChat.getByRole('button', { name: 'Send' }).click();
    const card = mainChat.getByRole('group', { name: 'Approval needed' });
    await expect.poll(() => card.innerText(), { timeout: 30_000 }).toMatch(/"desktop".*30 min/s);
    await page.screenshot({ path: `${SCREENSHOTS}mission-approval-${provider}.png` });
    await card.getByRole('button', { name: 'Approve' }).click();

    const status = page.getByTestId('mission-status');
    await status.waitFor({ timeout: 30_000 });
    await page.screenshot({ path: `${SCREENSHOTS}mission-status-${provider}.png` });
    const seen = new Set<string>();
    // Cold, the desktop image builds on base first: minutes.
    await expect
      .poll(
        async () => {
          const value = (await status.getAttribute('data-status')) ?? '';
          seen.add(value);
          return value;
        },
        { timeout: 20 * 60_000, interval: 200 },
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

    const workerChat = page.getByRole('complementary', { name: 'Worker' });
    if (steer) {
      await expect.poll(() => workerTurn, { timeout: 60_000 }).toBe(5);
      await workerChat.getByRole('textbox').fill('Also tell me when you are done');
      await workerChat.getByRole('button', { name: 'Send' }).click();
      await workerChat.getByText('Also tell me when you are done').first().waitFor();
      // Taking the mouse pauses the worker; handing it back tells it so and resumes it.
      await desktop.getByRole('button', { name: 'Take control' }).click();
      await workerChat.getByRole('button', { name: 'Resume' }).waitFor();
      await desktop.getByRole('button', { name: 'Hand back' }).click();
      await workerChat.getByRole('button', { name: 'Pause' }).waitFor();
      noteSent();
    }

    // The worker's keystrokes land in the desktop's terminal: the file appears in the workspace.
    const resultFile = async () => {
      const response = await api(
        'GET',
        `/api/workspaces/${workspace}/files/content?path=result.txt`,
      );
      return response.status() === 200 ? ((await response.json()).content as string) : null;
    };
    await expect.poll(resultFile, { timeout: 60_000 }).toBe('done\n');

    // The screenshot reached the model as an image, and the worker's chat shows its steps.
    await workerChat.getByText('Done: ~/result.txt holds').waitFor({ timeout: 30_000 });
    const workerRequests = llm.requests.filter((request) => !isMain(request));
    expect(workerRequests[1]!.images.length).toBeGreaterThan(0);
    expect(workerRequests[1]!.images[0]!.mediaType).toBe('image/png');
    if (steer) {
      const last = workerRequests.at(-1)!.userTexts.join('\n');
      expect(last).toContain('Also tell me when you are done');
      expect(last).toContain('take a new screenshot before you go on');
    }
    await page.screenshot({ path: `${SCREENSHOTS}mission-control-${provider}.png` });

    // Removing the mission removes its environment, container and all.
    const { id: workspaceId } = await (await api('GET', `/api/workspaces/${workspace}`)).json();
    expect((await api('DELETE', `/api/missions/${missionId}`)).status()).toBe(204);
    missionId = null;
    // Chromium aborts page loads while an interface disappears: the next waits until it is gone.
    await untilRemoved(workspaceId);
  }

  it(
    'deploys a desktop from the main chat; the worker types into its terminal while the person watches',
    () => failureShot('openai-compatible', () => mission('openai-compatible', false)),
    25 * 60_000,
  );

  it(
    'runs the same mission with an Anthropic model, and the person messages the worker mid-run',
    () => failureShot('anthropic', () => mission('anthropic', true)),
    10 * 60_000,
  );
});
