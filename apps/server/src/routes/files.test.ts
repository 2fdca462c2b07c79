import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { fileWatchMessageSchema, type FileWatchMessage, type Workspace } from '@studio/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  injectAs,
  type InjectArgs,
  sameOrigin,
  signedInUser,
  startTestServer,
  waitForWorkspace,
  wsUrl as wsUrlOf,
  type TestServer,
} from '../testing.ts';

const MiB = 1024 * 1024;
const run = promisify(execFile);

let server: TestServer;
let alice: { id: string; cookie: string };
let mallory: { id: string; cookie: string };

beforeAll(async () => {
  server = await startTestServer();
  alice = await signedInUser(server, { email: 'alice@example.com' });
  mallory = await signedInUser(server, { email: 'mallory@example.com' });
  await api(alice, 'POST', '/api/workspaces', { name: 'files' });
  await waitForStatus('files', 'running');
}, 60_000);

afterAll(async () => server?.close(), 60_000);

const api = (...args: InjectArgs) => injectAs(server, ...args);

function upload(path: string, bytes: Buffer) {
  return api(
    alice,
    'PUT',
    `/api/workspaces/files/files/raw?path=${encodeURIComponent(path)}`,
    bytes,
    {
      'content-type': 'application/octet-stream',
    },
  );
}

const waitForStatus = (name: string, status: Workspace['status']) =>
  waitForWorkspace(server, alice, name, status);

const wsUrl = (path: string) => wsUrlOf(server, path);

