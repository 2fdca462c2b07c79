import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedLlm, type RecordedRequest, type ScriptedLlm } from '../scripted-llm.ts';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { setUpAdmin, startServer, type ServerProcess } from './server-process.ts';

let server: ServerProcess;
let llm: ScriptedLlm;
let browser: Browser;
let page: Page;

const TEST_FILE = `import unittest
from calc import add


class AddTest(unittest.TestCase):
    def test_adds(self):
        self.assertEqual(add(2, 3), 5)


if __name__ == "__main__":
    unittest.main()
`;

const DOCUMENTED_ADD = 'def add(a, b):\n    """The sum of a and b."""\n    return a + b\n';
/** The completions endpoint answers 404, as a chat-only server does. */
let completionsDown = false;

/**
 * The scripted model as an agent: it reads the code, writes a test, runs it, then reports. Each
 * answer depends on how far the conversation got, as a real model's would.
 */
function agent(request: RecordedRequest) {
  // Inline completions: fill-in-the-middle on the completions endpoint.
  if (request.api === 'openai-completions')
    return completionsDown
      ? { error: { status: 404, message: 'this endpoint has no completions' } }
      : { text: 'a * b' };
  const done = request.toolResults.length;
  const prompt = request.lastUserText ?? '';
  if (prompt.includes('docstring'))
    return { text: ['Here it is:\n\n```python\n', DOCUMENTED_ADD, '```\n'] };
  if (prompt.includes('delete')) {
    // Earlier turns' results are in the conversation too: look for this turn's answer.
    const answer = request.toolResults.find((result) => result.content.includes('denied'));
    if (!answer) return { toolCalls: [{ name: 'run_command', input: { command: 'rm -rf ~/*' } }] };
    return { text: `Understood, I did not delete anything (${answer.content}).` };
  }
  switch (done) {
    case 0:
      return {
        text: 'Let me read calc.py first.',
        toolCalls: [{ name: 'read_file', input: { path: 'calc.py' } }],
      };
    case 1:
      return {
        toolCalls: [{ name: 'write_file', input: { path: 'test_calc.py', content: TEST_FILE } }],
      };
    case 2:
      return {
        toolCalls: [
          { name: 'run_command', input: { command: 'python3 -m unittest test_calc -v' } },
        ],
      };
    default:
      return {
        text: [
          'I added **test_calc.py** with a test for `add`, ',
          'and it passes:\n\n```\nRan 1 test\nOK\n```',
        ],
      };
  }
}

beforeAll(async () => {
  llm = await startScriptedLlm({ apiKey: 'sk-e2e-0123456789abcdef' });
  llm.respond(agent);
  server = await startServer({ STUDIO_RUNTIME: 'local' });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  await setUpAdmin(page, server, {
    name: 'Grace Hopper',
    email: 'grace@example.com',
    password: 'a compiler for everyone',
  });
});

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail')
    await page.screenshot({
      path: `${SCREENSHOTS}assistant-failed-${task.name.slice(0, 30).replace(/\W+/g, '-')}.png`,
    });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await llm?.close();
});

function api(method: 'GET' | 'POST' | 'PUT', path: string, data?: unknown) {
  return page.request.fetch(`${server.origin}${path}`, {
    method,
    data,
    headers: { origin: server.origin },
  });
}

/** Opens the IDE's right panel on the assistant (the panel remembers whether it was open). */
async function openAssistant() {
  const toggle = page.getByRole('button', { name: 'Assistant', exact: true });
  const panel = page.getByRole('complementary', { name: 'Assistant' });
  // The page restores the remembered layout just after it loads: a click read against the state
  // before that would close the panel it reopened. Toggle until the panel is shown and stays.
  const shown = async () => ((await panel.boundingBox().catch(() => null))?.width ?? 0) > 100;
  for (let attempt = 0; attempt < 10; attempt++) {
    await page.waitForTimeout(300);
    if (await shown()) {
      await page.waitForTimeout(300);
      if (await shown()) return panel;
    }
    if ((await toggle.getAttribute('aria-pressed')) !== 'true') await toggle.click();
  }
  throw new Error('the assistant panel did not open');
}

