// Language-server metrics for `npm run bench -- lsp`: the Python server (pylsp) in a local
// workspace, spoken to through the platform (WebSocket → server → daemon → stdio), against the
// same server spoken to on its own stdio by this process, in the same run on the same file.
// - go to definition round trip, p50: what the platform adds to the server's own answer;
// - an error typed → its diagnostic back, p50: ours against the server's own.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import WebSocket from 'ws';
import { lspOverSocket } from '../test/lsp-rpc.ts';
import { percentile, spawnServer, stopServer, waitForAdmin, waitForReady } from './processes.ts';
import { apiFor } from './workspaces.ts';

export interface LspMetric {
  value: number;
  unit: string;
  baseline?: number;
  baselineUnavailable?: string;
}

const ADMIN = { email: 'bench-lsp@example.com', password: 'bench-password-0123' };
const RUNS = 20;

function log(message: string): void {
  process.stderr.write(`bench: lsp: ${message}\n`);
}

/** A 1,000-line module: functions, and calls to them at the end. */
function bigModule(): string {
  const lines: string[] = [];
  for (let i = 0; i < 330; i++) lines.push(`def f${i}(x):`, `    return x + ${i}`, '');
  lines.push('print(f7(1))');
  while (lines.length < 1000) lines.push(`print(f${lines.length % 330}(2))`);
  return `${lines.join('\n')}\n`;
}

/** What both sides answer to: a request, and notifications after a point. */
interface Speaker {
  request(method: string, params: unknown): Promise<unknown>;
  notify(method: string, params: unknown): void;
  /** When the next diagnostics for the file arrive whose count is `count`. */
  diagnostics(count: (n: number) => boolean): Promise<number>;
  close(): void;
}

async function measure(speaker: Speaker, uri: string, text: string) {
  await speaker.request('initialize', {
    processId: null,
    rootUri: uri.slice(0, uri.lastIndexOf('/')),
    capabilities: {},
  });
  speaker.notify('initialized', {});
  speaker.notify('textDocument/didOpen', {
    textDocument: { uri, languageId: 'python', version: 1, text },
  });
  await speaker.diagnostics(() => true);
  const definition: number[] = [];
  const diagnostics: number[] = [];
  // `print(f7(1))` is line 990 (0-based), `f7` at character 6.
  const line = text.split('\n').indexOf('print(f7(1))');
  for (let i = 0; i < RUNS + 3; i++) {
    const started = performance.now();
    await speaker.request('textDocument/definition', {
      textDocument: { uri },
      position: { line, character: 7 },
    });
    if (i >= 3) definition.push(performance.now() - started);
  }
  let version = 1;
  for (let i = 0; i < RUNS + 2; i++) {
    // Alternately with and without an undefined name, so each change changes the diagnostics.
    const broken = i % 2 === 0;
    const started = performance.now();
    speaker.notify('textDocument/didChange', {
      textDocument: { uri, version: ++version },
      contentChanges: [{ text: broken ? `${text}print(nope)\n` : text }],
    });
    const arrived = await speaker.diagnostics((n) => (broken ? n > 0 : n === 0));
    if (i >= 2) diagnostics.push(arrived - started);
  }
  speaker.close();
  return { definition: percentile(definition, 50), diagnostics: percentile(diagnostics, 50) };
}

/** pylsp on its own stdio, in a folder holding the same file. */
async function direct(folder: string, text: string) {
  const child = spawn('pylsp', [], { cwd: folder, stdio: 'pipe' });
  const connection = createMessageConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  const arrivals: { count: number; at: number }[] = [];
  connection.onNotification(
    'textDocument/publishDiagnostics',
    (params: { diagnostics: unknown[] }) => {
      arrivals.push({ count: params.diagnostics.length, at: performance.now() });
    },
  );
  connection.listen();
  let seen = 0;
  const uri = pathToFileURL(join(folder, 'big.py')).href;
  return measure(
    {
      request: (method, params) => connection.sendRequest(method, params),
      notify: (method, params) => void connection.sendNotification(method, params),
      async diagnostics(count) {
        for (;;) {
          const found = arrivals.slice(seen).findIndex((arrival) => count(arrival.count));
          if (found !== -1) {
            seen += found + 1;
            return arrivals[seen - 1]!.at;
          }
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      },
      close: () => {
        connection.dispose();
        child.kill();
      },
    },
    uri,
    text,
  );
}

/** The same server run in a workspace, through the platform's socket. */
async function throughPlatform(url: string, cookie: string, text: string) {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/api/workspaces/lsp/lsp/python`, {
    headers: { cookie, origin: url },
  });
  await once(socket, 'open');
  const rpc = lspOverSocket(socket);
  let seen = 0;
  return measure(
    {
      request: rpc.request,
      notify: rpc.notify,
      async diagnostics(count) {
        const note = await rpc.next(
          (candidate) =>
            candidate.method === 'textDocument/publishDiagnostics' &&
            count((candidate.params as { diagnostics: unknown[] }).diagnostics.length),
          seen,
        );
        seen = rpc.notifications.indexOf(note) + 1;
        return note.at;
      },
      close: () => socket.close(),
    },
    'file:///workspace/big.py',
    text,
  );
}

export async function measureLsp(
  tmp: string,
  serverMain: string,
): Promise<Record<string, LspMetric>> {
  if (!(process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, 'pylsp'))))
    throw new Error('lsp: pylsp is not on PATH (apt-get install python3-pylsp python3-pyflakes)');
  const text = bigModule();
  const folder = await mkdtemp(join(tmp, 'lsp-direct-'));
  await writeFile(join(folder, 'big.py'), text);
  const server = await spawnServer(serverMain, {
    STUDIO_DATA_DIR: await mkdtemp(join(tmp, 'lsp-')),
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_RUNTIME: 'local',
  });
  try {
    await waitForReady(server);
    await waitForAdmin(server);
    const api = await apiFor(server.url, ADMIN);
    await api.createAndWait('lsp');
    await api.call('PUT', '/api/workspaces/lsp/files/content', { path: 'big.py', content: text });
    log(
      `pylsp on a 1,000-line file, ${RUNS} runs each: on its own stdio, then through the platform`,
    );
    const own = await direct(folder, text);
    const ours = await throughPlatform(server.url, api.cookie, text);
    // Local workspaces outlive the server; this one must not outlive the bench.
    await api.call('DELETE', '/api/workspaces/lsp');
    await api.waitGone(['lsp']);
    log(
      `definition p50 ${ours.definition.toFixed(1)} ms (own ${own.definition.toFixed(1)}); diagnostics p50 ${ours.diagnostics.toFixed(0)} ms (own ${own.diagnostics.toFixed(0)})`,
    );
    return {
      lsp_definition_p50_ms: { value: ours.definition, unit: 'ms', baseline: own.definition },
      lsp_definition_added_ms: { value: ours.definition - own.definition, unit: 'ms' },
      lsp_diagnostics_p50_ms: { value: ours.diagnostics, unit: 'ms', baseline: own.diagnostics },
    };
  } finally {
    await stopServer(server.child);
  }
}
