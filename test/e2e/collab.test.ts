// Two people and an agent in one file at once, each person in their own browser: everything each
// types, and what the agent changes, ends in both editors and, after one save, on disk.
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followRun } from '../run-events.ts';
import { startScriptedLlm, type ScriptedLlm } from '../scripted-llm.ts';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { setUpAdmin, signInPage, startServer, type ServerProcess } from './server-process.ts';

let server: ServerProcess;
let browser: Browser;
let llm: ScriptedLlm;
let ada: Page;
let bob: Page;

const PLAN = [
  '# Launch plan',
  '',
  'status: draft',
  '',
  '## Ada',
  '',
  '## Bob',
  '',
  '## Together',
  '',
  '## Agent',
  'owner: nobody yet',
  '',
].join('\n');

function api(page: Page, method: 'GET' | 'POST' | 'PUT', path: string, data?: unknown) {
  return page.request.fetch(`${server.origin}${path}`, {
    method,
    data,
    headers: { origin: server.origin },
  });
}

/** What Monaco shows, as text (the file fits on the screen). */
async function editorText(page: Page): Promise<string> {
  return (await page.locator('.monaco-editor .view-lines').first().innerText()).replace(
    /\u00a0/g,
    ' ',
  );
}

/** Put the cursor at the end of the line that reads `line`. */
async function caretAfter(page: Page, line: string) {
  await page.locator('.monaco-editor .view-line', { hasText: line }).first().click();
  await page.keyboard.press('End');
}

async function openPlan(page: Page, ref: string) {
  await page.goto(`${server.origin}/w/${ref}`);
  await page.getByRole('treeitem', { name: 'plan.md' }).click({ timeout: 60_000 });
  await expect.poll(() => editorText(page), { timeout: 15_000 }).toContain('# Launch plan');
}

beforeAll(async () => {
  llm = await startScriptedLlm();
  server = await startServer({ STUDIO_RUNTIME: 'local' });
  browser = await launchChromium();
  const context = () => browser.newContext({ viewport: { width: 1440, height: 900 } });
  ada = await (await context()).newPage();
  await setUpAdmin(ada, server, {
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    password: 'a long team password',
  });
  expect((await api(ada, 'POST', '/api/workspaces', { name: 'launch' })).status()).toBe(201);
  expect(
    (
      await api(ada, 'POST', '/api/admin/users', {
        email: 'bob@example.com',
        name: 'Bob Babbage',
        role: 'member',
        password: 'a long team password',
      })
    ).status(),
  ).toBe(201);
  expect(
    (
      await api(ada, 'PUT', '/api/workspaces/launch/members/bob@example.com', { role: 'editor' })
    ).status(),
  ).toBe(200);
  bob = await (await context()).newPage();
  await signInPage(bob, server, 'bob@example.com', 'a long team password');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await llm?.close();
});