describe('the assistant', () => {
  it('without a provider, says how to add one', async () => {
    expect((await api('POST', '/api/workspaces', { name: 'calc' })).status()).toBe(201);
    await expect
      .poll(async () => (await (await api('GET', '/api/workspaces/calc')).json()).status, {
        timeout: 30_000,
      })
      .toBe('running');
    await api('PUT', '/api/workspaces/calc/files/content', {
      path: 'calc.py',
      content: 'def add(a, b):\n    return a + b\n',
    });
    await page.goto(`${server.origin}/w/calc`);
    const panel = await openAssistant();
    await panel.getByRole('link', { name: 'Add a provider in Settings → AI' }).click();
    await page.waitForURL(/\/settings#ai$/);
  });

  it('is set up in Settings with only an OpenAI-compatible URL', async () => {
    const ai = page.locator('#ai');
    await ai.getByLabel('Kind').selectOption({ label: 'OpenAI-compatible' });
    await ai.getByLabel('Name', { exact: true }).fill('Local model');
    await ai.getByLabel('Base URL').fill(llm.openaiBaseUrl);
    await ai.getByLabel('API key').fill('sk-e2e-0123456789abcdef');
    await ai.getByRole('button', { name: 'Add provider' }).click();
    await ai.getByText('…cdef').waitFor();
    for (const role of ['Chat', 'Agent']) {
      await ai.getByLabel(`${role} provider`).selectOption({ label: 'Local model (yours)' });
      const model = ai.getByLabel(`${role} model`);
      await expect.poll(() => model.locator('option').allInnerTexts()).toContain('scripted-coder');
      await model.selectOption('scripted-coder');
    }
    await ai.getByRole('button', { name: 'Save models' }).click();
    await ai.getByText(/Chat uses scripted-coder/).waitFor();
    await ai.screenshot({ path: `${SCREENSHOTS}settings-ai.png` });
  });

  it('adds a test and makes it pass, each change approved from the approval card', async () => {
    await page.goto(`${server.origin}/w/calc`);
    const panel = await openAssistant();
    await panel.getByRole('button', { name: 'Agent' }).click();
    await panel
      .getByLabel('Message the assistant')
      .fill('Add a test for add in calc.py and make it pass');
    await panel.getByRole('button', { name: 'Send' }).click();

    // First the new file, shown as a diff; then the exact command.
    const card = panel.getByRole('group', { name: 'Approval needed' });
    await card.waitFor({ timeout: 30_000 });
    await expect.poll(() => card.innerText()).toContain('write_file: create test_calc.py');
    expect(await card.innerText()).toContain('+    def test_adds(self):');
    await page.screenshot({ path: `${SCREENSHOTS}assistant-approval.png` });
    await card.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => card.innerText(), { timeout: 30_000 })
      .toContain('python3 -m unittest test_calc -v');
    await expect(card.getByLabel('Command to run').inputValue()).resolves.toBe(
      'python3 -m unittest test_calc -v',
    );
    await card.getByRole('button', { name: 'Approve' }).click();

    const answer = panel.locator('[data-role="assistant"]').last();
    await expect.poll(() => answer.innerText(), { timeout: 30_000 }).toContain('and it passes');
    await expect
      .poll(() => panel.locator('[data-tool="run_command"][data-status="done"]').count())
      .toBe(1);
    expect(await answer.locator('strong').first().innerText()).toBe('test_calc.py');
    const file = await (
      await api('GET', '/api/workspaces/calc/files/content?path=test_calc.py')
    ).json();
    expect(file.content).toBe(TEST_FILE);
    // The command really ran in the workspace: its output went back to the model.
    const ran = llm.requests.find((request) => request.toolResults.length === 3)!;
    expect(ran.toolResults[2]!.content).toMatch(/exit code 0[\s\S]*Ran 1 test[\s\S]*OK/);
    await page.screenshot({ path: `${SCREENSHOTS}assistant-done.png` });
  });

  it('lets the person deny with a reason the model reads', async () => {
    const panel = page.getByRole('complementary', { name: 'Assistant' });
    await panel.getByLabel('Message the assistant').fill('Please delete everything');
    await panel.getByLabel('Message the assistant').press('Enter');
    const card = panel.getByRole('group', { name: 'Approval needed' });
    await expect.poll(() => card.innerText(), { timeout: 30_000 }).toContain('rm -rf ~/*');
    await card.getByRole('button', { name: 'Deny…' }).click();
    await card.getByLabel('Reason for denying (optional)').fill('that is my only copy');
    await card.getByRole('button', { name: 'Deny', exact: true }).click();
    const answer = panel.locator('[data-role="assistant"]').last();
    await expect
      .poll(() => answer.innerText(), { timeout: 30_000 })
      .toContain('that is my only copy');
    await expect
      .poll(() => panel.locator('[data-tool="run_command"][data-status="denied"]').count())
      .toBe(1);
    const listing = await (await api('GET', '/api/workspaces/calc/files?path=.')).json();
    expect(JSON.stringify(listing)).toContain('calc.py');
  });

  it('offers inline completions as ghost text that Tab accepts', async () => {
    const providerId = (await (await api('GET', '/api/ai/providers')).json()).providers[0].id;
    await api('PUT', '/api/ai/settings', { completion: { providerId, model: 'scripted-coder' } });
    await page.reload();
    await page.getByRole('treeitem', { name: 'calc.py', exact: true }).click();
    const editor = page.locator('.monaco-editor').first();
    await editor.waitFor();
    await editor.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('\ndef mul(a, b):\n    return ');
    const ghost = page.locator('.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text');
    // Monaco renders spaces as no-break spaces.
    const shown = async () => (await ghost.first().innerText()).replace(/\u00a0/g, ' ');
    await expect.poll(shown, { timeout: 15_000 }).toContain('a * b');
    await page.screenshot({ path: `${SCREENSHOTS}assistant-ghost-text.png` });
    await page.keyboard.press('Tab');
    await expect
      .poll(async () =>
        (await page.locator('.monaco-editor .view-lines').first().innerText()).replace(
          /\u00a0/g,
          ' ',
        ),
      )
      .toContain('return a * b');
    const request = llm.requests.findLast((candidate) => candidate.api === 'openai-completions')!;
    expect(request.body.prompt).toMatch(/def mul\(a, b\):\n\s+return $/);
  });

  it('applies a code block to the function it rewrites, not to the whole file', async () => {
    await page.keyboard.press('Control+s');
    await page.getByLabel('unsaved changes').waitFor({ state: 'detached' });
    const panel = await openAssistant();
    await panel.getByRole('button', { name: 'Chat' }).click();
    await panel.getByLabel('Message the assistant').fill('Give add a docstring');
    await panel.getByRole('button', { name: 'Send' }).click();
    const reply = panel.locator('[data-role="assistant"]').last();
    await reply.getByText('The sum of a and b').waitFor({ timeout: 30_000 });
    await reply.getByRole('button', { name: 'Apply to file' }).click();
    const dialog = page.getByRole('dialog', { name: 'Apply to calc.py' });
    await dialog.waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${SCREENSHOTS}assistant-apply-region.png` });
    await dialog.getByRole('button', { name: 'Accept' }).click();
    // The function took the docstring; the rest of the file is as it was.
    const text = async () =>
      (await page.getByTestId('code-editor').locator('.view-lines').innerText()).replace(
        /\u00a0/g,
        ' ',
      );
    await expect.poll(text).toContain('    """The sum of a and b."""\n    return a + b');
    expect((await text()).match(/def add/g)).toHaveLength(1);
    expect(await text()).toMatch(/def mul\(a, b\):\n\s+return a \* b/);
  });

  it('says once why inline completions stopped, and stops asking', async () => {
    // No completion model: the chat model is asked, and its endpoint has no completions.
    for (const scope of ['user', 'organization'])
      await api('PUT', '/api/ai/settings', { scope, completion: null });
    completionsDown = true;
    await page.reload();
    await page.getByRole('tab', { name: 'calc.py' }).click();
    await page.locator('.monaco-editor').first().click();
    await page.keyboard.press('Control+End');
    const asked = () => llm.requests.filter((request) => request.api === 'openai-completions');
    const before = asked().length;
    await page.keyboard.type('\n\ndef sub(a, b):\n    return ');
    const notice = page.getByRole('status').filter({ hasText: 'Inline completions are paused' });
    await expect
      .poll(() => notice.innerText(), { timeout: 15_000 })
      .toMatch(
        /No completion model is set, so completions asked the chat model \(scripted-coder\)/,
      );
    await page.screenshot({ path: `${SCREENSHOTS}assistant-completions-paused.png` });
    // More pauses in typing ask nothing more.
    await page.keyboard.type('a');
    await page.waitForTimeout(600);
    await page.keyboard.type(' - b');
    await page.waitForTimeout(600);
    expect(asked().length - before).toBe(1);
    completionsDown = false;
    await notice.getByRole('button', { name: 'Try again' }).click();
    await notice.waitFor({ state: 'detached' });
  });

  it('keeps every tool call in the audit log, with who decided', async () => {
    await page.goto(`${server.origin}/audit`);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByLabel('Action').fill('agent.tool.');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.getByRole('row').count()).toBeGreaterThanOrEqual(5);
    const table = await page.getByRole('table').innerText();
    expect(table).toContain('agent.tool.run_command');
    expect(table).toContain('agent.tool.write_file');
    expect(table).toContain('denied');
    await page
      .getByRole('button', { name: /^Details of agent\.tool\.run_command/ })
      .first()
      .click();
    await page.getByText('that is my only copy').waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}audit.png` });
  });
});
