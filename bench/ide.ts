// IDE metrics for `npm run bench`: cold load to a file shown in the editor, JavaScript fetched
// before the editor chunk, terminal keystroke echo through the real UI, and opening a 1 MB file,
// measured in headless chromium against our server and against code-server on the same folder in
// the same run. See bench/README.md for the exact definitions.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
  type Request,
} from 'playwright-core';
import { launchChromium } from '../test/e2e/chromium.ts';
import { ensureCodeServer, startCodeServer, CODE_SERVER_VERSION } from './code-server.ts';
import { spawnServer, stopServer, waitForReady, percentile } from './processes.ts';

/** One measured figure; `baseline` is code-server's, or `baselineUnavailable` says why not. */
export interface IdeMetric {
  value: number;
  unit: string;
  baseline?: number;
  baselineUnavailable?: string;
}

const RESULTS_DIR = fileURLToPath(new URL('results/', import.meta.url));
const ADMIN = { email: 'bench-ide@example.com', password: 'bench-password-0123' };
const WORKSPACE = 'bench-ide';
const VIEWPORT = { width: 1440, height: 900 };

// Median of 5 measured cold loads, after one unmeasured load that warms each server's own caches.
const COLD_RUNS = 5;
const ECHO_WARMUP = 10;
const ECHO_KEYSTROKES = 200;
// Characters typed per line before the line is erased (Ctrl+U), so it never wraps.
const ECHO_LINE = 20;
const ECHO_TIMEOUT_MS = 5_000;

// The first line of each file is a marker the page watches for in Monaco's rendered lines.
const SMALL_FILE = 'README.md';
const SMALL_MARKER = 'studio-bench-readme-first-line';
const BIG_FILE = 'big.txt';
const BIG_MARKER = 'studio-bench-big-first-line';
const BIG_BYTES = 1024 * 1024;

/** Our editor chunk: Monaco's core, split out by Vite and fetched when the first file opens. */
const EDITOR_CHUNK = /\/assets\/(monaco|editor\.api)-[\w-]+\.js$/;

// code-server's defaults, minus what would make it do extra work or differ from us: no welcome
// page and no chat panel on start, and xterm's DOM renderer (ours has no WebGL addon), so both
// terminals are measured the same way.
const CODE_SERVER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'terminal.integrated.gpuAcceleration': 'off',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'workbench.tips.enabled': false,
};

function log(message: string): void {
  process.stderr.write(`bench: ide: ${message}\n`);
}

/** The project both IDEs open: a few small files and one 1 MB text file. */
function projectFiles(): Record<string, string> {
  const lines = [BIG_MARKER];
  let size = BIG_MARKER.length + 1;
  for (let line = 1; size < BIG_BYTES; line++) {
    const text = `${String(line).padStart(6, '0')} the quick brown fox jumps over the lazy dog ${'.'.repeat(line % 23)}`;
    lines.push(text);
    size += text.length + 1;
  }
  return {
    [SMALL_FILE]: `# ${SMALL_MARKER}\n\nA small project for the IDE benchmark.\n`,
    'package.json': `${JSON.stringify({ name: 'bench-project', version: '1.0.0', type: 'module' }, null, 2)}\n`,
    'src/index.ts': "import { greet } from './greet.ts';\n\nconsole.log(greet('world'));\n",
    'src/greet.ts': 'export function greet(name: string): string {\n  return `hello ${name}`;\n}\n',
    [BIG_FILE]: `${lines.join('\n')}\n`.slice(0, BIG_BYTES),
  };
}

/** How one IDE is driven: where it lives and where its tree and terminal are. */
interface Target {
  name: string;
  url: string;
  /** Called on every fresh context before the page opens (signs in, for ours). */
  prepare(context: BrowserContext): Promise<void>;
  treeItem(page: Page, path: string): Locator;
  /** Opens a terminal and resolves to its `.xterm` element once the shell printed a prompt. */
  openTerminal(page: Page): Promise<Locator>;
  /** Our Monaco chunk; code-server has none of its own (Monaco is inside its workbench bundle). */
  editorChunk?: RegExp;
}

