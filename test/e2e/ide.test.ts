import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { setUpAdmin, startServer, type ServerProcess } from './server-process.ts';

/** Language servers on this machine's PATH (local workspaces see it); CI installs both. */
const onPath = (name: string) =>
  (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, name)));
const servers = {
  python: onPath('pylsp') || process.env.CI === 'true',
  typescript: onPath('typescript-language-server') || process.env.CI === 'true',
  // Debian's python3-debugpy, for the debugger (CI installs it too).
  debugpy: existsSync('/usr/lib/python3/dist-packages/debugpy') || process.env.CI === 'true',
};

let server: ServerProcess;
let browser: Browser;
let page: Page;
/** Every URL the page asked for: documents, scripts, workers, fetches and WebSockets. */
const requested: string[] = [];
/** The sizes the page sent to terminals, in order, each after the number of its socket. */
const resizes: string[] = [];
let sockets = 0;

beforeAll(async () => {
  // The local driver runs workspaces as processes on this machine: no Docker needed.
  server = await startServer({ STUDIO_RUNTIME: 'local' });
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  context.on('request', (request) => requested.push(request.url()));
  page = await context.newPage();
  page.on('websocket', (socket) => {
    requested.push(socket.url());
    const number = ++sockets;
    socket.on('framesent', ({ payload }) => {
      if (typeof payload === 'string' && payload.includes('"resize"'))
        resizes.push(`${number} ${payload}`);
    });
  });
  await setUpAdmin(page, server, {
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    password: 'analytical engine',
  });
});

