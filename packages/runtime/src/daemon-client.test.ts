import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  DAEMON_PROTOCOL_HEADER,
  STREAM_WINDOW_BYTES,
  type DaemonStreamEvent,
} from '@studio/protocol';
import { connectDaemon } from './daemon-client.ts';
import type { DaemonConnection, DaemonStream } from './runtime.ts';

const daemonMain = fileURLToPath(new URL('../../daemon/src/main.ts', import.meta.url));
const SECRET = 'test-secret-0123456789abcdef0123456789';

let base: string;
let root: string;
let socketPath: string;
let daemon: ChildProcess;
let conn: DaemonConnection;
const extraDaemons: ChildProcess[] = [];

/** Start the daemon from source as a real child process; resolves with its "listening" line. */
async function startDaemonProcess(
  listen: string,
): Promise<{ child: ChildProcess; address: string }> {
  // The daemon removes its secret file once read, as drivers expect; each start gets a new one.
  await writeFile(path.join(base, 'secret'), `${SECRET}\n`, { mode: 0o600 });
  const child = spawn(process.execPath, ['--import', 'tsx', daemonMain], {
    env: {
      ...process.env,
      STUDIO_DAEMON_LISTEN: listen,
      STUDIO_DAEMON_SECRET_FILE: path.join(base, 'secret'),
      STUDIO_WORKSPACE_ROOT: root,
      STUDIO_START_COMMANDS: JSON.stringify(['echo started > start-marker.txt']),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (\S+)/.exec(output);
      if (match) resolve(match[1]!.replace(/,$/, ''));
    });
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}: ${output}`)));
  });
  return { child, address };
}

function collect(stream: DaemonStream) {
  const chunks: Buffer[] = [];
  const events: DaemonStreamEvent[] = [];
  const ended = new Promise<Error | undefined>((resolve) => stream.onEnd(resolve));
  stream.onData((payload) => chunks.push(Buffer.from(payload)));
  stream.onEvent((event) => events.push(event));
  return {
    text: () => Buffer.concat(chunks).toString('utf8'),
    bytes: () => Buffer.concat(chunks),
    events,
    ended,
  };
}

async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'studio-daemon-client-'));
  root = path.join(base, 'root');
  await mkdir(root);
  await writeFile(path.join(base, 'secret'), `${SECRET}\n`, { mode: 0o600 });
  socketPath = path.join(base, 'daemon.sock');
  daemon = (await startDaemonProcess(`unix:${socketPath}`)).child;
  conn = await connectDaemon({ socketPath, secret: SECRET, timeoutMs: 10_000 });
});

afterAll(async () => {
  conn?.close();
  for (const child of [daemon, ...extraDaemons]) child?.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await rm(base, { recursive: true, force: true });
});

describe('workspace daemon over connectDaemon', () => {
  it('says who it is and runs the start commands', async () => {
    const info = await conn.call('info', {});
    expect(info.protocol).toBe(1);
    expect(info.version).toBe(conn.daemonVersion);
    expect(info.root).toBe(await import('node:fs/promises').then((fs) => fs.realpath(root)));
    expect(info.memory.daemonRss).toBeGreaterThan(0);
    expect(info.cpu.cores).toBeGreaterThan(0);
    await waitFor(() => readFile(path.join(root, 'start-marker.txt'), 'utf8').catch(() => ''));
  });

  it('creates, reads, lists, moves and deletes files, with conflicts', async () => {
    const written = await conn.call('files.write', {
      path: 'docs/readme.md',
      content: '# hi\n',
      createParents: true,
      expectedVersion: null,
    });
    const read = await conn.call('files.read', { path: '/docs/readme.md' });
    expect(read).toMatchObject({ content: '# hi\n', binary: false, version: written.version });
    await conn.call('files.write', {
      path: 'docs/readme.md',
      content: 'newer',
      expectedVersion: read.version,
    });
    await expect(
      conn.call('files.write', {
        path: 'docs/readme.md',
        content: 'stale',
        expectedVersion: read.version,
      }),
    ).rejects.toMatchObject({ name: 'DaemonError', code: 'conflict' });
    await conn.call('files.mkdir', { path: 'docs/sub' });
    await conn.call('files.move', { from: 'docs/readme.md', to: 'docs/sub/readme.md' });
    const listing = await conn.call('files.list', { path: 'docs' });
    expect(listing.entries.map((entry) => [entry.path, entry.type])).toEqual([
      ['docs/sub', 'directory'],
    ]);
    expect((await conn.call('files.stat', { path: 'docs/sub/readme.md' })).size).toBe(5);
    await conn.call('files.delete', { path: 'docs', recursive: true });
    await expect(conn.call('files.stat', { path: 'docs' })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('refuses paths outside the workspace and bad params, and keeps serving', async () => {
    await expect(conn.call('files.read', { path: '../../etc/passwd' })).rejects.toMatchObject({
      code: 'path_outside_workspace',
    });
    await expect(
      conn.call('files.read', { path: 'a', maxBytes: -1 } as never),
    ).rejects.toMatchObject({ code: 'bad_request', message: expect.stringContaining('maxBytes') });
    await expect(conn.call('files.list', { path: '.', extra: 1 } as never)).rejects.toMatchObject({
      code: 'bad_request',
    });
    await expect(conn.call('no.such.method' as never, {} as never)).rejects.toMatchObject({
      code: 'bad_request',
    });
    expect((await conn.call('files.list', { path: '.' })).entries).toBeDefined();
  });

  it('watches a tree with debounced change events', async () => {
    await conn.call('files.mkdir', { path: 'watched/deep', recursive: true });
    const stream = await conn.open('files.watch', { path: 'watched' });
    const changes: { path: string; kind: string }[] = [];
    stream.onEvent((event) => {
      if (event.kind === 'changes') changes.push(...event.changes);
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await writeFile(path.join(root, 'watched/deep/new.txt'), 'x');
    await waitFor(() =>
      changes.find((c) => c.path === 'watched/deep/new.txt' && c.kind === 'created'),
    );
    await rm(path.join(root, 'watched/deep/new.txt'));
    await waitFor(() =>
      changes.find((c) => c.path === 'watched/deep/new.txt' && c.kind === 'deleted'),
    );
    const ended = new Promise((resolve) => stream.onEnd(resolve));
    stream.cancel();
    await ended;
  });

  it('round-trips a directory through download and upload', async () => {
    await conn.call('files.write', { path: 'tree/a.txt', content: 'alpha', createParents: true });
    await conn.call('files.write', {
      path: 'tree/bin/b.dat',
      content: Buffer.from([0, 1, 2, 255]).toString('base64'),
      encoding: 'base64',
      createParents: true,
    });
    const download = collect(await conn.open('files.download', { path: 'tree' }));
    expect(await download.ended).toBeUndefined();
    const archive = download.bytes();
    expect(archive.byteLength).toBeGreaterThan(1024);

    const upload = await conn.open('files.upload', { path: 'copy' });
    const result = collect(upload);
    for (let offset = 0; offset < archive.byteLength; offset += 700) {
      upload.write(archive.subarray(offset, offset + 700));
    }
    upload.end();
    expect(await result.ended).toBeUndefined();
    expect(result.events).toEqual([{ kind: 'uploaded', files: 2, bytes: 9 }]);
    expect(await readFile(path.join(root, 'copy/a.txt'), 'utf8')).toBe('alpha');
    expect([...(await readFile(path.join(root, 'copy/bin/b.dat')))]).toEqual([0, 1, 2, 255]);
  });

  it('refuses a hostile upload with a clear error', async () => {
    const upload = await conn.open('files.upload', { path: 'hostile', maxBytes: 1024 });
    const result = collect(upload);
    // A tar header for "../evil.txt": built by hand so nothing sanitizes it on the way.
    const header = Buffer.alloc(512);
    header.write('../evil.txt', 0);
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write('00000000005\0', 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\x0000', 257);
    const sum = header.reduce((total, byte) => total + byte, 0);
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    const body = Buffer.alloc(512);
    body.write('evil!');
    upload.write(Buffer.concat([header, body, Buffer.alloc(1024)]));
    upload.end();
    const error = await result.ended;
    expect(error).toMatchObject({ code: 'path_outside_workspace' });
    await expect(readFile(path.join(root, 'evil.txt'))).rejects.toThrow();
    await expect(readFile(path.join(base, 'evil.txt'))).rejects.toThrow();
  });

  it('keeps a PTY across connections: input, replay after re-attach, resize, close', async () => {
    const pty = await conn.call('pty.open', { command: '/bin/sh', cols: 80, rows: 24 });
    const first = collect(await conn.open('pty.attach', { id: pty.id }));
    const attached = await conn.open('pty.attach', { id: pty.id });
    attached.write('echo hi-$((40+2))\n');
    await waitFor(() => first.text().includes('hi-42'));

    // A new connection, as after a server restart, sees the same shell and its scrollback.
    const second = await connectDaemon({ socketPath, secret: SECRET });
    const listed = (await second.call('pty.list', {})).ptys.find((p) => p.id === pty.id);
    expect(listed).toMatchObject({ exited: null, attached: 2 });
    const replay = collect(await second.open('pty.attach', { id: pty.id }));
    await waitFor(() => replay.text().includes('hi-42'));
    await second.call('pty.resize', { id: pty.id, cols: 120, rows: 40 });
    attached.write('stty size\n');
    await waitFor(() => replay.text().includes('40 120'));
    second.close();
    await replay.ended;

    // Detaching is not closing: the shell is still running.
    attached.cancel();
    expect((await conn.call('pty.list', {})).ptys.find((p) => p.id === pty.id)?.exited).toBeNull();
    await conn.call('pty.close', { id: pty.id });
    expect(await first.ended).toBeUndefined();
    // An attacher is told what runs in the terminal (the shell, at first), then that it ended.
    expect(first.events[0]).toEqual({ kind: 'process', name: 'sh' });
    expect(first.events.at(-1)).toMatchObject({ kind: 'exit' });
    expect((await conn.call('pty.list', {})).ptys.find((p) => p.id === pty.id)).toBeUndefined();
  });

  it('opens the default login shell in the workspace root', async () => {
    const pty = await conn.call('pty.open', {});
    const output = collect(await conn.open('pty.attach', { id: pty.id }));
    const input = await conn.open('pty.attach', { id: pty.id });
    input.write('pwd; echo "term=$TERM"; exit 3\n');
    await output.ended;
    expect(output.text()).toContain('term=xterm-256color');
    expect(output.text()).toContain(path.basename(root));
    expect(output.events.filter((event) => event.kind === 'exit')).toEqual([
      expect.objectContaining({ kind: 'exit', code: 3 }),
    ]);
    expect((await conn.call('pty.list', {})).ptys.find((p) => p.id === pty.id)?.exited).toEqual({
      code: 3,
      signal: null,
    });
  });

  it('runs commands: exit code, stderr, stdin, cwd and env', async () => {
    const result = await conn.exec(
      'sh',
      ['-c', 'echo "out $FOO $(pwd)"; echo err >&2; cat; exit 7'],
      {
        env: { FOO: 'bar' },
        cwd: 'copy',
        stdin: 'from-stdin',
      },
    );
    expect(result).toMatchObject({
      code: 7,
      signal: null,
      stderr: 'err\n',
      timedOut: false,
      truncated: false,
    });
    expect(result.stdout).toMatch(/^out bar .*\/copy\nfrom-stdin$/);
    const env = await conn.exec('sh', ['-c', 'env | grep ^STUDIO_ || echo none']);
    expect(env.stdout).toBe('none\n');
    const missing = await conn.exec('definitely-not-a-command', []);
    expect(missing).toMatchObject({ code: 127 });
    expect(missing.stderr).toContain('command not found');
  });

  it('kills commands on timeout, caps output, and kills the whole group on cancel', async () => {
    const slow = await conn.exec('sh', ['-c', 'sleep 30 & sleep 30'], { timeoutMs: 300 });
    expect(slow).toMatchObject({ timedOut: true, signal: 'SIGKILL', code: null });

    const capped = await conn.exec(
      'sh',
      ['-c', 'head -c 100000 /dev/zero | tr "\\0" x; echo done >&2'],
      {
        maxOutputBytes: 1000,
      },
    );
    expect(capped.truncated).toBe(true);
    expect(capped.stdout.length).toBe(1000);
    expect(capped.code).toBe(0);

    const stream = await conn.open('exec.start', {
      command: 'sh',
      args: ['-c', 'sleep 60 & echo $!; wait'],
    });
    const running = collect(stream);
    const childPid = Number(await waitFor(() => running.text().trim()));
    stream.cancel();
    await waitFor(() => {
      try {
        process.kill(childPid, 0);
        return false;
      } catch {
        return true;
      }
    });
  });

  it('pauses a fast producer when the client does not acknowledge', async () => {
    const stream = await conn.open(
      'exec.start',
      { command: 'yes', args: ['backpressure'] },
      { manualAck: true },
    );
    let received = 0;
    stream.onData((payload) => (received += payload.byteLength));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(STREAM_WINDOW_BYTES);
    const atPause = received;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toBe(atPause);
    stream.ack(received);
    await waitFor(() => received > atPause);
    const info = await conn.call('info', {});
    expect(info.memory.daemonRss).toBeLessThan(512 * 1024 * 1024);
    stream.cancel();
  });

  it('lists listening ports with their process and tunnels to them', async () => {
    const server = await conn.open('exec.start', {
      command: process.execPath,
      args: [
        '-e',
        `require('http').createServer((q, s) => s.end('tunnel-ok ' + q.url)).listen(0, '127.0.0.1', function () { console.log(this.address().port) })`,
      ],
    });
    const output = collect(server);
    const port = Number(await waitFor(() => output.text().trim()));
    const listed = await waitFor(async () =>
      (await conn.call('ports.list', {})).ports.find((p) => p.port === port),
    );
    expect(listed).toMatchObject({ address: '127.0.0.1', process: expect.stringMatching(/node/) });
    expect(listed.pid).toBeGreaterThan(0);

    const tunnel = await conn.open('tunnel.open', { port });
    const response = collect(tunnel);
    tunnel.write(`GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    expect(await response.ended).toBeUndefined();
    expect(response.text()).toContain('tunnel-ok /hello');
    server.cancel();

    const refused = collect(await conn.open('tunnel.open', { port: 1 }));
    expect(await refused.ended).toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('1'),
    });
  });

  it('searches text', async () => {
    await conn.call('files.write', {
      path: 'search/one.ts',
      content: 'const needle = 1;\n',
      createParents: true,
    });
    await conn.call('files.write', {
      path: 'search/two.ts',
      content: 'no\nNEEDLE here\n',
      createParents: true,
    });
    const result = await conn.call('search.text', { query: 'needle', path: 'search' });
    expect(result.matches.map((m) => [m.path, m.line, m.column]).sort()).toEqual([
      ['search/one.ts', 1, 7],
      ['search/two.ts', 2, 1],
    ]);
    const limited = await conn.call('search.text', {
      query: 'needle',
      path: 'search',
      maxResults: 1,
    });
    expect(limited).toMatchObject({ truncated: true });
    expect(limited.matches).toHaveLength(1);
  });

  it('refuses a wrong secret and a wrong protocol version', async () => {
    await expect(connectDaemon({ socketPath, secret: 'wrong' })).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    const status = await new Promise<{ status: number; body: string }>((resolve) => {
      const socket = new WebSocket(`ws+unix://${socketPath}:/`, {
        headers: { authorization: `Bearer ${SECRET}`, [DAEMON_PROTOCOL_HEADER]: '999' },
      });
      socket.on('error', () => undefined);
      socket.on('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
    });
    expect(status.status).toBe(426);
    expect(JSON.parse(status.body)).toMatchObject({
      code: 'protocol_mismatch',
      message: expect.stringContaining('Update the workspace daemon'),
    });
  });

  it('survives malformed messages on a connection', async () => {
    const socket = new WebSocket(`ws+unix://${socketPath}:/`, {
      headers: { authorization: `Bearer ${SECRET}`, [DAEMON_PROTOCOL_HEADER]: '1' },
    });
    const replies: { type: string; id?: number; error?: { code: string; message: string } }[] = [];
    socket.on('message', (data, isBinary) => {
      if (!isBinary) replies.push(JSON.parse(data.toString()));
    });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send('not json at all');
    socket.send(JSON.stringify({ type: 'request', id: 'x' }));
    socket.send(
      JSON.stringify({ type: 'request', id: 5, method: 'files.read', params: { path: 7 } }),
    );
    socket.send(Buffer.from([1, 2]));
    socket.send(JSON.stringify({ type: 'request', id: 6, method: 'pty.list', params: {} }));
    await waitFor(() => replies.find((reply) => reply.id === 6));
    expect(replies.find((reply) => reply.id === 5)).toMatchObject({
      type: 'error',
      error: { code: 'bad_request', message: expect.stringContaining('path') },
    });
    expect(replies.find((reply) => reply.id === 6)).toMatchObject({ type: 'result' });
    socket.close();
  });

  it('reports a daemon that speaks another protocol as protocol_mismatch', async () => {
    // A daemon from the future, speaking the real wire format.
    const server = createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (socket) =>
      socket.send(JSON.stringify({ type: 'hello', protocol: 2, version: '9.9.9', pid: 1 })),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await expect(
      connectDaemon({ url: `ws://127.0.0.1:${port}`, secret: SECRET }),
    ).rejects.toMatchObject({
      code: 'protocol_mismatch',
      message: expect.stringMatching(/protocol 2 .* speaks 1/),
    });
    wss.close();
    server.close();
  });

  it('works over TCP with the secret, and fails pending work when the daemon goes away', async () => {
    const { child, address } = await startDaemonProcess('tcp:127.0.0.1:0');
    extraDaemons.push(child);
    const url = `ws://${address.replace(/^tcp:/, '')}`;
    await expect(connectDaemon({ url, secret: 'nope' })).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    const tcp = await connectDaemon({ url, secret: SECRET, timeoutMs: 5000 });
    expect((await tcp.call('files.list', { path: '.' })).entries.length).toBeGreaterThan(0);
    const closed = new Promise((resolve) => tcp.onClose(resolve));
    const stream = collect(await tcp.open('exec.start', { command: 'sleep', args: ['30'] }));
    child.kill('SIGKILL');
    expect(await stream.ended).toMatchObject({
      code: 'unavailable',
      message: 'Lost the connection to the workspace daemon',
    });
    expect(await closed).toMatchObject({ code: 'unavailable' });
    await expect(tcp.call('info', {})).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('retries while the daemon comes up', async () => {
    const later = path.join(base, 'later.sock');
    const connecting = connectDaemon({ socketPath: later, secret: SECRET, timeoutMs: 15_000 });
    const { child } = await startDaemonProcess(`unix:${later}`);
    extraDaemons.push(child);
    const connection = await connecting;
    expect((await connection.call('info', {})).protocol).toBe(1);
    connection.close();
    await expect(
      connectDaemon({ socketPath: path.join(base, 'never.sock'), secret: SECRET }),
    ).rejects.toMatchObject({
      code: 'unavailable',
    });
  });
});