/** What one cold load measured. */
interface ColdLoad {
  loadMs: number;
  bigMs: number;
  beforeEditor?: ScriptBytes;
  toEditorReady: ScriptBytes;
  files: ScriptFile[];
}

interface ScriptFile {
  url: string;
  wire: number;
  gzip: number;
  beforeEditor: boolean;
}

interface ScriptBytes {
  wire: number;
  gzip: number;
}

/** An element, as far as the in-page code below needs one. */
interface PageElement {
  textContent: string | null;
  closest(selector: string): PageElement | null;
  querySelector(selector: string): PageElement | null;
}

type Listener = (event: { timeStamp: number }) => void;

/**
 * The page's globals the in-page code uses: the bench compiles without the DOM library, so each
 * function passed to the page casts `globalThis` to this.
 */
interface PageWindow {
  document: {
    activeElement: PageElement | null;
    querySelectorAll(selector: string): Iterable<PageElement>;
  };
  MutationObserver: new (callback: () => void) => {
    observe(target: unknown, options: object): void;
    disconnect(): void;
  };
  addEventListener(
    type: string,
    listener: Listener,
    options: boolean | { capture: boolean; once: boolean },
  ): void;
  __bench?: { shown: Record<string, number>; down: number };
  __benchEcho?: Promise<number>;
}

/**
 * Runs in the page before any of its scripts: records when each marker first shows up in any
 * Monaco `.view-lines` (performance.now(), i.e. ms since navigation start) and when the pointer
 * last went down. Checked once per mutation batch, so it sees the frame Monaco rendered in.
 */
function watchEditorLines(markers: string[]): void {
  const page = globalThis as unknown as PageWindow;
  const state = { shown: {} as Record<string, number>, down: 0 };
  page.__bench = state;
  page.addEventListener('pointerdown', (event) => (state.down = event.timeStamp), true);
  const observer = new page.MutationObserver(() => {
    const lines = page.document.querySelectorAll('.view-lines');
    for (const marker of markers) {
      if (state.shown[marker] !== undefined) continue;
      for (const element of lines) {
        if (element.textContent?.includes(marker)) {
          state.shown[marker] = performance.now();
          break;
        }
      }
    }
    if (markers.every((marker) => state.shown[marker] !== undefined)) observer.disconnect();
  });
  observer.observe(page.document, { childList: true, subtree: true, characterData: true });
}

async function waitShown(page: Page, marker: string): Promise<number> {
  const handle = await page.waitForFunction(
    (m) => (globalThis as unknown as PageWindow).__bench?.shown[m],
    marker,
    {
      timeout: 60_000,
    },
  );
  return (await handle.jsonValue()) as number;
}

/** On a failure: what the page showed, in bench/results/, for whoever reads the error. */
async function screenshotPages(context: BrowserContext, name: string): Promise<void> {
  const page = context.pages()[0];
  if (!page) return;
  const path = join(RESULTS_DIR, `ide-failure-${name}.png`);
  await page.screenshot({ path }).then(
    () => log(`screenshot of the failure: ${path}`),
    () => {},
  );
}