afterEach(async ({ task }) => {
  if (task.result?.state === 'fail')
    await page.screenshot({
      path: `${SCREENSHOTS}ide-failed-${task.name.slice(0, 30).replace(/\W+/g, '-')}.png`,
    });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Call the API with the page's session cookie (and its Origin, which the CSRF check wants). */
function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, data?: unknown) {
  return page.request.fetch(`${server.origin}${path}`, {
    method,
    data,
    headers: { origin: server.origin },
  });
}

/** What the terminal shows right now, as text. */
function terminalText(): Promise<string> {
  return page.locator('.xterm-rows').first().innerText();
}

describe('the IDE', () => {
  it('creates, edits and saves a file, runs it in a terminal, and keeps the terminal across a reload', async () => {
    expect((await api('POST', '/api/workspaces', { name: 'ide-demo' })).status()).toBe(201);
    const row = page.getByRole('row').filter({ hasText: 'ide-demo' });
    await expect.poll(() => row.innerText(), { timeout: 30_000 }).toMatch(/Running/);
    await page.screenshot({ path: `${SCREENSHOTS}dashboard-open.png` });

    await page.getByRole('link', { name: 'Open ide-demo' }).click();
    await page.waitForURL(/\/w\/ide-demo$/);
    await page.getByRole('heading', { name: 'ide-demo', level: 1 }).waitFor();

    // A new file through the tree: it is created on disk and opens in the editor.
    await page.getByRole('button', { name: 'New file' }).click();
    await page.getByRole('textbox', { name: 'New file name' }).fill('hello.py');
    await page.keyboard.press('Enter');
    await page.getByRole('treeitem', { name: 'hello.py' }).waitFor();
    await page.getByRole('tab', { name: 'hello.py' }).waitFor();

    const editor = page.locator('.monaco-editor').first();
    await editor.waitFor();
    await editor.click();
    await page.keyboard.type('print("hello from the IDE")');
    await page.getByLabel('unsaved changes').waitFor();
    await page.keyboard.press('Control+s');
    await page.getByLabel('unsaved changes').waitFor({ state: 'detached' });
    await expect
      .poll(
        async () =>
          (await (await api('GET', '/api/workspaces/ide-demo/files/content?path=hello.py')).json())
            .content,
      )
      .toBe('print("hello from the IDE")');

    // Someone else changes the file while there are unsaved edits: the change joins them, and
    // a save writes both.
    await page.keyboard.press('End');
    await page.keyboard.type('  # mine');
    const elsewhere = await api('PUT', '/api/workspaces/ide-demo/files/content', {
      path: 'hello.py',
      content: '# from elsewhere\nprint("hello from the IDE")',
    });
    expect(elsewhere.status()).toBe(200);
    await expect
      .poll(async () =>
        // Monaco renders spaces as no-break spaces.
        (await page.locator('.monaco-editor .view-lines').first().innerText()).replace(
          /\u00a0/g,
          ' ',
        ),
      )
      .toBe('# from elsewhere\nprint("hello from the IDE")  # mine');
    await page.keyboard.press('Control+s');
    await page.getByLabel('unsaved changes').waitFor({ state: 'detached' });
    const merged = '# from elsewhere\nprint("hello from the IDE")  # mine';
    await expect
      .poll(
        async () =>
          (await (await api('GET', '/api/workspaces/ide-demo/files/content?path=hello.py')).json())
            .content,
      )
      .toBe(merged);

    await page.getByRole('button', { name: 'New terminal' }).click();
    await page.locator('.xterm').first().waitFor();
    // Wait for the prompt, so the shell reads what is typed.
    await expect.poll(terminalText, { timeout: 15_000 }).toMatch(/\S/);
    await page.locator('.xterm').first().click();
    await page.keyboard.type('python3 hello.py\n');
    await expect.poll(terminalText, { timeout: 15_000 }).toMatch(/^hello from the IDE$/m);
    await page.screenshot({ path: `${SCREENSHOTS}ide.png` });
    // The tab says what runs in the terminal while it runs, then only its name again (the shell
    // itself, "/bin/bash" or "-bash" to node-pty, is not named twice).
    const terminalTabs = page.getByRole('tablist', { name: 'Terminals' });
    await page.keyboard.type('sleep 4\n');
    await terminalTabs.getByRole('tab', { name: /· sleep/ }).waitFor({ timeout: 10_000 });
    await expect
      .poll(() => terminalTabs.getByRole('tab').first().innerText(), { timeout: 15_000 })
      .not.toMatch(/·/);

    // After a reload the page attaches to the same shell and its scrollback is replayed.
    await page.reload();
    await page.locator('.xterm').first().waitFor();
    await expect.poll(terminalText, { timeout: 15_000 }).toMatch(/^hello from the IDE$/m);
    expect(await page.getByRole('tablist', { name: 'Terminals' }).getByRole('tab').count()).toBe(1);
    // The open tab came back with the saved text, not a stale draft.
    await expect
      // Monaco renders spaces as no-break spaces.
      .poll(async () =>
        (await page.locator('.monaco-editor .view-lines').first().innerText()).replace(
          /\u00a0/g,
          ' ',
        ),
      )
      .toBe(merged.trim());
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    await page.screenshot({ path: `${SCREENSHOTS}ide-dark.png` });

    // The terminal's size settles: no resize goes to the shell while nothing changes, at the
    // sizes people use, and a changed window sends one new size, never the same one twice.
    for (const viewport of [
      { width: 1440, height: 900 },
      { width: 1280, height: 720 },
      { width: 1366, height: 768 },
    ]) {
      await page.setViewportSize(viewport);
      await page.waitForTimeout(500);
      const settled = resizes.length;
      await page.waitForTimeout(1500);
      expect(resizes.slice(settled), `resizes at ${viewport.width}×${viewport.height}`).toEqual([]);
    }
    expect(resizes.filter((size, index) => size === resizes[index - 1])).toEqual([]);
    await page.setViewportSize({ width: 1440, height: 900 });

    // Monaco, its workers and fonts, xterm.js: all served by this server, nothing from elsewhere.
    const wsOrigin = server.origin.replace(/^http/, 'ws');
    const foreign = requested.filter(
      (url) =>
        !url.startsWith(`${server.origin}/`) &&
        !url.startsWith(`${wsOrigin}/`) &&
        !url.startsWith('data:') &&
        !url.startsWith('blob:'),
    );
    expect(foreign).toEqual([]);
    expect(requested.some((url) => /\/assets\/.*worker.*\.js$/.test(url))).toBe(true);
  });

  it('finds files and text, opens at the line, renames from the keyboard, and keeps unsaved edits', async () => {
    const lines = Array.from({ length: 40 }, (_, i) =>
      i === 24 ? 'const needle = 42;' : `// ${i + 1}`,
    );
    expect(
      (await api('POST', '/api/workspaces/ide-demo/files/mkdir', { path: 'src' })).status(),
    ).toBe(204);
    for (const [path, content] of [
      ['src/util.js', lines.join('\n')],
      ['src/other.js', '// other\n'],
    ] as const) {
      expect(
        (await api('PUT', '/api/workspaces/ide-demo/files/content', { path, content })).status(),
      ).toBe(200);
    }
    await page.reload();
    await page.getByRole('tab', { name: 'Files' }).click();
    // The new folder is listed: the workspace answers file requests (slow on a loaded CI).
    await page.getByRole('treeitem', { name: 'src', exact: true }).waitFor({ timeout: 60_000 });

    // Quick Open: fuzzy name, Enter opens.
    await page.keyboard.press('Control+p');
    const goTo = page.getByRole('combobox', { name: 'Go to file' });
    await goTo.fill('srcutil');
    await page
      .getByRole('option', { name: 'src/util.js', selected: true })
      .waitFor({ timeout: 60_000 });
    await goTo.press('Enter');
    await page.getByRole('tab', { name: 'util.js' }).waitFor();

    // Search in files: the hit opens its file at the line.
    await page.getByRole('tab', { name: 'hello.py' }).click();
    await page.getByRole('tab', { name: 'Search' }).click();
    await page.getByRole('textbox', { name: 'Search in files' }).fill('needle');
    await page.keyboard.press('Enter');
    // The match is marked in the result and selected in the editor (the cursor ends after it).
    await page.locator('mark', { hasText: 'needle' }).waitFor();
    await page.getByText('const needle = 42;').click();
    await expect
      .poll(() => page.locator('.monaco-editor .active-line-number').first().innerText())
      .toBe('25');
    await page
      .getByRole('contentinfo', { name: 'Status bar' })
      .getByText('Ln 25, Col 13')
      .waitFor();

    // The tree from the keyboard: into src, F2 renames; onto an existing name is refused.
    await page.getByRole('tab', { name: 'Files' }).click();
    // Quick Open's file was revealed: src is open. A click on a folder closes or opens it and
    // selects it; the arrows take it from there.
    const src = page.getByRole('treeitem', { name: 'src', exact: true });
    await expect.poll(() => src.getAttribute('aria-expanded')).toBe('true');
    await src.click();
    await page.getByRole('treeitem', { name: 'util.js' }).waitFor({ state: 'detached' });
    await src.click();
    await page.getByRole('treeitem', { name: 'util.js' }).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('F2');
    // The name is typed in place; a refusal stays in the field with the reason.
    const rename = page.getByRole('textbox', { name: 'Rename util.js' });
    await expect
      .poll(() =>
        rename.evaluate((input) => (input as { selectionEnd: number | null }).selectionEnd),
      )
      .toBe(4);
    await page.keyboard.type('other');
    await page.keyboard.press('Enter');
    await expect
      .poll(() =>
        page
          .getByRole('alert')
          .filter({ hasText: /already exists/i })
          .count(),
      )
      .toBe(1);
    await rename.fill('helpers.js');
    await page.keyboard.press('Enter');
    await page.getByRole('treeitem', { name: 'helpers.js' }).waitFor();
    // The open tab follows the file.
    await page.getByRole('tab', { name: 'helpers.js' }).waitFor();

    // Unsaved edits survive a reload, still marked unsaved.
    await page.getByRole('tab', { name: 'helpers.js' }).click();
    await page.locator('.monaco-editor').first().click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.type('// draft kept ');
    await page.getByLabel('unsaved changes').waitFor();
    await page.reload();
    await page.getByRole('tab', { name: 'helpers.js' }).click();
    await page.getByLabel('unsaved changes').waitFor();
    await expect
      .poll(async () =>
        (await page.locator('.monaco-editor .view-lines').first().innerText()).replace(
          /\u00a0/g,
          ' ',
        ),
      )
      .toMatch(/^\/\/ draft kept \/\/ 1/);

    // Shown or not, a tab with a draft is marked unsaved after a reload.
    await page.getByRole('tab', { name: 'hello.py' }).click();
    await page.reload();
    await page.getByRole('tab', { name: 'hello.py' }).waitFor();
    await page
      .getByRole('tab', { name: /helpers\.js/ })
      .getByLabel('unsaved changes')
      .waitFor();

    // A draft whose folder was deleted stays reachable, and saving offers to recreate the folder.
    expect(
      (await api('POST', '/api/workspaces/ide-demo/files/mkdir', { path: 'gone' })).status(),
    ).toBe(204);
    await api('PUT', '/api/workspaces/ide-demo/files/content', {
      path: 'gone/note.txt',
      content: 'on disk\n',
    });
    // (A string, run in the page: the tests compile without the DOM's types.)
    const draft = { content: 'kept after the folder went\n', baseVersion: 'v-old' };
    await page.evaluate(
      `localStorage.setItem('studio.ide.draft.ide-demo:gone/note.txt', ${JSON.stringify(JSON.stringify(draft))})`,
    );
    expect(
      (await api('DELETE', '/api/workspaces/ide-demo/files?path=gone&recursive=true')).status(),
    ).toBe(204);
    await page.reload();
    await page.reload();
    await page.getByRole('tab', { name: /note\.txt/ }).click();
    await page.getByText('gone/note.txt is no longer on disk').waitFor();
    await page.locator('.monaco-editor').first().click();
    await page.keyboard.press('Control+s');
    const missing = page.getByRole('dialog', { name: 'Could not save gone/note.txt' });
    await missing.getByRole('button', { name: 'Recreate folder and save' }).click();
    await expect
      .poll(async () => {
        const saved = await api('GET', '/api/workspaces/ide-demo/files/content?path=gone/note.txt');
        return saved.ok() ? ((await saved.json()) as { content: string }).content : null;
      })
      .toBe('kept after the folder went\n');
    await page
      .getByRole('tab', { name: /note\.txt/ })
      .getByLabel('unsaved changes')
      .waitFor({ state: 'detached' });
  });

  it('moves a file by dragging it onto a folder, and uploads files dropped from the desktop', async () => {
    const content = async (path: string) => {
      const response = await api('GET', `/api/workspaces/ide-demo/files/content?path=${path}`);
      return response.ok() ? ((await response.json()) as { content: string }).content : null;
    };
    await page.getByRole('tab', { name: 'Files' }).click();
    await page.getByRole('treeitem', { name: 'src' }).waitFor();
    // The folder the last test recreated, first in the tree: on a busy machine its watch event
    // can arrive mid-drag and move every row below it, dropping hello.py on the wrong one.
    await page.getByRole('treeitem', { name: 'gone' }).waitFor();
    await page
      .getByRole('treeitem', { name: 'hello.py' })
      .dragTo(page.getByRole('treeitem', { name: 'src' }));
    // The move is a request, then a watch event; a busy CI machine takes more than a second.
    await expect
      .poll(() => content('src/hello.py'), { timeout: 10_000 })
      .toBe('# from elsewhere\nprint("hello from the IDE")  # mine');
    expect(await content('hello.py')).toBeNull();

    // What a file dragged in from the desktop looks like to the page.
    // (A string, run in the page: the tests compile without the DOM's types.)
    const desktop = await page.evaluateHandle(`(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['dropped from the desktop\\n'], 'notes.txt'));
      return transfer;
    })()`);
    await page
      .getByRole('tree', { name: 'Files' })
      .dispatchEvent('drop', { dataTransfer: desktop });
    await page.getByRole('treeitem', { name: 'notes.txt' }).waitFor();
    expect(await content('notes.txt')).toBe('dropped from the desktop\n');
  });

  it('initializes a repository from the Git panel and follows git run in a terminal', async () => {
    await page.getByRole('tab', { name: 'Git' }).click();
    await page.getByText('No git repository in this workspace.').waitFor();
    await page.getByRole('button', { name: 'Initialize repository' }).click();
    const changes = page.getByRole('region', { name: 'Changes', exact: true });
    await changes.getByText('notes.txt').waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}ide-git-initialized.png` });

    // A commit made in a terminal shows at once (the panel polls only every 30 s).
    await page.locator('.xterm').first().click();
    await page.keyboard.type(
      'git add -A && git -c user.name=Ada -c user.email=ada@example.com commit -qm first\n',
    );
    await page.getByText('No changes. The working tree is clean.').waitFor({ timeout: 10_000 });
    await page.keyboard.type('echo more >> notes.txt\n');
    await changes.getByText('notes.txt').waitFor({ timeout: 10_000 });
    await page.getByRole('tab', { name: 'Files' }).click();
  });

  it('has a status bar: branch, problems, line and column, indentation and language', async () => {
    const put = (path: string, content: string) =>
      api('PUT', '/api/workspaces/ide-demo/files/content', { path, content });
    await put('calc.py', '');
    await put('bad.json', '{"a": }\n');
    const status = page.getByRole('contentinfo', { name: 'Status bar' });
    await page.getByRole('treeitem', { name: 'calc.py' }).click();
    await expect.poll(() => status.innerText(), { timeout: 10_000 }).toMatch(/Spaces: 4\s+Python/);
    // The home became a repository in the Git panel: its branch is shown.
    expect(await status.innerText()).toMatch(/^(main|master)/);
    await page.locator('.monaco-editor').first().click();
    await page.keyboard.type('def f():\n');
    await expect.poll(() => status.innerText(), { timeout: 10_000 }).toMatch(/Ln 2, Col 5/);
    // Python indents 4: the new line is indented by four spaces.
    await page.keyboard.type('pass');
    await page.keyboard.press('Control+s');
    await expect
      .poll(
        async () =>
          (await (await api('GET', '/api/workspaces/ide-demo/files/content?path=calc.py')).json())
            .content,
      )
      .toBe('def f():\n    pass');

    // .editorconfig wins over the language's custom.
    await put('.editorconfig', 'root = true\n[*.py]\nindent_style = tab\ntab_width = 8\n');
    await put('tabs.py', '');
    await page.getByRole('treeitem', { name: 'tabs.py' }).click();
    await expect
      .poll(() => status.innerText(), { timeout: 10_000 })
      .toMatch(/Tab Size: 8\s+Python/);

    // Problems of the file: Monaco's JSON service finds the syntax error.
    await page.getByRole('treeitem', { name: 'bad.json' }).click();
    await expect
      .poll(() => status.getByLabel(/errors/).getAttribute('aria-label'), { timeout: 15_000 })
      .toMatch(/^[1-9]\d* errors/);
    await page.screenshot({ path: `${SCREENSHOTS}ide-status-bar.png` });

    // Ctrl+Shift+P lists every command with its keys: the IDE's and the editor's.
    await page.locator('.monaco-editor').first().click();
    await page.keyboard.press('Control+Shift+P');
    const palette = page.getByRole('dialog', { name: 'Command palette' });
    const commands = palette.getByRole('option');
    await expect.poll(() => commands.count()).toBeGreaterThan(20);
    await palette.getByRole('combobox').fill('go to line/column');
    await expect.poll(() => commands.first().innerText()).toMatch(/Go to Line.*Ctrl\+G/s);
    await palette.getByRole('combobox').fill('file: save');
    await expect.poll(() => commands.first().innerText()).toMatch(/File: Save\s+Ctrl\+S/);
    await page.screenshot({ path: `${SCREENSHOTS}ide-command-palette.png` });
    await palette.getByRole('combobox').fill('show source control');
    await page.keyboard.press('Enter');
    await palette.waitFor({ state: 'detached' });
    await page.getByRole('region', { name: 'Source control' }).waitFor();
    await page.getByRole('tab', { name: 'Files' }).click();
  });

  it.runIf(servers.python)(
    'speaks to a language server in the workspace: problems as you type, hover, go to definition, rename across files',
    async () => {
      const put = (path: string, content: string) =>
        api('PUT', '/api/workspaces/ide-demo/files/content', { path, content });
      await put('lib.py', 'def greet(name):\n    """Say hello."""\n    return "hi " + name\n');
      await put('main.py', 'from lib import greet\n\nprint(greet("ada"))\n');
      const status = page.getByRole('contentinfo', { name: 'Status bar' });
      await page.getByRole('treeitem', { name: 'main.py' }).click();
      await status.getByLabel(/Language server: pylsp ready/).waitFor({ timeout: 30_000 });

      // An error typed shows as a problem, and goes when it is fixed.
      const editor = page.locator('.monaco-editor').first();
      await editor.click();
      await page.keyboard.press('Control+End');
      await page.keyboard.type('print(nope)');
      const problems = status.getByLabel(/errors/);
      await expect
        .poll(() => problems.getAttribute('aria-label'), { timeout: 10_000 })
        .toMatch(/^1 errors/);
      // The tree marks the file (and would mark its folders).
      await page.getByRole('treeitem', { name: 'main.py' }).getByLabel('1 problems').waitFor();
      await page.screenshot({ path: `${SCREENSHOTS}ide-lsp-problem.png` });
      // The Problems panel lists it; a click goes to its line.
      await problems.click();
      const panel = page.getByRole('region', { name: 'Problems' });
      await panel.getByText("undefined name 'nope'").click();
      await expect.poll(() => status.innerText()).toMatch(/Ln 4, Col 1\b/);
      await page.screenshot({ path: `${SCREENSHOTS}ide-problems-panel.png` });
      // At a laptop's size the sidebar's tabs and the status bar still fit.
      await page.setViewportSize({ width: 1280, height: 720 });
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${SCREENSHOTS}ide-problems-laptop.png` });
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.getByRole('tab', { name: 'Files' }).click();
      await page.locator('.monaco-editor').first().click();
      await page.keyboard.press('Control+End');
      for (let i = 0; i < 'nope)'.length; i++) await page.keyboard.press('Backspace');
      await page.keyboard.type('"fixed")');
      await expect
        .poll(() => problems.getAttribute('aria-label'), { timeout: 10_000 })
        .toMatch(/^0 errors/);

      // Hover over greet (line 3): its signature and docstring.
      await page.keyboard.press('Control+Home');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowRight');
      await page.keyboard.press('Control+K');
      await page.keyboard.press('Control+I');
      const hover = page.locator('.monaco-hover').filter({ hasText: 'Say hello' });
      await hover.waitFor({ timeout: 10_000 });
      await page.screenshot({ path: `${SCREENSHOTS}ide-lsp-hover.png` });
      await page.keyboard.press('Escape');

      // F12 goes to the definition in the other file, in its own tab.
      await page.keyboard.press('F12');
      await page.getByRole('tab', { name: 'lib.py', selected: true }).waitFor({ timeout: 10_000 });
      await expect.poll(() => status.innerText()).toMatch(/Ln 1, Col/);

      // F2 renames across files: the open one is edited (unsaved), the closed one written.
      await page.getByRole('button', { name: 'Close lib.py' }).click();
      await page.getByRole('tab', { name: 'main.py' }).click();
      await page.locator('.monaco-editor').first().click();
      await page.keyboard.press('Control+Home');
      for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
      await page.keyboard.press('F2');
      const renameBox = page.locator('.monaco-editor .rename-box input');
      await renameBox.waitFor({ timeout: 10_000 });
      await renameBox.fill('welcome');
      await renameBox.press('Enter');
      await expect
        .poll(async () =>
          (await page.getByTestId('code-editor').locator('.view-lines').innerText()).replace(
            /\u00a0/g,
            ' ',
          ),
        )
        .toMatch(/from lib import welcome\n+print\(welcome\("ada"\)\)/);
      await expect
        .poll(
          async () =>
            (await (await api('GET', '/api/workspaces/ide-demo/files/content?path=lib.py')).json())
              .content,
        )
        .toMatch(/^def welcome\(name\):/);
    },
  );

  it.runIf(servers.typescript)(
    'checks TypeScript as you type, with hover, go to definition, workspace symbols (Ctrl+T) and a quick fix',
    async () => {
      const put = async (path: string, content: string) => {
        const body = { path, content, createParents: true };
        const response = await api('PUT', '/api/workspaces/ide-demo/files/content', body);
        expect(response.status()).toBe(200);
      };
      await put(
        'web/util.ts',
        '/** Twice n. */\nexport function double(n: number): number {\n  return n * 2;\n}\n',
      );
      await put('web/app.ts', "import { double } from './util';\n\nconst x: number = double(2);\n");
      await page.keyboard.press('Control+p');
      await page.getByRole('combobox', { name: 'Go to file' }).fill('web/app.ts');
      await page.getByRole('option', { name: 'web/app.ts', selected: true }).waitFor();
      await page.keyboard.press('Enter');
      const status = page.getByRole('contentinfo', { name: 'Status bar' });
      await status.getByLabel(/Language server: .* ready/).waitFor({ timeout: 30_000 });

      // A type error typed shows as a problem.
      await page.locator('.monaco-editor').first().click();
      await page.keyboard.press('Control+End');
      await page.keyboard.type('const y: string = double(3);');
      const problems = status.getByLabel(/errors/);
      await expect
        .poll(() => problems.getAttribute('aria-label'), { timeout: 15_000 })
        .toMatch(/^1 errors/);
      // One problem, not two: Monaco's own TypeScript service stepped aside for the server.
      await page.waitForTimeout(1500);
      expect(await problems.getAttribute('aria-label')).toMatch(/^1 errors/);
      await page.screenshot({ path: `${SCREENSHOTS}ide-lsp-typescript.png` });

      // Hover over double (line 3, after "const x: number = "): its signature and doc comment.
      await page.keyboard.press('Control+Home');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
      await page.keyboard.press('Control+K');
      await page.keyboard.press('Control+I');
      await page
        .locator('.monaco-hover')
        .filter({ hasText: 'double(n: number): number' })
        .first()
        .waitFor({ timeout: 10_000 });
      await page.keyboard.press('Escape');
      await page.keyboard.press('F12');
      await page.getByRole('tab', { name: 'util.ts', selected: true }).waitFor({ timeout: 10_000 });

      // Ctrl+T finds a symbol of the workspace and opens it at its line.
      await page.getByRole('tab', { name: 'app.ts' }).click();
      await page.keyboard.press('Control+t');
      const symbols = page.getByRole('combobox', { name: 'Go to symbol in workspace' });
      await symbols.fill('double');
      await page
        .getByRole('option', { name: /double\s+web\/util\.ts:2/ })
        .waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      await page.getByRole('tab', { name: 'util.ts', selected: true }).waitFor();
      await expect.poll(() => status.innerText()).toMatch(/Ln 2, Col 1\b/);

      // A misspelt name has a quick fix (Ctrl+.), which edits the file.
      await page.getByRole('tab', { name: 'app.ts' }).click();
      await page.locator('.monaco-editor').first().click();
      await page.keyboard.press('Control+End');
      await page.keyboard.press('Enter');
      await page.keyboard.type('doubel(4);');
      await expect
        .poll(() => problems.getAttribute('aria-label'), { timeout: 15_000 })
        .toMatch(/^2 errors/);
      await page.keyboard.press('Home');
      await page.keyboard.press('Control+.');
      const fix = page.locator('.action-widget').getByText("Change spelling to 'double'");
      await fix.waitFor({ timeout: 10_000 });
      await fix.click();
      await expect
        .poll(async () =>
          (await page.getByTestId('code-editor').locator('.view-lines').innerText()).replace(
            /\u00a0/g,
            ' ',
          ),
        )
        .toMatch(/^double\(4\);$/m);
    },
  );

  it.runIf(servers.debugpy)(
    'debugs a Python file: breakpoints (one conditional), variables, watch, stepping, the call stack and the console',
    async () => {
      const response = await api('PUT', '/api/workspaces/ide-demo/files/content', {
        path: 'sums.py',
        content: [
          'def total(items):',
          '    result = 0',
          '    for item in items:',
          '        result += item',
          '    return result',
          '',
          'values = [3, 4, 5]',
          'answer = total(values)',
          'print("answer", answer)',
          '',
        ].join('\n'),
      });
      expect(response.status()).toBe(200);
      await page.getByRole('tab', { name: 'Files' }).click();
      await page.getByRole('treeitem', { name: 'sums.py' }).click();
      const editor = page.locator('.monaco-editor').first();
      await editor.click();
      // F9 on line 4, then a condition on it from the Run panel.
      await page.keyboard.press('Control+Home');
      for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('F9');
      await editor.locator('.studio-breakpoint').first().waitFor();
      await page.keyboard.press('Control+Shift+D');
      const run = page.getByRole('region', { name: 'Run and Debug' });
      await run.getByRole('button', { name: 'Edit condition of sums.py:4' }).click();
      await run.getByLabel('Condition of sums.py:4', { exact: true }).fill('item == 4');
      await page.keyboard.press('Enter');
      await run.getByText('if item == 4').waitFor();
      // A click in the glyph margin left of line 9 adds another.
      const margin = await editor.locator('.glyph-margin').boundingBox();
      const line9 = await editor.locator('.line-numbers', { hasText: /^9$/ }).boundingBox();
      await page.mouse.click(margin!.x + margin!.width / 2, line9!.y + line9!.height / 2);
      await run.getByRole('button', { name: 'sums.py:9', exact: true }).waitFor();
      await run.getByLabel('Add a watch expression').fill('result + item');
      await page.keyboard.press('Enter');

      // F5 debugs this file: it stops at line 4 only when item is 4.
      await editor.click();
      await page.keyboard.press('F5');
      await run.getByText(/Paused on breakpoint at sums\.py:4/).waitFor({ timeout: 30_000 });
      const variables = run.getByRole('region', { name: 'Variables' });
      await variables.getByText('item', { exact: true }).waitFor();
      expect((await variables.innerText()).replace(/\s+/g, ' ')).toMatch(/item = 4 .*result = 3/);
      const watch = run.getByRole('region', { name: 'Watch' });
      await expect.poll(() => watch.innerText()).toMatch(/result \+ item\s*=\s*7/);
      const stack = run.getByRole('region', { name: 'Call Stack' });
      expect(await stack.innerText()).toMatch(
        /total[\s\S]*sums\.py:4[\s\S]*<module>[\s\S]*sums\.py:8/,
      );
      await expect.poll(() => editor.locator('.studio-debug-line').count()).toBe(1);
      await page.screenshot({ path: `${SCREENSHOTS}ide-debug-paused.png` });
      await page.setViewportSize({ width: 1280, height: 720 });
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${SCREENSHOTS}ide-debug-paused-laptop.png` });
      await page.setViewportSize({ width: 1440, height: 900 });

      // F10 steps over to the loop's head; the console evaluates in the paused frame.
      await page.keyboard.press('F10');
      await run.getByText(/Paused on step at sums\.py:3/).waitFor({ timeout: 10_000 });
      await run.getByLabel('Evaluate in the debug console').fill('result * 10');
      await page.keyboard.press('Enter');
      const output = run.getByRole('log', { name: 'Debug console output' });
      await output.getByText('70').waitFor();

      // F5 continues to line 9; the program's output reaches the console when it ends.
      await page.keyboard.press('F5');
      await run.getByText(/Paused on breakpoint at sums\.py:9/).waitFor({ timeout: 10_000 });
      await run.getByRole('button', { name: 'Continue (F5)' }).click();
      await run.getByText(/^Ended/).waitFor({ timeout: 10_000 });
      await expect.poll(() => output.innerText()).toMatch(/answer 12/);
      await expect.poll(() => editor.locator('.studio-debug-line').count()).toBe(0);
    },
  );

  it("debugs a Node.js file with the daemon's own adapter: a breakpoint, locals, the console", async () => {
    const response = await api('PUT', '/api/workspaces/ide-demo/files/content', {
      path: 'count.js',
      content: [
        'function count(words) {',
        '  const seen = new Map();',
        '  for (const word of words) seen.set(word, (seen.get(word) ?? 0) + 1);',
        '  return seen.size;',
        '}',
        "console.log('distinct', count(['a', 'b', 'a']));",
        '',
      ].join('\n'),
    });
    expect(response.status()).toBe(200);
    await page.getByRole('tab', { name: 'Files' }).click();
    await page.getByRole('treeitem', { name: 'count.js' }).click();
    const editor = page.locator('.monaco-editor').first();
    await editor.click();
    await page.keyboard.press('Control+Home');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('F9');
    await page.keyboard.press('F5');
    const run = page.getByRole('region', { name: 'Run and Debug' });
    await run.getByText(/Paused on breakpoint at count\.js:4/).waitFor({ timeout: 30_000 });
    const variables = run.getByRole('region', { name: 'Variables' });
    await expect
      .poll(async () => (await variables.innerText()).replace(/\s+/g, ' '))
      .toMatch(/words = \(3\) \["a", "b", "a"\]/);
    await run.getByLabel('Evaluate in the debug console').fill('seen.size * 10');
    await page.keyboard.press('Enter');
    const output = run.getByRole('log', { name: 'Debug console output' });
    await output.getByText('20', { exact: true }).waitFor();
    await page.keyboard.press('F9');
    await page.keyboard.press('F5');
    await run.getByText(/^Ended/).waitFor({ timeout: 10_000 });
    await expect.poll(() => output.innerText()).toMatch(/distinct 2/);
  });

  it('shows a stopped workspace with a Start button, and comes back', async () => {
    expect((await api('POST', '/api/workspaces/ide-demo/stop')).status()).toBe(202);
    const start = page.getByRole('button', { name: 'Start workspace' });
    await start.waitFor({ timeout: 30_000 });
    await page.screenshot({ path: `${SCREENSHOTS}ide-stopped.png` });
    await start.click();
    await page.getByRole('tab', { name: 'Files' }).waitFor({ timeout: 30_000 });
    await page.getByRole('treeitem', { name: 'notes.txt' }).waitFor();
  });
});
