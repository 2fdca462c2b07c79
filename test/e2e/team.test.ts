// Three people in one workspace, each in their own browser: Ada owns it and shares it from the
// IDE, Bob edits, Carol watches. The server enforces each role, not only the page.
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page, WebSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { setUpAdmin, signInPage, startServer, type ServerProcess } from './server-process.ts';

let server: ServerProcess;
let browser: Browser;
const people: Record<'ada' | 'bob' | 'carol', { context: BrowserContext; page: Page }> =
  {} as never;

/** A person's API call with their session (and the Origin the CSRF check wants). */
function api(page: Page, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, data?: unknown) {
  return page.request.fetch(`${server.origin}${path}`, {
    method,
    data,
    headers: { origin: server.origin },
  });
}

async function open(name: 'ada' | 'bob' | 'carol') {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  people[name] = { context, page };
  return page;
}

/** What Monaco shows, as text. */
async function editorText(page: Page): Promise<string> {
  return (await page.locator('.monaco-editor .view-lines').first().innerText()).replace(
    /\u00a0/g,
    ' ',
  );
}

beforeAll(async () => {
  server = await startServer({ STUDIO_RUNTIME: 'local' });
  browser = await launchChromium();
  const ada = await open('ada');
  await setUpAdmin(ada, server, {
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    password: 'a long team password',
  });
  const created = await api(ada, 'POST', '/api/workspaces', { name: 'team-demo' });
  expect(created.status()).toBe(201);
  for (const [name, email] of [
    ['Bob Babbage', 'bob@example.com'],
    ['Carol Shaw', 'carol@example.com'],
  ])
    expect(
      (
        await api(ada, 'POST', '/api/admin/users', {
          email,
          name,
          role: 'member',
          password: 'a long team password',
        })
      ).status(),
    ).toBe(201);
  await signInPage(await open('bob'), server, 'bob@example.com', 'a long team password');
  await signInPage(await open('carol'), server, 'carol@example.com', 'a long team password');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('a team in one workspace', () => {
  it('is shared from the IDE: an editor edits, a viewer watches, and the server holds each to their role', async () => {
    const { page: ada } = people.ada;
    await api(ada, 'PUT', '/api/workspaces/team-demo/files/content', {
      path: 'plan.md',
      content: '# Plan\n',
    });
    await ada.goto(`${server.origin}/w/team-demo`);
    await ada.getByRole('tab', { name: 'Files' }).waitFor({ timeout: 60_000 });

    // Ada shares it with Bob (editor) and Carol (viewer) from the header.
    await ada.getByRole('button', { name: 'Share' }).click();
    const dialog = ada.getByRole('dialog', { name: 'Share team-demo' });
    for (const [email, role] of [
      ['bob@example.com', 'editor'],
      ['carol@example.com', 'viewer'],
    ] as const) {
      await dialog.getByLabel('Email or team').fill(email);
      await dialog.getByLabel('Role', { exact: true }).selectOption(role);
      await dialog.getByRole('button', { name: 'Share' }).click();
      await dialog.getByLabel(`Role of ${email}`).waitFor();
    }
    await expect
      .poll(() => dialog.getByRole('list', { name: 'Members' }).innerText())
      .toMatch(/Ada Lovelace[\s\S]*Owner[\s\S]*Bob Babbage[\s\S]*Carol Shaw/);
    await ada.screenshot({ path: `${SCREENSHOTS}team-members-dialog.png` });
    await ada.keyboard.press('Escape');
    const id = (
      (await (await api(ada, 'GET', '/api/workspaces/team-demo')).json()) as { id: string }
    ).id;

    // Bob finds it under "Shared with me", opens it and edits a file.
    const { page: bob } = people.bob;
    const shared = bob.getByRole('table', { name: 'Workspaces shared with you' });
    await shared.getByText('ada@example.com · editor').waitFor();
    await bob.screenshot({ path: `${SCREENSHOTS}team-shared-dashboard.png` });
    const bobSockets: WebSocket[] = [];
    bob.on('websocket', (socket) => bobSockets.push(socket));
    await shared.getByRole('link', { name: 'Open team-demo' }).click();
    await bob.waitForURL(new RegExp(`/w/${id}$`));
    await bob.getByRole('treeitem', { name: 'plan.md' }).click({ timeout: 60_000 });
    await bob.locator('.monaco-editor').first().click();
    await bob.keyboard.press('Control+End');
    await bob.keyboard.type('- ship it (bob)\n');
    await bob.keyboard.press('Control+s');
    await bob.getByLabel('unsaved changes').waitFor({ state: 'detached' });
    await expect
      .poll(
        async () =>
          (
            (await (
              await api(ada, 'GET', '/api/workspaces/team-demo/files/content?path=plan.md')
            ).json()) as { content: string }
          ).content,
      )
      .toBe('# Plan\n- ship it (bob)\n');

    // Carol reads it but cannot type into it, and the server refuses her write all the same.
    const { page: carol } = people.carol;
    await carol.goto(`${server.origin}/w/${id}`);
    await carol.getByText('viewer, read-only').waitFor({ timeout: 60_000 });
    await carol.getByRole('treeitem', { name: 'plan.md' }).click();
    await expect.poll(() => editorText(carol)).toMatch(/ship it \(bob\)/);
    await carol.locator('.monaco-editor').first().click();
    await carol.keyboard.type('carol was here');
    await carol.getByTestId('code-editor').getByText('its files are read-only').waitFor();
    expect(await editorText(carol)).not.toMatch(/carol was here/);
    const refused = await api(carol, 'PUT', `/api/workspaces/${id}/files/content`, {
      path: 'plan.md',
      content: 'overwritten by a viewer\n',
    });
    expect(refused.status()).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(
      /needs the editor role/,
    );
    await carol.screenshot({ path: `${SCREENSHOTS}team-viewer.png` });
    // Ada sees who is in the workspace now.
    await ada
      .getByLabel(/Here now: .*Bob Babbage \(editor\).*Carol Shaw \(viewer\)/)
      .waitFor({ timeout: 30_000 });

    // A team: Ada makes one on the Users page, puts Carol in it, and shares the workspace with
    // it as editors; Carol may now write.
    await ada.goto(`${server.origin}/admin/users`);
    await ada.getByLabel('New team').fill('reviewers');
    await ada.getByRole('button', { name: 'Create team' }).click();
    const team = ada.getByRole('listitem', { name: 'Team reviewers' });
    await team.getByLabel('Add to reviewers').fill('carol@example.com');
    await team.getByRole('button', { name: 'Add' }).click();
    await team.getByText('carol@example.com').waitFor();
    await team.scrollIntoViewIfNeeded();
    await ada.screenshot({ path: `${SCREENSHOTS}team-teams.png` });
    await ada.goto(`${server.origin}/w/team-demo`);
    await ada.getByRole('button', { name: 'Share' }).click();
    await dialog.getByLabel('Email or team').fill('reviewers');
    await dialog.getByLabel('Role', { exact: true }).selectOption('editor');
    await dialog.getByRole('button', { name: 'Share' }).click();
    await dialog.getByLabel('Role of team reviewers').waitFor();
    await ada.keyboard.press('Escape');
    await expect
      .poll(async () =>
        (
          await api(carol, 'PUT', `/api/workspaces/${id}/files/content`, {
            path: 'review.md',
            content: 'looks good (carol)\n',
          })
        ).status(),
      )
      .toBe(200);

    // Taking Bob off closes his sockets on it within seconds (the file watch, the terminal).
    const open = bobSockets.filter(
      (socket) => socket.url().includes(`/api/workspaces/${id}/`) && !socket.isClosed(),
    );
    expect(open.length).toBeGreaterThan(0);
    const removedAt = Date.now();
    expect(
      (await api(ada, 'DELETE', '/api/workspaces/team-demo/members/bob@example.com')).status(),
    ).toBe(204);
    await expect
      .poll(() => open.every((socket) => socket.isClosed()), { timeout: 5_000 })
      .toBe(true);
    expect(Date.now() - removedAt).toBeLessThan(5_000);
    expect((await api(bob, 'GET', `/api/workspaces/${id}/files?path=.`)).status()).toBe(404);
  });

  it('holds each person to the quota an admin sets on the usage page, and shows what is left', async () => {
    const { page: ada } = people.ada;
    const { page: bob } = people.bob;
    await ada.goto(`${server.origin}/admin/usage`);
    await ada.getByRole('button', { name: 'Set limits of bob@example.com' }).click();
    const limits = ada.getByRole('dialog', { name: 'Limits of bob@example.com' });
    await limits.getByLabel('Running workspaces').fill('1');
    await limits.getByLabel('Memory (GiB)').fill('4');
    await limits.getByLabel('AI spend ($ a month)').fill('x');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await limits.getByText('A number, 0 or more; blank for no limit.').waitFor();
    await limits.getByLabel('AI spend ($ a month)').fill('20');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await limits.waitFor({ state: 'detached' });

    // Bob sees what is left in the create dialog; his first workspace fits, his second does not.
    await bob.goto(`${server.origin}/`);
    const create = async (name: string) => {
      await bob.getByRole('button', { name: 'New workspace' }).first().click();
      const dialog = bob.getByRole('dialog', { name: 'New workspace' });
      await dialog.getByLabel('Name').fill(name);
      return dialog;
    };
    const first = await create('bobs-app');
    await first
      .getByLabel('Quota left')
      .getByText('1 running workspace, 4 GiB of memory, $20.00 of AI this month')
      .waitFor();
    await first.getByRole('button', { name: 'Create workspace' }).click();
    await first.waitFor({ state: 'detached', timeout: 60_000 });
    const second = await create('bobs-other');
    await second.getByText('0 running workspaces, 2 GiB of memory').waitFor();
    await second.getByRole('button', { name: 'Create workspace' }).click();
    await second
      .getByText(
        'Your running workspaces quota is 1 running workspace and you use 1 running workspace; this needs 1 running workspace more.',
        { exact: false },
      )
      .waitFor();
    await bob.keyboard.press('Escape');

    // Ada sees Bob's use against his limits.
    await ada.reload();
    const row = ada.getByRole('row', { name: 'bob@example.com' });
    await row.getByText('1 / 1').waitFor();
    await row.getByText('2 GiB / 4 GiB').waitFor();
    await ada.screenshot({ path: `${SCREENSHOTS}team-quota-page.png`, fullPage: true });
    await ada.setViewportSize({ width: 1280, height: 720 });
    await ada.screenshot({ path: `${SCREENSHOTS}team-quota-page-laptop.png` });
    await ada.setViewportSize({ width: 1440, height: 900 });
  }, 120_000);

  it('shares a port with anyone through a link, until its admin revokes it', async () => {
    const { page: ada } = people.ada;
    const started = await api(ada, 'POST', '/api/workspaces/team-demo/exec', {
      command: 'sh',
      args: [
        '-c',
        'mkdir -p site && echo "<h1>Hello from team-demo</h1>" > site/index.html && setsid -f python3 -m http.server 8765 --directory site >/dev/null 2>&1',
      ],
    });
    expect(started.status()).toBe(200);
    await ada.goto(`${server.origin}/w/team-demo`);
    await ada.getByRole('tab', { name: /^Ports/ }).click({ timeout: 60_000 });
    await ada.getByRole('button', { name: 'Share port 8765' }).click({ timeout: 30_000 });
    const dialog = ada.getByRole('dialog', { name: 'Share port 8765' });
    await dialog.getByLabel('Who can open it').selectOption('public');
    await dialog.getByRole('button', { name: 'Create link' }).click();
    const field = dialog.getByLabel(/^Link \(anyone with the link\)/);
    await field.waitFor();
    const url = new URL(await field.inputValue());
    await ada.screenshot({ path: `${SCREENSHOTS}team-preview-link.png` });

    // Someone who never signed in opens it.
    const stranger = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await stranger.newPage();
    await page.goto(`${server.origin}${url.pathname}`);
    await page.getByRole('heading', { name: 'Hello from team-demo' }).waitFor();
    await dialog.getByRole('button', { name: /^Revoke the link made/ }).click();
    await dialog.getByText(/revoked/).waitFor();
    await page.reload();
    await page.getByText('This preview link does not exist, was revoked or has expired.').waitFor();
    await stranger.close();
    await ada.keyboard.press('Escape');
  }, 120_000);

  it('exports a workspace’s files from the dashboard and imports them back', async () => {
    const { page: ada } = people.ada;
    await ada.goto(`${server.origin}/`);
    const [download] = await Promise.all([
      ada.waitForEvent('download'),
      ada.getByRole('link', { name: 'Export the files of team-demo' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('team-demo.tar');
    const path = await download.path();
    expect(
      (await api(ada, 'DELETE', '/api/workspaces/team-demo/files?path=review.md')).status(),
    ).toBe(204);
    await ada.getByLabel('Archive to import into team-demo').setInputFiles({
      name: 'team-demo.tar',
      mimeType: 'application/x-tar',
      buffer: await readFile(path),
    });
    await ada.getByText('Unpacked team-demo.tar into team-demo.').waitFor();
    const review = await api(ada, 'GET', '/api/workspaces/team-demo/files/content?path=review.md');
    expect(((await review.json()) as { content: string }).content).toBe('looks good (carol)\n');
    await ada.setViewportSize({ width: 1280, height: 720 });
    await ada.screenshot({ path: `${SCREENSHOTS}team-dashboard-laptop.png` });
    await ada.setViewportSize({ width: 1440, height: 900 });
  }, 60_000);

  it('backs the server up when an admin asks, and lists the backup', async () => {
    const { page: ada } = people.ada;
    await ada.goto(`${server.origin}/admin/backups`);
    await ada.getByText('No backups yet').waitFor();
    await ada.getByRole('button', { name: 'Back up now' }).click();
    const row = ada.getByRole('row').filter({ hasText: 'finished' });
    await row.waitFor({ timeout: 30_000 });
    await ada.screenshot({ path: `${SCREENSHOTS}team-backups.png` });
    // Every workspace on the server, each with its files (none skipped), as the page says.
    const listed = (await (await api(ada, 'GET', '/api/admin/backups')).json()) as {
      backups: Array<{ state: string; workspaces: number; skipped: number }>;
    };
    expect(listed.backups).toEqual([expect.objectContaining({ state: 'finished', skipped: 0 })]);
    expect(listed.backups[0]!.workspaces).toBeGreaterThanOrEqual(1);
    expect(await row.locator('td').nth(3).innerText()).toBe(String(listed.backups[0]!.workspaces));
  }, 60_000);

  it('gives a team a model provider its people pick and nobody else sees', async () => {
    const { page: ada } = people.ada;
    expect((await api(ada, 'POST', '/api/admin/teams', { name: 'models' })).status()).toBe(201);
    expect(
      (await api(ada, 'PUT', '/api/admin/teams/models/members/bob@example.com')).status(),
    ).toBe(204);
    await ada.goto(`${server.origin}/settings#ai`);
    const form = ada.getByRole('form', { name: 'Add an AI provider' });
    await form.getByLabel('Kind').selectOption({ label: 'OpenAI-compatible' });
    await form.getByLabel('Name', { exact: true }).fill('Team models');
    await form.getByLabel('Base URL').fill('http://127.0.0.1:9/v1');
    await form.getByLabel('API key').fill('sk-team-0123456789abcd');
    await form.getByLabel('Who uses it').selectOption({ label: 'Team models' });
    await form.getByRole('button', { name: 'Add provider' }).click();
    await ada.getByText('Provider Team models added.').waitFor();

    // Bob is in the team: the provider is listed as the team's and offered for his models.
    const { page: bob } = people.bob;
    await bob.goto(`${server.origin}/settings#ai`);
    const ai = bob.locator('#ai');
    await ai.getByRole('cell', { name: 'Team models' }).first().waitFor();
    await expect
      .poll(() => ai.getByLabel('Chat provider').locator('option').allInnerTexts(), {
        timeout: 10_000,
      })
      .toContain('Team models (team models)');
    await ai.screenshot({ path: `${SCREENSHOTS}team-provider-settings.png` });
    // Carol is not: nothing of it reaches her.
    const { page: carol } = people.carol;
    const listed = await api(carol, 'GET', '/api/ai/providers');
    expect(JSON.stringify(await listed.json())).not.toContain('Team models');
  }, 60_000);
});