/** Fresh context (empty cache) → the IDE → click the small file → its first line shown; then the 1 MB file. */
async function coldLoad(browser: Browser, target: Target): Promise<ColdLoad> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    await target.prepare(context);
    await context.addInitScript(watchEditorLines, [SMALL_MARKER, BIG_MARKER]);
    const page = await context.newPage();
    const scripts: { request: Request; beforeEditor: boolean; beforeReady: boolean }[] = [];
    let editorRequested = false;
    let ready = false;
    page.on('request', (request) => {
      if (target.editorChunk?.test(request.url())) editorRequested = true;
      // blob: and data: scripts (code-server's worker bootstraps) are made in the page, not fetched.
      if (request.resourceType() !== 'script' || ready || !request.url().startsWith('http')) return;
      scripts.push({ request, beforeEditor: !editorRequested, beforeReady: true });
    });
    await page.goto(target.url, { waitUntil: 'commit' });
    await target.treeItem(page, SMALL_FILE).click({ timeout: 60_000 });
    const loadMs = await waitShown(page, SMALL_MARKER);
    ready = true;

    await target.treeItem(page, BIG_FILE).click();
    const bigShown = await waitShown(page, BIG_MARKER);
    const down = await page.evaluate(
      () => (globalThis as unknown as PageWindow).__bench?.down ?? NaN,
    );

    const files: ScriptFile[] = [];
    for (const script of scripts) {
      const response = await script.request.response();
      if (!response) continue;
      const sizes = await script.request.sizes();
      const body = await response.body().catch(() => Buffer.alloc(0));
      files.push({
        url: script.request.url(),
        // -1 when the browser does not know (served from a worker's own fetch).
        wire: Math.max(0, sizes.responseBodySize),
        gzip: gzipSync(body).length,
        beforeEditor: script.beforeEditor,
      });
    }
    const sum = (list: ScriptFile[]) => ({
      wire: list.reduce((total, file) => total + file.wire, 0),
      gzip: list.reduce((total, file) => total + file.gzip, 0),
    });
    if (target.editorChunk && !editorRequested) {
      throw new Error(`${target.name}: no request matched the editor chunk ${target.editorChunk}`);
    }
    return {
      loadMs,
      bigMs: bigShown - down,
      ...(target.editorChunk ? { beforeEditor: sum(files.filter((f) => f.beforeEditor)) } : {}),
      toEditorReady: sum(files),
      files,
    };
  } catch (error) {
    await screenshotPages(context, `${target.name}-cold-load`);
    throw error;
  } finally {
    // Unload first, so code-server's window says goodbye and its server ends that session.
    for (const page of context.pages()) await page.close({ runBeforeUnload: true });
    await context.close();
  }
}

/**
 * Types one character at a time into the terminal through the page's keyboard and times, in the
 * page, from the keydown event to the mutation of xterm's rows that shows the typed text.
 */
