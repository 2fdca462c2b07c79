// Shared-editing metrics for `npm run bench -- collab`:
// - keystroke A → B, p50/p99: one character typed by one editor until another editor's document
//   has it, over the real path (y-websocket's client → the server's socket → the workspace's
//   daemon → the other socket), each timed alone, on loopback. Editors are y-websocket's own
//   client in this process, as the browser runs it; Monaco drawing the character is not counted.
//   Beside it, the same two sockets' plain round trip through the server to a terminal (a PTY
//   echo), in the same run.
// - 50 people typing 5 keys a second each for 10 s into one document: the slowest keystroke
//   to reach a watching editor (a stall over 100 ms anywhere on the path shows here), its p99,
//   and whether all 51 documents end the same.
// - memory of one shared 1 MB document with 5 editors who each typed 200 characters, in the
//   daemon's code (run in this process, heap and buffers after GC), against the file's size.
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CollabService } from '../packages/daemon/src/collab.ts';
import { FileService } from '../packages/daemon/src/files.ts';
import { OutStream } from '../packages/daemon/src/streams.ts';
import { WebSocket } from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { percentile, spawnServer, stopServer, waitForAdmin, waitForReady } from './processes.ts';
import { apiFor } from './workspaces.ts';

export interface CollabMetric {
  value: number;
  unit: string;
  baseline?: number;
}

const ADMIN = { email: 'bench-collab@example.com', password: 'bench-password-0123' };
const KEYSTROKES = 300;
const TYPISTS = 50;
const TYPING_S = 10;

function log(message: string): void {
  process.stderr.write(`bench: collab: ${message}\n`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await sleep(1);
  }
}

export async function measureCollab(
  tmp: string,
  serverMain: string,
): Promise<Record<string, CollabMetric>> {
  const memory = await measureMemory(tmp);
  const server = await spawnServer(serverMain, {
    STUDIO_DATA_DIR: await mkdtemp(join(tmp, 'collab-')),
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    STUDIO_RUNTIME: 'local',
  });
  const providers: WebsocketProvider[] = [];
  try {
    await waitForReady(server);
    await waitForAdmin(server);
    const admin = await apiFor(server.url, ADMIN);
    await admin.createAndWait('pair');
    const { id } = JSON.parse(await admin.call('GET', '/api/workspaces/pair')) as { id: string };
    await admin.call('PUT', '/api/workspaces/pair/files/content', {
      path: 'shared.md',
      content: '# notes\n',
    });
    const wsBase = server.url.replace(/^http/, 'ws');
    class SignedIn extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { cookie: admin.cookie, origin: server.url } });
      }
    }
    const editor = async () => {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(`${wsBase}/api/workspaces/${id}`, 'collab', doc, {
        params: { path: 'shared.md' },
        disableBc: true,
        WebSocketPolyfill: SignedIn as unknown as typeof globalThis.WebSocket,
      });
      providers.push(provider);
      await new Promise<void>((resolve) =>
        provider.on('sync', (synced: boolean) => synced && resolve()),
      );
      return doc.getText('content');
    };

    // A → B, one keystroke at a time.
    const [a, b] = [await editor(), await editor()];
    const latencies: number[] = [];
    for (let i = 0; i < KEYSTROKES; i++) {
      const length = b.length;
      const began = performance.now();
      a.insert(a.length, String.fromCharCode(97 + (i % 26)));
      await until(() => b.length > length);
      latencies.push(performance.now() - began);
      await sleep(5);
    }
    const echo = await terminalRoundTrips(wsBase, id, admin.cookie, server.url);

    // 50 typists and one watcher.
    log(`${TYPISTS} people typing ${5 * TYPING_S} keys each`);
    const watcher = await editor();
    const typists = [];
    for (let i = 0; i < TYPISTS; i++) typists.push(await editor());
    const slow: number[] = [];
    let typed = 0;
    const typing = typists.map(async (text, person) => {
      await sleep(person * 4);
      for (let key = 0; key < 5 * TYPING_S; key++) {
        const marker = `${String.fromCharCode(65 + (person % 26))}`;
        const length = watcher.length;
        const began = performance.now();
        text.insert(Math.floor(Math.random() * (text.length + 1)), marker);
        typed++;
        // Each typist waits for the watcher to grow: that time is what a person waits to see it.
        void until(() => watcher.length > length, 10_000).then(() =>
          slow.push(performance.now() - began),
        );
        await sleep(200);
      }
    });
    await Promise.all(typing);
    const all = [watcher, ...typists];
    await until(() => all.every((text) => text.length === all[0]!.length), 30_000);
    const expected = '# notes\n'.length + KEYSTROKES + typed;
    const converged = all.every((text) => text.toString() === watcher.toString());
    log(
      `typed ${typed}; watcher has ${watcher.length} of ${expected} characters; ${converged ? 'all the same' : 'DIFFERENT'}`,
    );
    if (!converged || watcher.length !== expected)
      throw new Error('the documents did not converge');

    for (const provider of providers) provider.destroy();
    await admin.call('DELETE', '/api/workspaces/pair');
    await admin.waitGone(['pair']);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    log(
      `keystroke A→B p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (terminal echo p50 ${percentile(echo, 50).toFixed(1)} ms); ` +
        `under ${TYPISTS} typists p99 ${percentile(slow, 99).toFixed(1)} ms, max ${Math.max(...slow).toFixed(1)} ms; ` +
        `1 MB document with 5 editors: ${(memory.bytes / 1e6).toFixed(2)} MB`,
    );
    return {
      collab_keystroke_p50_ms: { value: p50, unit: 'ms', baseline: percentile(echo, 50) },
      collab_keystroke_p99_ms: { value: p99, unit: 'ms', baseline: percentile(echo, 99) },
      collab_50_typists_p99_ms: { value: percentile(slow, 99), unit: 'ms' },
      collab_50_typists_max_ms: { value: Math.max(...slow), unit: 'ms' },
      collab_1mb_document_5_editors_mb: {
        value: memory.bytes / 1e6,
        unit: 'MB',
        baseline: memory.fileBytes / 1e6,
      },
    };
  } finally {
    for (const provider of providers) provider.destroy();
    await stopServer(server.child);
  }
}