describe('files API', () => {
  it('lists, reads, writes, makes folders, moves and deletes', async () => {
    const written = await api(alice, 'PUT', '/api/workspaces/files/files/content', {
      path: 'src/a.txt',
      content: 'hello\n',
      createParents: true,
    });
    expect(written.statusCode).toBe(200);
    expect(written.json()).toMatchObject({ size: 6, version: expect.any(String) });

    const mkdir = await api(alice, 'POST', '/api/workspaces/files/files/mkdir', {
      path: 'src/zeta',
    });
    expect(mkdir.statusCode).toBe(204);
    const listed = await api(alice, 'GET', '/api/workspaces/files/files?path=src');
    expect(listed.statusCode).toBe(200);
    // Folders first, even when a file sorts before them by name.
    expect(listed.json().entries).toMatchObject([
      { name: 'zeta', path: 'src/zeta', type: 'directory' },
      { name: 'a.txt', path: 'src/a.txt', type: 'file', size: 6 },
    ]);

    const read = await api(alice, 'GET', '/api/workspaces/files/files/content?path=src/a.txt');
    expect(read.json()).toEqual({
      content: 'hello\n',
      encoding: 'utf8',
      binary: false,
      size: 6,
      version: written.json().version,
    });

    const moved = await api(alice, 'POST', '/api/workspaces/files/files/move', {
      from: 'src/a.txt',
      to: 'src/zeta/b.txt',
    });
    expect(moved.statusCode).toBe(204);
    await api(alice, 'PUT', '/api/workspaces/files/files/content', {
      path: 'src/c.txt',
      content: 'c',
    });
    const clash = await api(alice, 'POST', '/api/workspaces/files/files/move', {
      from: 'src/c.txt',
      to: 'src/zeta/b.txt',
    });
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toMatchObject({ code: 'already_exists' });
    const movedRead = await api(
      alice,
      'GET',
      '/api/workspaces/files/files/content?path=src/zeta/b.txt',
    );
    expect(movedRead.json().content).toBe('hello\n');

    const notEmpty = await api(alice, 'DELETE', '/api/workspaces/files/files?path=src');
    expect(notEmpty.statusCode).toBe(409);
    const deleted = await api(
      alice,
      'DELETE',
      '/api/workspaces/files/files?path=src&recursive=true',
    );
    expect(deleted.statusCode).toBe(204);
    const gone = await api(alice, 'GET', '/api/workspaces/files/files?path=src');
    expect(gone.statusCode).toBe(404);
  });

  it('marks what git ignores, so the tree can dim it', async () => {
    for (const [path, content] of [
      ['proj/.gitignore', 'build/\n*.log\n'],
      ['proj/build/out.js', ''],
      ['proj/debug.log', ''],
      ['proj/main.py', ''],
    ]) {
      await api(alice, 'PUT', '/api/workspaces/files/files/content', {
        path,
        content,
        createParents: true,
      });
    }
    const outside = await api(alice, 'GET', '/api/workspaces/files/files?path=proj');
    expect(
      (outside.json().entries as { name: string; ignored?: boolean }[]).filter((e) => e.ignored),
    ).toEqual([]);
    await api(alice, 'POST', '/api/workspaces/files/exec', {
      command: 'git',
      args: ['init', '-q', 'proj'],
    });
    const listed = await api(alice, 'GET', '/api/workspaces/files/files?path=proj');
    const ignored = (listed.json().entries as { name: string; ignored?: boolean }[])
      .filter((entry) => entry.ignored)
      .map((entry) => entry.name)
      .sort();
    expect(ignored).toEqual(['.git', 'build', 'debug.log']);
  });

  it('refuses a write over a newer version and leaves the file alone', async () => {
    const url = '/api/workspaces/files/files/content';
    const first = await api(alice, 'PUT', url, {
      path: 'doc.md',
      content: 'one',
      expectedVersion: null,
    });
    expect(first.statusCode).toBe(200);
    const second = await api(alice, 'PUT', url, {
      path: 'doc.md',
      content: 'two',
      expectedVersion: first.json().version,
    });
    expect(second.statusCode).toBe(200);

    const stale = await api(alice, 'PUT', url, {
      path: 'doc.md',
      content: 'three',
      expectedVersion: first.json().version,
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 'conflict' });
    const notNew = await api(alice, 'PUT', url, {
      path: 'doc.md',
      content: 'three',
      expectedVersion: null,
    });
    expect(notNew.statusCode).toBe(409);
    expect(notNew.json()).toMatchObject({ code: 'conflict' });

    const read = await api(alice, 'GET', `${url}?path=doc.md`);
    expect(read.json()).toMatchObject({ content: 'two', version: second.json().version });
  });

  it('keeps every path inside the workspace', async () => {
    const attempts = [
      api(alice, 'GET', '/api/workspaces/files/files?path=../..'),
      api(alice, 'GET', '/api/workspaces/files/files/content?path=../../etc/passwd'),
      api(alice, 'PUT', '/api/workspaces/files/files/content', {
        path: 'a/../../escape.txt',
        content: 'x',
      }),
      api(alice, 'POST', '/api/workspaces/files/files/move', { from: 'doc.md', to: '../doc.md' }),
      api(alice, 'GET', '/api/workspaces/files/files/download?path=..'),
      upload('../escape.bin', Buffer.from('x')),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'path_outside_workspace' });
    }
  });

  it('uploads a binary file and downloads the same bytes', async () => {
    const bytes = randomBytes(3 * MiB + 123);
    const uploaded = await upload('assets/blob.bin', bytes);
    expect(uploaded.statusCode).toBe(200);
    expect(uploaded.json()).toEqual({ size: bytes.byteLength, version: expect.any(String) });

    const downloaded = await api(
      alice,
      'GET',
      '/api/workspaces/files/files/download?path=assets/blob.bin',
    );
    expect(downloaded.statusCode).toBe(200);
    expect(downloaded.headers['content-disposition']).toContain('filename="blob.bin"');
    expect(downloaded.rawPayload.equals(bytes)).toBe(true);

    // No temporary file is left behind next to it.
    const listed = await api(alice, 'GET', '/api/workspaces/files/files?path=assets');
    expect(listed.json().entries.map((entry: { name: string }) => entry.name)).toEqual([
      'blob.bin',
    ]);
  }, 30_000);

  it('downloads a folder as a tar archive of its files', async () => {
    await upload('bundle/one.txt', Buffer.from('first\n'));
    await upload('bundle/deep/two.txt', Buffer.from('second\n'));
    const response = await api(alice, 'GET', '/api/workspaces/files/files/download?path=bundle');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/x-tar');
    expect(response.headers['content-disposition']).toContain('filename="bundle.tar"');

    const dir = await mkdtemp(join(tmpdir(), 'files-test-'));
    try {
      await writeFile(join(dir, 'bundle.tar'), response.rawPayload);
      await run('tar', ['-xf', 'bundle.tar'], { cwd: dir });
      expect(await readFile(join(dir, 'one.txt'), 'utf8')).toBe('first\n');
      expect(await readFile(join(dir, 'deep/two.txt'), 'utf8')).toBe('second\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('brings a downloaded folder back from its archive, unpacked by the workspace, never outside it', async () => {
    await upload('export/a.txt', Buffer.from('exported\n'));
    await upload('export/sub/b.txt', Buffer.from('deeper\n'));
    const archive = (await api(alice, 'GET', '/api/workspaces/files/files/download?path=export'))
      .rawPayload;
    const put = (path: string, body: Buffer) =>
      api(alice, 'PUT', `/api/workspaces/files/files/archive?path=${path}`, body, {
        'content-type': 'application/x-tar',
      });
    const back = await put('imported', archive);
    expect([back.statusCode, back.json()]).toEqual([200, { files: 2, bytes: 16 }]);
    const read = async (path: string) =>
      (await api(alice, 'GET', `/api/workspaces/files/files/content?path=${path}`)).json()
        .content as string;
    expect(await read('imported/a.txt')).toBe('exported\n');
    expect(await read('imported/sub/b.txt')).toBe('deeper\n');

    // A hostile archive: an entry climbing out of the folder.
    const dir = await mkdtemp(join(tmpdir(), 'files-test-'));
    try {
      await writeFile(join(dir, 'evil.txt'), 'evil\n');
      await run('tar', ['-cf', 'evil.tar', '--transform', 's,^,../../,', 'evil.txt'], { cwd: dir });
      const evil = await put('imported', await readFile(join(dir, 'evil.tar')));
      expect(evil.statusCode).toBe(400);
      expect(evil.json().message).toMatch(/outside|\.\./);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(
      (await api(alice, 'GET', '/api/workspaces/files/files/content?path=../evil.txt')).statusCode,
    ).toBe(400);
  });

  it('refuses oversized uploads and reads', async () => {
    const tooBig = await upload('huge.bin', Buffer.alloc(100 * MiB + 1));
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json()).toMatchObject({ code: 'payload_too_large' });
    expect(tooBig.json().message).toContain('100 MiB');

    const large = await upload('large.bin', Buffer.alloc(6 * MiB, 'a'));
    expect(large.statusCode).toBe(200);
    // The daemon hashes only files an editor could open.
    expect(large.json()).toEqual({ size: 6 * MiB, version: null });
    const read = await api(alice, 'GET', '/api/workspaces/files/files/content?path=large.bin');
    expect(read.statusCode).toBe(413);
    expect(read.json()).toMatchObject({ code: 'payload_too_large' });
    expect(read.json().message).toContain(String(6 * MiB));
  }, 30_000);

  it('searches file contents', async () => {
    await api(alice, 'PUT', '/api/workspaces/files/files/content', {
      path: 'notes/todo.txt',
      content: 'first line\nremember the Needle here\n',
      createParents: true,
    });
    const response = await api(
      alice,
      'GET',
      '/api/workspaces/files/search?query=needle&path=notes',
    );
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      matches: [{ path: 'notes/todo.txt', line: 2, text: 'remember the Needle here' }],
      truncated: false,
    });
    const exact = await api(
      alice,
      'GET',
      '/api/workspaces/files/search?query=needle&path=notes&caseSensitive=true',
    );
    expect(exact.json().matches).toEqual([]);
  });

  it('lists every file for Quick Open, without .git and node_modules', async () => {
    for (const path of ['qo/a/b/c.ts', 'qo/.env', 'qo/.git/config', 'qo/node_modules/x/i.js']) {
      await upload(path, Buffer.from('x'));
    }
    const response = await api(alice, 'GET', '/api/workspaces/files/files/all');
    expect(response.statusCode).toBe(200);
    const { paths, truncated } = response.json() as { paths: string[]; truncated: boolean };
    expect(truncated).toBe(false);
    expect(paths).toEqual(expect.arrayContaining(['qo/a/b/c.ts', 'qo/.env', 'doc.md']));
    expect(paths.filter((path) => path.startsWith('qo/'))).toEqual(['qo/.env', 'qo/a/b/c.ts']);
    expect([...paths].sort()).toEqual(paths);

    const capped = await api(alice, 'GET', '/api/workspaces/files/files/all?limit=2');
    expect(capped.json()).toMatchObject({ truncated: true, paths: paths.slice(0, 2) });
  });

  it('lists a port a process in the workspace listens on', async () => {
    const row = await server.services.workspaces.get(alice.id, 'files');
    const daemon = await server.services.workspaces.connect(row);
    const listener = await daemon.open('exec.start', {
      command: 'node',
      args: [
        '-e',
        "require('net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) })",
      ],
    });
    try {
      let stdout = '';
      listener.onData((payload) => (stdout += Buffer.from(payload).toString()));
      await until(() => stdout.includes('\n'));
      const port = Number(stdout.trim());
      const response = await api(alice, 'GET', '/api/workspaces/files/ports');
      expect(response.statusCode).toBe(200);
      expect(response.json().ports).toContainEqual(
        expect.objectContaining({ port, address: '127.0.0.1' }),
      );
    } finally {
      listener.cancel();
    }
  });

  it('watches for changes over a socket that refuses foreign origins', async () => {
    const foreign = new WebSocket(wsUrl('/api/workspaces/files/files/watch'), {
      headers: { origin: 'https://evil.example', cookie: alice.cookie },
    });
    const status = await new Promise<number>((resolve) =>
      foreign.once('unexpected-response', (_request, response) =>
        resolve(response.statusCode ?? 0),
      ),
    );
    expect(status).toBe(403);

    await api(alice, 'POST', '/api/workspaces/files/files/mkdir', { path: 'watched' });
    const socket = new WebSocket(wsUrl('/api/workspaces/files/files/watch?path=watched'), {
      headers: { origin: server.origin, cookie: alice.cookie },
    });
    const messages: FileWatchMessage[] = [];
    socket.on('message', (data) =>
      messages.push(fileWatchMessageSchema.parse(JSON.parse(String(data)))),
    );
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    // The socket opens before the server has armed the daemon's watch, so a file written at once
    // may go unseen: keep creating new files until one is reported.
    const created = () =>
      messages.flatMap((message) => message.changes).find((change) => change.kind === 'created');
    for (let i = 0; !created() && i < 50; i++) {
      const written = await api(alice, 'PUT', '/api/workspaces/files/files/content', {
        path: `watched/new-${i}.ts`,
        content: 'export {};\n',
      });
      expect(written.statusCode).toBe(200);
      await until(() => created() !== undefined, 200).catch(() => {});
    }
    expect(created()?.path).toMatch(/^watched\/new-\d+\.ts$/);
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.close();
    await closed;
  });

  it("hides another user's workspace behind 404 on every files route", async () => {
    const routes: Array<['GET' | 'POST' | 'DELETE' | 'PUT', string, unknown?]> = [
      ['GET', '/api/workspaces/files/files'],
      ['GET', '/api/workspaces/files/files/all'],
      ['GET', '/api/workspaces/files/files/content?path=doc.md'],
      ['PUT', '/api/workspaces/files/files/content', { path: 'doc.md', content: 'pwned' }],
      ['POST', '/api/workspaces/files/files/mkdir', { path: 'x' }],
      ['POST', '/api/workspaces/files/files/move', { from: 'doc.md', to: 'x.md' }],
      ['DELETE', '/api/workspaces/files/files?path=doc.md'],
      ['GET', '/api/workspaces/files/files/download?path=doc.md'],
      ['GET', '/api/workspaces/files/search?query=two'],
      ['GET', '/api/workspaces/files/ports'],
    ];
    for (const [method, url, payload] of routes) {
      const response = await api(mallory, method, url, payload);
      expect({ url, status: response.statusCode }).toEqual({ url, status: 404 });
    }
    const raw = await server.app.inject({
      method: 'PUT',
      url: '/api/workspaces/files/files/raw?path=doc.md',
      headers: {
        ...sameOrigin(server),
        cookie: mallory.cookie,
        'content-type': 'application/octet-stream',
      },
      payload: Buffer.from('pwned'),
    });
    expect(raw.statusCode).toBe(404);

    const socket = new WebSocket(wsUrl('/api/workspaces/files/files/watch'), {
      headers: { origin: server.origin, cookie: mallory.cookie },
    });
    expect(await new Promise<number>((resolve) => socket.once('close', resolve))).toBe(4404);
    const read = await api(alice, 'GET', '/api/workspaces/files/files/content?path=doc.md');
    expect(read.json().content).toBe('two');
  });

  it('answers 409 workspace_not_running while the workspace is stopped', async () => {
    await api(alice, 'POST', '/api/workspaces/files/stop');
    await waitForStatus('files', 'stopped');
    for (const [method, url, payload] of [
      ['GET', '/api/workspaces/files/files'],
      ['GET', '/api/workspaces/files/files/content?path=doc.md'],
      ['PUT', '/api/workspaces/files/files/content', { path: 'doc.md', content: 'x' }],
      ['GET', '/api/workspaces/files/search?query=two'],
    ] as const) {
      const response = await api(alice, method, url, payload);
      expect(response.statusCode).toBe(409);
      expect(response.json()).toMatchObject({ code: 'workspace_not_running' });
    }
    const socket = new WebSocket(wsUrl('/api/workspaces/files/files/watch'), {
      headers: { origin: server.origin, cookie: alice.cookie },
    });
    expect(await new Promise<number>((resolve) => socket.once('close', resolve))).toBe(4503);
  }, 30_000);
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error('condition not met in time');
}