async function terminalEcho(browser: Browser, target: Target): Promise<number[]> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    await target.prepare(context);
    await context.addInitScript(watchEditorLines, [SMALL_MARKER]);
    const page = await context.newPage();
    await page.goto(target.url);
    await target.treeItem(page, SMALL_FILE).click({ timeout: 60_000 });
    await waitShown(page, SMALL_MARKER);
    const terminal = await target.openTerminal(page);
    await terminal.click();
    const focused = await page.evaluate(
      () =>
        (globalThis as unknown as PageWindow).document.activeElement
          ?.closest('.xterm')
          ?.querySelector('.xterm-rows') != null,
    );
    if (!focused) throw new Error(`${target.name}: the terminal has no focus or no DOM rows`);

    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const times: number[] = [];
    let line = '';
    for (let stroke = 0; stroke < ECHO_WARMUP + ECHO_KEYSTROKES; stroke++) {
      if (stroke % ECHO_LINE === 0) {
        // Erase the line and start a new one with a prefix no prompt contains, so what is
        // looked for in the rows can only be what was just typed.
        line = `qz${stroke}x`;
        // A shell still starting (code-server's shell integration) can swallow the first keys:
        // retype the prefix until it shows.
        for (let attempt = 1; ; attempt++) {
          await page.keyboard.press('Control+u');
          await page.keyboard.type(line);
          const shown = await page
            .waitForFunction(
              (text) => {
                const { document } = globalThis as unknown as PageWindow;
                const rows = document.activeElement
                  ?.closest('.xterm')
                  ?.querySelector('.xterm-rows');
                return (rows?.textContent ?? '').replace(/\u00a0/g, ' ').includes(text);
              },
              line,
              { timeout: 3_000 },
            )
            .then(
              () => true,
              () => false,
            );
          if (shown) break;
          if (attempt === 3) throw new Error(`the terminal never showed "${line}"`);
        }
      }
      const letter = letters[Math.floor(Math.random() * letters.length)]!;
      line += letter;
      await page.evaluate(
        ({ expected, timeoutMs }) => {
          const page = globalThis as unknown as PageWindow;
          const rows = page.document.activeElement?.closest('.xterm')?.querySelector('.xterm-rows');
          if (!rows) throw new Error('the terminal lost focus');
          page.__benchEcho = new Promise<number>((resolve) => {
            let keydown: number | null = null;
            // Inline and `once`: a named function here would be renamed by tsx's keepNames
            // into a `__name()` call, which does not exist in the page.
            page.addEventListener('keydown', (event) => (keydown = event.timeStamp), {
              capture: true,
              once: true,
            });
            const observer = new page.MutationObserver(() => {
              const text = (rows.textContent ?? '').replace(/\u00a0/g, ' ');
              if (keydown === null || !text.includes(expected)) return;
              const elapsed = performance.now() - keydown;
              observer.disconnect();
              resolve(elapsed);
            });
            observer.observe(rows, { childList: true, subtree: true, characterData: true });
            // Never hang the bench: a lost echo is reported with what the rows showed instead.
            setTimeout(() => {
              observer.disconnect();
              resolve(-1);
            }, timeoutMs);
          });
        },
        { expected: line, timeoutMs: ECHO_TIMEOUT_MS },
      );
      await page.keyboard.press(letter);
      const elapsed = await page.evaluate(() => (globalThis as unknown as PageWindow).__benchEcho!);
      if (elapsed < 0) {
        const shown = await terminal.locator('.xterm-rows').innerText();
        throw new Error(
          `no echo of "${line}" within ${ECHO_TIMEOUT_MS} ms; rows: ${shown.trim().slice(-300)}`,
        );
      }
      if (stroke >= ECHO_WARMUP) times.push(elapsed);
    }
    return times;
  } catch (error) {
    await screenshotPages(context, `${target.name}-terminal`);
    throw error;
  } finally {
    await context.close();
  }
}

/** Everything measured for one IDE. */
interface IdeFigures {
  coldLoadMs: number;
  openBigMs: number;
  echoP50: number;
  echoP99: number;
  beforeEditor?: ScriptBytes;
  toEditorReady: ScriptBytes;
}

async function measureTarget(browser: Browser, target: Target): Promise<IdeFigures> {
  log(`${target.name}: one unmeasured load, then ${COLD_RUNS} cold loads (fresh context each)`);
  await coldLoad(browser, target);
  const loads: ColdLoad[] = [];
  for (let run = 0; run < COLD_RUNS; run++) loads.push(await coldLoad(browser, target));
  const first = loads[0]!;
  const kb = (bytes: number) => (bytes / 1000).toFixed(1).padStart(8);
  log(`${target.name}: scripts of the first measured load (wire kB, gzip kB):`);
  for (const file of first.files) {
    const mark = target.editorChunk ? (file.beforeEditor ? ' before editor' : '') : '';
    log(`  ${kb(file.wire)} ${kb(file.gzip)}  ${file.url.replace(/^https?:\/\/[^/]+/, '')}${mark}`);
  }
  log(
    `${target.name}: terminal echo, ${ECHO_KEYSTROKES} keystrokes after ${ECHO_WARMUP} unmeasured`,
  );
  const echo = await terminalEcho(browser, target);
  const figures: IdeFigures = {
    coldLoadMs: percentile(
      loads.map((load) => load.loadMs),
      50,
    ),
    openBigMs: percentile(
      loads.map((load) => load.bigMs),
      50,
    ),
    echoP50: percentile(echo, 50),
    echoP99: percentile(echo, 99),
    ...(first.beforeEditor ? { beforeEditor: first.beforeEditor } : {}),
    toEditorReady: first.toEditorReady,
  };
  log(
    `${target.name}: cold loads ${loads.map((load) => Math.round(load.loadMs)).join(', ')} ms; ` +
      `1 MB opens ${loads.map((load) => Math.round(load.bigMs)).join(', ')} ms`,
  );
  return figures;
}