/** The same loopback path's round trip without Yjs: a byte to a terminal and its echo back. */
async function terminalRoundTrips(
  wsBase: string,
  id: string,
  cookie: string,
  origin: string,
): Promise<number[]> {
  const created = await fetch(`${origin}/api/workspaces/${id}/terminals`, {
    method: 'POST',
    headers: { cookie, origin, 'content-type': 'application/json' },
    body: JSON.stringify({}),
  });
  const { id: terminal } = (await created.json()) as { id: string };
  const socket = new WebSocket(`${wsBase}/api/workspaces/${id}/terminals/${terminal}/attach`, {
    headers: { cookie, origin },
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let received = 0;
  socket.on('message', (data, binary) => {
    if (binary) received += (data as Buffer).byteLength;
  });
  await sleep(300);
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const before = received;
    const began = performance.now();
    socket.send(Buffer.from('x'), { binary: true });
    // The shell echoes the key.
    await until(() => received > before, 10_000);
    times.push(performance.now() - began);
    await sleep(5);
  }
  socket.close();
  return times;
}

/** One 1 MB document with 5 editors in the daemon's code: what it adds to the heap. */
async function measureMemory(tmp: string): Promise<{ bytes: number; fileBytes: number }> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const root = await realpath(await mkdtemp(join(tmp, 'collab-memory-')));
  const line = 'const value = compute(input, options); // a line of ordinary code\n';
  const content = line.repeat(Math.ceil(1_000_000 / line.length)).slice(0, 1_000_000);
  await writeFile(join(root, 'big.ts'), content);
  const files = new FileService(root);
  const service = new CollabService(root, files);
  // Buffers are freed by finalizers after a collection: collect until the figure settles.
  const used = async () => {
    let last = Infinity;
    for (let round = 0; round < 10; round++) {
      gc();
      await sleep(100);
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      if (Math.abs(last - (heapUsed + arrayBuffers)) < 50_000) return heapUsed + arrayBuffers;
      last = heapUsed + arrayBuffers;
    }
    return last;
  };
  /** Open `file` with 5 editors who each type 200 characters; the document stays open. */
  const openTyped = async (file: string) => {
    for (let editor = 0; editor < 5; editor++) {
      const stream = new OutStream(
        editor + 1,
        { sendBinary() {}, sendMessage() {}, pauseInput() {}, resumeInput() {} },
        () => undefined,
        1 << 30,
      );
      await service.open(
        {
          path: file,
          readOnly: false,
          user: { name: `p${editor}`, key: `p${editor}`, kind: 'person' },
        },
        stream,
      );
      stream.start();
    }
    // Each editor types 200 characters at random places, as a client of its own (its own items in
    // the document); the editors' copies are let go before measuring: only the daemon's counts.
    const document = (await service.openDocuments()).find((open) => open.path === file);
    for (let editor = 0; editor < 5; editor++) {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(document!.doc));
      doc.on('update', (update: Uint8Array) => Y.applyUpdate(document!.doc, update));
      const text = doc.getText('content');
      for (let key = 0; key < 200; key++) text.insert(Math.floor(Math.random() * text.length), 'x');
      doc.destroy();
    }
  };
  // Once before measuring, so what this process compiles on first use is not counted.
  await writeFile(join(root, 'warm-up.ts'), content);
  await openTyped('warm-up.ts');
  await sleep(1500);
  service.closeAll();
  await sleep(500);
  const before = await used();
  await openTyped('big.ts');
  await sleep(1500);
  const bytes = (await used()) - before;
  service.closeAll();
  await rm(root, { recursive: true, force: true });
  return { bytes, fileBytes: content.length };
}
