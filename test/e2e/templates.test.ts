// Every language template whose toolchain this machine reaches (Debian's packages, the npm
// registry), on a real Docker workspace: its image builds, the tools it names are there at the
// versions it names, its starter project's test passes, the app runs and its preview answers
// through the platform's proxy, and its language server (where it has one) answers a hover. The
// VoltAgent template's agent starts with its workspace and answers in its preview, using its tool,
// against a scripted model (OpenAI's wire format) the person names in `.env`.
import { once } from 'node:events';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ListedTemplate } from '@studio/protocol';
import { execResult } from '../exec-events.ts';
import { lspOverSocket } from '../lsp-rpc.ts';
import { startScriptedLlm, type ScriptedLlm } from '../scripted-llm.ts';
import { SCREENSHOTS, launchChromium } from './chromium.ts';
import { dockerForTests, untilRemoved } from './docker-engine.ts';
import { setUpAdmin, startServer, type ServerProcess } from './server-process.ts';

const engine = await dockerForTests('the language templates');

/** What is run in a workspace of one template, and what it must answer. */
interface TemplateCase {
  template: string;
  /** The starter's tests, and what their output says when they pass. */
  test: { command: string; passes: RegExp };
  /** The app, started in the background, the port it serves and what its page says. */
  run: { command: string; port: number; page: RegExp };
  /** A hover on the first `word` in `file` shows `shows`. */
  hover?: { language: string; languageId: string; file: string; word: string; shows: RegExp };
}

const CASES: TemplateCase[] = [
  {
    template: 'python',
    test: { command: 'python3 -m pytest -q', passes: /1 passed/ },
    run: { command: 'python3 app.py', port: 8000, page: /Hello, world, from Python 3\.11/ },
    hover: {
      language: 'python',
      languageId: 'python',
      file: 'app.py',
      word: 'greeting(',
      shows: /The text the page shows/,
    },
  },
  {
    template: 'node',
    test: { command: 'npm test', passes: /pass 1\b/ },
    run: {
      command: 'npm start',
      port: 3000,
      page: /Hello, world, from Node\.js 24\.\d+\.\d+ and TypeScript/,
    },
    hover: {
      language: 'typescript',
      languageId: 'typescript',
      file: 'src/server.ts',
      word: 'greeting(',
      shows: /The text the page shows/,
    },
  },
  {
    template: 'go',
    test: { command: 'go test ./...', passes: /^ok\s+example\.com\/starter/m },
    run: { command: 'go run .', port: 8080, page: /Hello, world, from go1\.19/ },
    hover: {
      language: 'go',
      languageId: 'go',
      file: 'main.go',
      word: 'Greeting(',
      shows: /Greeting is the text the page shows/,
    },
  },
  {
    template: 'rust',
    test: { command: 'cargo test --offline', passes: /test result: ok\. 1 passed/ },
    run: { command: 'cargo run --offline', port: 8080, page: /Hello, world, from Rust!/ },
  },
  {
    template: 'cpp',
    test: {
      command: 'cmake -S . -B build -G Ninja && cmake --build build && ctest --test-dir build',
      passes: /100% tests passed/,
    },
    run: { command: './build/server', port: 8080, page: /Hello, world, from C\+\+20!/ },
    hover: {
      language: 'cpp',
      languageId: 'cpp',
      file: 'src/main.cpp',
      word: 'greeting("API")',
      shows: /The text the page shows/,
    },
  },
  {
    template: 'java',
    test: {
      command: "javac -d out $(find src -name '*.java') && java -cp out app.AppTest",
      passes: /AppTest passed/,
    },
    run: { command: 'java -cp out app.App', port: 8080, page: /Hello, world, from Java 17!/ },
  },
];

let server: ServerProcess;
let llm: ScriptedLlm;
let browser: Browser;
let page: Page;
let templates: ListedTemplate[];

function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, data?: unknown) {
  return page.request.fetch(`${server.origin}${path}`, {
    method,
    data,
    headers: { origin: server.origin },
    timeout: 20 * 60_000,
  });
}