describe('editing together', () => {
  it('two people and an agent edit one file at once and converge, and one save writes it all', async () => {
    await expect
      .poll(async () => (await (await api(ada, 'GET', '/api/workspaces/launch')).json()).status, {
        timeout: 60_000,
      })
      .toBe('running');
    expect(
      (
        await api(ada, 'PUT', '/api/workspaces/launch/files/content', {
          path: 'plan.md',
          content: PLAN,
        })
      ).status(),
    ).toBe(200);
    const id = ((await (await api(ada, 'GET', '/api/workspaces/launch')).json()) as { id: string })
      .id;
    await openPlan(ada, 'launch');
    await openPlan(bob, id);

    // The agent is asked to take the plan over; its edit waits for Ada's approval meanwhile.
    const provider = await (
      await api(ada, 'POST', '/api/ai/providers', {
        name: 'Local',
        kind: 'openai-compatible',
        baseUrl: llm.openaiBaseUrl,
      })
    ).json();
    await api(ada, 'PUT', '/api/ai/settings', {
      agent: { providerId: provider.id, model: 'scripted-coder' },
    });
    llm.script(
      {
        toolCalls: [
          {
            name: 'edit_file',
            input: {
              path: 'plan.md',
              oldText: 'owner: nobody yet',
              newText: 'owner: the agent, who checked every step',
            },
          },
        ],
      },
      { text: 'I took the plan over.' },
    );
    const conversation = await (
      await api(ada, 'POST', '/api/workspaces/launch/ai/conversations', {})
    ).json();
    const sent = await api(
      ada,
      'POST',
      `/api/workspaces/launch/ai/conversations/${conversation.id}/messages`,
      { text: 'take over the plan', mode: 'agent' },
    );
    expect(sent.status()).toBe(202);
    const runId = (await sent.json()).runId as string;
    let approve!: () => void;
    const approved = new Promise<void>((resolve) => (approve = resolve));
    const cookie = (await ada.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const run = followRun({
      origin: server.origin,
      cookie,
      runId,
      answer: async (event) => {
        expect(event.detail.diff).toContain('+owner: the agent, who checked every step');
        await approved;
        await api(ada, 'POST', `/api/ai/runs/${runId}/approvals/${event.callId}`, {
          decision: 'approve',
        });
      },
    });

    // Both type hundreds of keys at once: each in their own section, then on the same line. The
    // agent's edit is approved while they type.
    await caretAfter(ada, '## Ada');
    await caretAfter(bob, '## Bob');
    const adaText = ' ada was here'.repeat(5);
    const bobText = ' bob was here'.repeat(5);
    setTimeout(approve, 500);
    await Promise.all([
      ada.keyboard.type(adaText, { delay: 8 }),
      bob.keyboard.type(bobText, { delay: 8 }),
    ]);
    await caretAfter(ada, '## Together');
    await caretAfter(bob, '## Together');
    await Promise.all([
      ada.keyboard.type('Q'.repeat(150), { delay: 5 }),
      bob.keyboard.type('Z'.repeat(150), { delay: 5 }),
    ]);
    expect((await run).at(-1)).toMatchObject({ type: 'end', code: 'done' });

    await expect
      .poll(
        async () => {
          const [a, b] = [await editorText(ada), await editorText(bob)];
          return a === b && a.includes('who checked every step') ? a : null;
        },
        { timeout: 15_000 },
      )
      .not.toBeNull();
    const text = await editorText(ada);
    expect(text).toContain(`## Ada${adaText}`);
    expect(text).toContain(`## Bob${bobText}`);
    const together = text.split('\n').find((line) => line.startsWith('## Together'))!;
    expect(together.match(/Q/g)).toHaveLength(150);
    expect(together.match(/Z/g)).toHaveLength(150);
    expect(text).toContain('owner: the agent, who checked every step');

    // Everyone sees the others, named, where they are; the agent's cursor shows where it wrote.
    await caretAfter(bob, '## Bob');
    await caretAfter(ada, 'status: draft');
    await ada.keyboard.press('Home');
    const peers = ada.getByTestId('file-peers');
    await peers.getByText('Bob Babbage').waitFor();
    await peers.getByText('Agent · take over the plan').waitFor();
    await ada.locator('.yRemoteSelectionHead').first().waitFor();
    expect(await ada.locator('.yRemoteSelectionHead').count()).toBe(2);
    await ada.screenshot({ path: `${SCREENSHOTS}collab-three-cursors.png` });
    await bob.getByTestId('file-peers').getByText('Ada Lovelace').waitFor();
    // The tab and the tree say who else is in the file.
    await ada
      .getByRole('tablist', { name: 'Open files' })
      .getByLabel('Here: Bob Babbage')
      .waitFor();
    await ada
      .getByRole('treeitem', { name: /plan\.md/ })
      .getByLabel('Here: Bob Babbage')
      .waitFor();
    await bob.screenshot({ path: `${SCREENSHOTS}collab-bob.png` });

    // Ada follows Bob: her editor goes where his goes.
    await api(ada, 'PUT', '/api/workspaces/launch/files/content', {
      path: 'next.md',
      content: '# next\n',
    });
    await ada
      .getByTestId('file-peers')
      .getByRole('button', { name: /Bob Babbage/ })
      .click();
    await bob.getByRole('treeitem', { name: 'next.md' }).click();
    await ada.getByRole('tab', { name: 'next.md', selected: true }).waitFor({ timeout: 10_000 });
    await ada
      .getByTestId('file-peers')
      .getByRole('button', { name: /Bob Babbage/ })
      .click();
    await ada.getByRole('tab', { name: 'plan.md' }).click();
    await bob.getByRole('tab', { name: 'plan.md' }).click();

    // A line appended from a terminal while edits are unsaved joins them; nothing is lost.
    await ada.getByLabel('unsaved changes').first().waitFor();
    const echoed = await api(ada, 'POST', '/api/workspaces/launch/exec', {
      command: 'sh',
      args: ['-c', 'echo "appended from a terminal" >> plan.md'],
    });
    expect(echoed.status()).toBe(200);
    await expect
      .poll(() => editorText(bob), { timeout: 10_000 })
      .toContain('appended from a terminal');
    expect(await editorText(bob)).toContain(`## Bob${bobText}`);

    // One save (Bob's) writes what both see, and both editors say it is saved.
    await bob.keyboard.press('Control+s');
    await bob.getByLabel('unsaved changes').waitFor({ state: 'detached' });
    await ada.getByLabel('unsaved changes').waitFor({ state: 'detached' });
    const disk = (
      (await (
        await api(ada, 'GET', '/api/workspaces/launch/files/content?path=plan.md')
      ).json()) as { content: string }
    ).content;
    // (The editor's text on screen leaves blank lines out.)
    const lines = (text: string) => text.split('\n').filter(Boolean);
    expect(lines(disk)).toEqual(lines(await editorText(ada)));
    expect(disk).toContain('appended from a terminal\n');
  }, 180_000);

  it('over a slow link that cuts out, what each typed meanwhile arrives once and converges', async () => {
    const id = ((await (await api(ada, 'GET', '/api/workspaces/launch')).json()) as { id: string })
      .id;
    await api(ada, 'PUT', '/api/workspaces/launch/files/content', {
      path: 'lossy.md',
      content: '# lossy\n\nada:\n\nbob:\n',
    });
    // Ada's link: every message 20–150 ms late (in order, as TCP keeps it), and cut on demand:
    // open sockets closed, new ones refused, until it comes back.
    let down = false;
    const links = new Set<WebSocketRoute>();
    await ada.routeWebSocket(/\/collab\?/, (page) => {
      if (down) return page.close({ code: 1011, reason: 'link down' });
      const server = page.connectToServer();
      links.add(page);
      const laggy = (to: WebSocketRoute) => {
        let last = 0;
        return (message: string | Buffer) => {
          last = Math.max(last, Date.now() + 20 + Math.random() * 130);
          setTimeout(() => !down && to.send(message), last - Date.now());
        };
      };
      page.onMessage(laggy(server));
      server.onMessage(laggy(page));
      page.onClose(() => {
        links.delete(page);
        server.close();
      });
    });
    const openLossy = async (page: Page, ref: string) => {
      await page.goto(`${server.origin}/w/${ref}`);
      await page.getByRole('treeitem', { name: 'lossy.md' }).click({ timeout: 60_000 });
      await expect.poll(() => editorText(page), { timeout: 15_000 }).toContain('# lossy');
    };
    await openLossy(ada, 'launch');
    await openLossy(bob, id);
    await bob.getByTestId('file-peers').getByText('Ada Lovelace').waitFor();

    // Slow: both type at once.
    await caretAfter(ada, 'ada:');
    await caretAfter(bob, 'bob:');
    await Promise.all([
      ada.keyboard.type(' slow-ada'.repeat(4), { delay: 15 }),
      bob.keyboard.type(' slow-bob'.repeat(4), { delay: 15 }),
    ]);
    // Down: each keeps typing; Ada's editor says her link is down and her edits are kept.
    down = true;
    for (const link of links) link.close({ code: 1011, reason: 'link down' });
    await ada.getByText('Offline: your edits are kept').waitFor();
    await Promise.all([
      ada.keyboard.type(' offline-ada'.repeat(3), { delay: 15 }),
      bob.keyboard.type(' online-bob'.repeat(3), { delay: 15 }),
    ]);
    await ada.waitForTimeout(2_000);
    expect(await editorText(bob)).not.toContain('offline-ada');
    down = false;

    await expect
      .poll(
        async () => {
          const [a, b] = [await editorText(ada), await editorText(bob)];
          return a === b && a.includes('offline-ada') && a.includes('online-bob') ? a : null;
        },
        { timeout: 20_000 },
      )
      .not.toBeNull();
    const text = await editorText(ada);
    const count = (word: string) => text.split(word).length - 1;
    expect([
      count('slow-ada'),
      count('slow-bob'),
      count('offline-ada'),
      count('online-bob'),
    ]).toEqual([4, 4, 3, 3]);
    expect(text).toContain(`ada:${' slow-ada'.repeat(4)}${' offline-ada'.repeat(3)}`);
    expect(text).toContain(`bob:${' slow-bob'.repeat(4)}${' online-bob'.repeat(3)}`);
    await ada.getByText('Offline: your edits are kept').waitFor({ state: 'detached' });
    await ada.screenshot({ path: `${SCREENSHOTS}collab-after-reconnect.png` });
  }, 120_000);
});