/** Minimal API client for our server, signed in as the bench admin. */
async function signedInApi(url: string) {
  const session = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  if (!session.ok) throw new Error(`POST /api/session: ${session.status} ${await session.text()}`);
  const cookie = session.headers
    .getSetCookie()
    .map((header) => header.split(';', 1)[0])
    .join('; ');
  return async (method: string, path: string, body?: unknown): Promise<string> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        cookie,
        origin: url,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text;
  };
}

async function createWorkspace(url: string, files: Record<string, string>): Promise<void> {
  const api = await signedInApi(url);
  await api('POST', '/api/workspaces', { name: WORKSPACE });
  const deadline = performance.now() + 60_000;
  for (;;) {
    const workspace = JSON.parse(await api('GET', `/api/workspaces/${WORKSPACE}`)) as {
      status: string;
      statusReason: string | null;
    };
    if (workspace.status === 'running') break;
    if (workspace.status === 'error' || performance.now() > deadline) {
      throw new Error(
        `workspace ${WORKSPACE}: ${workspace.status} ${workspace.statusReason ?? ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const [path, content] of Object.entries(files)) {
    await api('PUT', `/api/workspaces/${WORKSPACE}/files/content`, {
      path,
      content,
      createParents: true,
    });
  }
}

async function deleteWorkspace(url: string): Promise<void> {
  const api = await signedInApi(url);
  const deadline = performance.now() + 60_000;
  await api('DELETE', `/api/workspaces/${WORKSPACE}`).catch(() => {});
  while (performance.now() < deadline) {
    if (
      !(await api('GET', `/api/workspaces/${WORKSPACE}`).then(
        () => true,
        () => false,
      ))
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${WORKSPACE} was not deleted within 60 s`);
}

function studioTarget(url: string): Target {
  return {
    name: 'studio',
    url: `${url}/w/${WORKSPACE}`,
    async prepare(context) {
      // The context's request client shares its cookie jar: the page starts signed in.
      const response = await context.request.post(`${url}/api/session`, { data: ADMIN });
      if (!response.ok()) throw new Error(`POST /api/session: ${response.status()}`);
    },
    treeItem: (page, path) => page.locator(`[role="treeitem"][data-path="${path}"]`),
    async openTerminal(page) {
      await page.getByRole('button', { name: 'New terminal' }).click();
      const terminal = page.locator('.xterm').first();
      await terminal
        .locator('.xterm-rows')
        .filter({ hasText: /[$#]\s*$/ })
        .waitFor();
      return terminal;
    },
    editorChunk: EDITOR_CHUNK,
  };
}

function codeServerTarget(url: string, folder: string): Target {
  return {
    name: 'code-server',
    url: `${url}/?folder=${encodeURIComponent(folder)}`,
    prepare: async () => {},
    treeItem: (page, path) =>
      page.locator(`.explorer-folders-view [role="treeitem"][aria-label^="${path}"]`).first(),
    async openTerminal(page) {
      // The command palette lists terminal commands only once their contribution has loaded,
      // which on a busy machine can take a while: ask again rather than fail the whole column.
      for (let attempt = 1; ; attempt++) {
        await page.keyboard.press('F1');
        await page.keyboard.type('Terminal: Create New Terminal');
        try {
          await page
            .locator('.quick-input-list [role="option"]')
            .filter({ hasText: 'Terminal: Create New Terminal' })
            .first()
            .waitFor({ timeout: 10_000 });
          break;
        } catch (error) {
          await page.keyboard.press('Escape');
          if (attempt === 5) throw error;
        }
      }
      await page.keyboard.press('Enter');
      const terminal = page.locator('.terminal-wrapper .xterm').first();
      await terminal
        .locator('.xterm-rows')
        .filter({ hasText: /[$#]\s*$/ })
        .waitFor({ timeout: 30_000 });
      return terminal;
    },
  };
}

async function measureStudio(browser: Browser, tmp: string, serverMain: string) {
  log('studio: server on the local driver, workspace with the bench project');
  const server = await spawnServer(serverMain, {
    NODE_ENV: 'production',
    STUDIO_DATA_DIR: join(tmp, 'ide-studio-data'),
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_RUNTIME: 'local',
  });
  try {
    await waitForReady(server);
    await createWorkspace(server.url, projectFiles());
    const assets = await fetch(`${server.url}/`, { headers: { 'accept-encoding': 'gzip, br' } });
    log(
      `studio: index.html served with content-encoding ${assets.headers.get('content-encoding') ?? 'none'}`,
    );
    return await measureTarget(browser, studioTarget(server.url));
  } finally {
    // Workspaces outlive the server (their daemons and disks stay): delete it first.
    await deleteWorkspace(server.url).catch((error: unknown) =>
      log(`studio: could not delete ${WORKSPACE}: ${String(error)}`),
    );
    await stopServer(server.child);
  }
}

async function measureCodeServer(browser: Browser, tmp: string): Promise<IdeFigures | string> {
  const install = await ensureCodeServer();
  if (!install.ok) return install.reason;
  const folder = join(tmp, 'ide-code-server-project');
  for (const [path, content] of Object.entries(projectFiles())) {
    await mkdir(dirname(join(folder, path)), { recursive: true });
    await writeFile(join(folder, path), content);
  }
  log(`code-server ${CODE_SERVER_VERSION}: starting on ${folder}`);
  const codeServer = await startCodeServer(
    install,
    join(tmp, 'ide-code-server'),
    CODE_SERVER_SETTINGS,
  );
  try {
    return await measureTarget(browser, codeServerTarget(codeServer.url, folder));
  } catch (error) {
    log(`code-server: output:\n${codeServer.output()}`);
    throw error;
  } finally {
    await codeServer.stop();
  }
}

/** Measures our IDE and code-server's in the same run; `serverMain` is the built server. */
export async function measureIde(
  tmp: string,
  serverMain: string,
): Promise<Record<string, IdeMetric>> {
  const browser = await launchChromium();
  try {
    const ours = await measureStudio(browser, tmp, serverMain);
    let theirs: IdeFigures | string;
    try {
      theirs = await measureCodeServer(browser, tmp);
    } catch (error) {
      theirs = `failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    }
    if (typeof theirs === 'string') log(`code-server unavailable: ${theirs}`);
    const row = (value: number, unit: string, pick: (figures: IdeFigures) => number): IdeMetric =>
      typeof theirs === 'string'
        ? { value, unit, baselineUnavailable: theirs }
        : { value, unit, baseline: pick(theirs) };
    const metrics: Record<string, IdeMetric> = {
      ide_cold_load_ms: row(ours.coldLoadMs, 'ms', (f) => f.coldLoadMs),
      ide_open_1mb_ms: row(ours.openBigMs, 'ms', (f) => f.openBigMs),
      ide_terminal_echo_p50_ms: row(ours.echoP50, 'ms', (f) => f.echoP50),
      ide_terminal_echo_p99_ms: row(ours.echoP99, 'ms', (f) => f.echoP99),
      ide_js_to_editor_ready_wire_kb: row(
        ours.toEditorReady.wire / 1000,
        'kB',
        (f) => f.toEditorReady.wire / 1000,
      ),
      ide_js_to_editor_ready_gzip_kb: row(
        ours.toEditorReady.gzip / 1000,
        'kB',
        (f) => f.toEditorReady.gzip / 1000,
      ),
    };
    // code-server has no editor chunk of its own to compare with: these rows stand alone.
    if (ours.beforeEditor) {
      metrics.ide_js_before_editor_wire_kb = { value: ours.beforeEditor.wire / 1000, unit: 'kB' };
      metrics.ide_js_before_editor_gzip_kb = { value: ours.beforeEditor.gzip / 1000, unit: 'kB' };
    }
    return metrics;
  } finally {
    await browser.close();
  }
}