/** Runs `script` with `sh -lc` in the workspace; its exit code and what it printed. */
async function run(
  workspace: string,
  script: string,
): Promise<{ code: number | null; output: string }> {
  const response = await api('POST', `/api/workspaces/${workspace}/exec`, {
    command: 'sh',
    args: ['-lc', script],
    timeoutMs: 5 * 60_000,
  });
  expect(response.status(), await response.text()).toBe(200);
  return execResult(await response.text());
}

async function waitUntilRunning(workspace: string): Promise<void> {
  await expect
    .poll(
      async () =>
        ((await (await api('GET', `/api/workspaces/${workspace}`)).json()) as { status: string })
          .status,
      // Cold, the template's image is built first (Debian packages, npm): minutes.
      { timeout: 20 * 60_000, interval: 1_000 },
    )
    .toBe('running');
}

/** The line and character of the first occurrence of `word` in `text`. */
function positionOf(text: string, word: string): { line: number; character: number } {
  const index = text.indexOf(word);
  if (index < 0) throw new Error(`"${word}" is not in the file`);
  const before = text.slice(0, index).split('\n');
  return { line: before.length - 1, character: before.at(-1)!.length + 1 };
}

async function hoverText(
  workspace: string,
  hover: NonNullable<TemplateCase['hover']>,
): Promise<string> {
  const content = await api(
    'GET',
    `/api/workspaces/${workspace}/files/content?path=${encodeURIComponent(hover.file)}`,
  );
  const { content: text } = (await content.json()) as { content: string };
  const cookies = await page.context().cookies(server.origin);
  const socket = new WebSocket(
    `${server.origin.replace('http', 'ws')}/api/workspaces/${workspace}/lsp/${hover.language}`,
    {
      headers: {
        origin: server.origin,
        cookie: cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; '),
      },
    },
  );
  await once(socket, 'open');
  try {
    const client = lspOverSocket(socket);
    await client.request('initialize', {
      processId: null,
      rootUri: 'file:///workspace',
      capabilities: {},
    });
    client.notify('initialized', {});
    const uri = `file:///workspace/${hover.file}`;
    client.notify('textDocument/didOpen', {
      textDocument: { uri, languageId: hover.languageId, version: 1, text },
    });
    // A server still loading the project answers null: ask again until it knows.
    let shown = '';
    await expect
      .poll(
        async () => {
          const answer = (await client.request('textDocument/hover', {
            textDocument: { uri },
            position: positionOf(text, hover.word),
          })) as { contents: unknown } | null;
          shown = JSON.stringify(answer?.contents ?? null);
          return shown;
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toMatch(hover.shows);
    return shown;
  } finally {
    socket.close();
  }
}

/** Each tool at the version the template names, by the template's own check command. */
async function checkTools(workspace: string, template: ListedTemplate): Promise<void> {
  expect(template.tools.length).toBeGreaterThan(0);
  for (const tool of template.tools) {
    const checked = await run(workspace, tool.check);
    expect(checked.code, `${tool.name}: ${checked.output}`).toBe(0);
    expect(checked.output, `${tool.name} ${tool.version}`).toContain(tool.version);
  }
}

/** Creates a workspace of `template`, runs `body` on it once it runs, then removes it. */
async function withWorkspace(
  template: string,
  body: (name: string, listed: ListedTemplate) => Promise<void>,
): Promise<void> {
  const listed = templates.find((item) => item.name === template);
  expect(listed, `template ${template} is listed`).toBeDefined();
  const name = `t-${template}`;
  const created = await api('POST', '/api/workspaces', { name, template });
  expect(created.status(), await created.text()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  try {
    await waitUntilRunning(name);
    // The starter project, copied into the new home by the daemon in the background (the
    // marker comes last); VoltAgent's packages take seconds.
    await expect
      .poll(async () => (await run(name, 'ls -A; ls .local/state/studio')).output, {
        timeout: 60_000,
        interval: 1_000,
      })
      .toMatch(/README\.md[\s\S]*starter-copied/);
    await checkTools(name, listed!);
    await body(name, listed!);
  } finally {
    await api('DELETE', `/api/workspaces/${name}`);
    await untilRemoved(id);
  }
}

/** The page at `port` of `workspace` through the authenticated preview proxy, until it matches. */
async function previewShows(workspace: string, port: number, shows: RegExp, timeout = 90_000) {
  await expect
    .poll(
      async () => {
        const answer = await page.request.get(`${server.origin}/w/${workspace}/p/${port}/`);
        return answer.ok() ? await answer.text() : `${answer.status()}`;
      },
      { timeout, interval: 1_000 },
    )
    .toMatch(shows);
}

describe.runIf(engine)('language templates on Docker', () => {
  beforeAll(async () => {
    // The model the VoltAgent starter talks to: on every address, and the one host port the
    // workspace firewall opens.
    llm = await startScriptedLlm({ host: '0.0.0.0', apiKey: 'sk-starter' });
    server = await startServer({
      STUDIO_RUNTIME: 'docker',
      STUDIO_DOCKER_HOST_PORTS: new URL(llm.url).port,
    });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    await setUpAdmin(page, server, {
      name: 'Barbara Liskov',
      email: 'barbara@example.com',
      password: 'substitution principle',
    });
    templates = (await (await api('GET', '/api/templates')).json()) as ListedTemplate[];
  }, 5 * 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await llm?.close();
  });

  for (const entry of CASES) {
    it(
      `${entry.template}: the image has what the template says, the starter's test passes, the app previews${entry.hover ? ', a hover answers' : ''}`,
      () =>
        withWorkspace(entry.template, async (name) => {
          const tested = await run(name, entry.test.command);
          expect(tested.output).toMatch(entry.test.passes);
          expect(tested.code, tested.output).toBe(0);

          // The app in the background, its page through the authenticated preview proxy.
          await run(name, `setsid sh -lc '${entry.run.command}' > /tmp/app.log 2>&1 < /dev/null &`);
          await previewShows(name, entry.run.port, entry.run.page);

          if (entry.hover) await hoverText(name, entry.hover);

          if (entry.template === 'go') {
            await page.goto(`${server.origin}/w/${name}`);
            await page.getByRole('treeitem', { name: 'main.go' }).click();
            await page.locator('.monaco-editor').first().waitFor();
            await page.screenshot({ path: `${SCREENSHOTS}template-go.png` });
            await page.setViewportSize({ width: 1280, height: 720 });
            await page.screenshot({ path: `${SCREENSHOTS}template-go-1280.png` });
            await page.setViewportSize({ width: 1440, height: 900 });
          }
        }),
      25 * 60_000,
    );
  }

  it(
    'voltagent: the starter agent starts with the workspace and answers in its preview, using its tool',
    () =>
      withWorkspace('voltagent', async (name) => {
        expect((await run(name, 'npm run typecheck')).code).toBe(0);
        // Started by the template's start command: the page says the model is not set up yet.
        await previewShows(name, 3141, /OPENAI_API_KEY is not set/, 120_000);

        // The person's own key and server in .env, read by the agent at each question.
        const gateway = (await run(name, "ip route | awk '/default/ {print $3}'")).output.trim();
        const written = await api('PUT', `/api/workspaces/${name}/files/content`, {
          path: '.env',
          content: `OPENAI_API_KEY=sk-starter\nOPENAI_BASE_URL=http://${gateway}:${new URL(llm.url).port}/v1\nOPENAI_MODEL=scripted-chat\n`,
        });
        expect(written.status(), await written.text()).toBe(200);
        await previewShows(name, 3141, /Model:\s+scripted-chat at http:\/\//, 60_000);

        // The model asks for the tool first, then answers with what the tool said.
        llm.respond((request) =>
          request.toolResults.length === 0
            ? { toolCalls: [{ name: 'word_count', input: { text: 'the quick brown fox' } }] }
            : { text: `The tool counted: ${request.toolResults[0]!.content}` },
        );
        await page.goto(`${server.origin}/w/${name}/p/3141/`);
        await page.getByRole('button', { name: 'Ask' }).click();
        await expect
          .poll(() => page.getByLabel('Answer').innerText(), { timeout: 60_000 })
          .toMatch(/The tool counted: \{"words":4\}/);
        await page.screenshot({ path: `${SCREENSHOTS}template-voltagent.png` });
        expect(llm.requests.at(-1)?.headers.authorization).toBe('Bearer sk-starter');
      }),
    25 * 60_000,
  );
});
