// The conformance suite every driver runs against its real engine (see docs/STYLE.md, "one
// interface, many implementations, one shared test suite"). Not a test file by itself: each
// driver's test calls `runRuntimeConformance`.
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Parser as TarParser } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonConnection, WorkspaceRuntime, WorkspaceSpec } from './runtime.ts';

/** What a driver brings to the suite. */
export interface ConformanceOptions {
  name: string;
  open(): Promise<WorkspaceRuntime>;
  /** Image for the workspaces (ignored by drivers without images). */
  image: string;
  /** The driver enforces pids and memory limits here. */
  limits: boolean;
  /** Workspaces cannot reach each other over the network. */
  networkIsolation: boolean;
  /** `diskMiB` must be enforced here (CI); elsewhere the disk test is skipped when it is not. */
  diskLimits: boolean;
  /**
   * The pids limit holds (default: `limits`). gVisor runs a workspace's processes as tasks of its
   * own kernel, which the engine's pids limit does not count.
   */
  pidsLimit?: boolean;
  /**
   * Filling /tmp to its size ends in ENOSPC and the workspace lives on (default true). Not under
   * gVisor 2022-12 (Debian 12's runsc): the full tmpfs breaks the sandbox, which then exits.
   */
  fillTmp?: boolean;
  /** Set on every workspace the suite makes (e.g. `isolation: 'sandboxed-kernel'`). */
  spec?: Partial<WorkspaceSpec>;
}

const RESOURCES = { cpus: 1, memoryMiB: 256, pids: 128 };

/** Register the conformance suite for one driver. */
export function runRuntimeConformance(options: ConformanceOptions): void {
  describe(`${options.name} runtime conformance`, () => {
    let runtime: WorkspaceRuntime;
    const created: string[] = [];
    const prefix = `c${randomBytes(3).toString('hex')}`;
    let counter = 0;

    function spec(overrides: Partial<WorkspaceSpec> = {}): WorkspaceSpec {
      const id = `${prefix}-${++counter}`;
      created.push(id);
      return {
        id,
        name: `conformance-${counter}`,
        ownerId: 'owner-1',
        image: options.image,
        resources: RESOURCES,
        // A NODE_OPTIONS the workspace's programs get, which the daemon (Node too) must not take.
        env: { GREETING: 'hello', NODE_OPTIONS: '--require ./not-the-daemons.cjs' },
        startCommands: [],
        ...options.spec,
        ...overrides,
      };
    }

    async function running(overrides: Partial<WorkspaceSpec> = {}) {
      const workspace = spec(overrides);
      await runtime.create(workspace);
      const status = await runtime.start(workspace.id);
      expect(status.state).toBe('running');
      const daemon = await runtime.connect(workspace.id);
      return { id: workspace.id, daemon };
    }

    beforeAll(async () => {
      runtime = await options.open();
    });

    afterAll(async () => {
      await Promise.all(created.map((id) => runtime.remove(id).catch(() => {})));
      await runtime.close();
    }, 120_000);

    describe('one workspace', () => {
      let id: string;
      let daemon: DaemonConnection;

      beforeAll(async () => {
        ({ id, daemon } = await running());
      }, 60_000);

      afterAll(() => daemon?.close());

      it('is listed, inspected and labelled with its owner', async () => {
        const status = await runtime.inspect(id);
        expect(status).toMatchObject({
          id,
          state: 'running',
          isolation: options.spec?.isolation ?? runtime.isolation,
        });
        expect(status?.labels['studio.owner']).toBe('owner-1');
        expect((await runtime.list()).map((item) => item.id)).toContain(id);
        expect(await runtime.inspect('no-such-workspace')).toBeNull();
      });

      it('answers info with the protocol version', async () => {
        const info = await daemon.call('info', {});
        expect(info.protocol).toBe(1);
        expect(info.user.uid).not.toBe(0);
        expect(info.memory.daemonRss).toBeGreaterThan(0);
      });

      it('writes, reads, lists, moves and deletes files', async () => {
        const written = await daemon.call('files.write', {
          path: 'src/hello.txt',
          content: 'hello world\n',
          createParents: true,
        });
        const read = await daemon.call('files.read', { path: 'src/hello.txt' });
        expect(read).toMatchObject({ content: 'hello world\n', version: written.version });
        await expect(
          daemon.call('files.write', {
            path: 'src/hello.txt',
            content: 'stale',
            expectedVersion: 'not-the-version',
          }),
        ).rejects.toMatchObject({ code: 'conflict' });
        const listed = await daemon.call('files.list', { path: 'src' });
        expect(listed.entries.map((entry) => entry.name)).toEqual(['hello.txt']);
        await daemon.call('files.move', { from: 'src/hello.txt', to: 'src/moved.txt' });
        await daemon.call('files.delete', { path: 'src', recursive: true });
        await expect(daemon.call('files.stat', { path: 'src' })).rejects.toMatchObject({
          code: 'not_found',
        });
      });

      it('refuses paths outside the workspace', async () => {
        await expect(daemon.call('files.read', { path: '../../etc/passwd' })).rejects.toMatchObject(
          { code: 'path_outside_workspace' },
        );
        await daemon.exec('ln', ['-sf', '/etc', 'escape']);
        await expect(daemon.call('files.read', { path: 'escape/hostname' })).rejects.toMatchObject({
          code: 'path_outside_workspace',
        });
        await daemon.exec('rm', ['escape']);
      });

      it('runs commands as a non-root user with the template env', async () => {
        const result = await daemon.exec('sh', [
          '-c',
          'id -u; echo $GREETING; echo $NODE_OPTIONS; echo oops >&2; exit 3',
        ]);
        expect(result.code).toBe(3);
        const [uid, greeting, nodeOptions] = result.stdout.trim().split('\n');
        expect(Number(uid)).not.toBe(0);
        expect(greeting).toBe('hello');
        expect(nodeOptions).toBe('--require ./not-the-daemons.cjs');
        expect(result.stderr).toBe('oops\n');
      });

      it('runs a program built in /tmp, as toolchains do (go test, go run)', async () => {
        const result = await daemon.exec('sh', [
          '-c',
          'cp /bin/true /tmp/built && /tmp/built && echo ran; rm -f /tmp/built',
        ]);
        expect(result.stdout + result.stderr).toBe('ran\n');
      });

      it('has no capabilities and no way to gain them', async () => {
        const status = await daemon.exec('grep', [
          '-E',
          '^(CapEff|NoNewPrivs)',
          '/proc/self/status',
        ]);
        expect(status.stdout).toMatch(/CapEff:\s+0{16}/);
        if (runtime.isolation !== 'none') {
          const mount = await daemon.exec('sh', [
            '-c',
            'mkdir -p /tmp/m && mount -t tmpfs x /tmp/m',
          ]);
          expect(mount.code).not.toBe(0);
        }
      });

      it('sees no secrets of the server in its environment', async () => {
        const env = await daemon.exec('env');
        expect(env.stdout).not.toMatch(/STUDIO_SECRET|DATABASE_URL|STUDIO_DAEMON_SECRET/);
      });

      it('runs a shell in a PTY that survives a reconnect', async () => {
        const pty = await daemon.call('pty.open', { cols: 100, rows: 30 });
        const first = await daemon.open('pty.attach', { id: pty.id });
        const seen = collect(first);
        first.write('echo first-$((40+2))\r');
        await waitFor(() => seen.text().includes('first-42'));
        first.cancel();

        // A new connection (a browser reload, a server restart) replays the scrollback.
        const again = await runtime.connect(id);
        const second = await again.open('pty.attach', { id: pty.id });
        const replay = collect(second);
        await waitFor(() => replay.text().includes('first-42'));
        second.write('echo second-$((1+1))\r');
        await waitFor(() => replay.text().includes('second-2'));
        await again.call('pty.resize', { id: pty.id, cols: 120, rows: 40 });
        expect(
          (await again.call('pty.list', {})).ptys.find((item) => item.id === pty.id),
        ).toMatchObject({ cols: 120, rows: 40 });
        await again.call('pty.close', { id: pty.id });
        again.close();
      });

      it('lists listening ports and tunnels to them', async () => {
        const server = await daemon.open('exec.start', {
          command: 'python3',
          args: ['-m', 'http.server', '--bind', '127.0.0.1', '8765'],
        });
        try {
          let port;
          await waitFor(async () => {
            const { ports } = await daemon.call('ports.list', {});
            port = ports.find((item) => item.port === 8765);
            return port !== undefined;
          });
          expect(port).toMatchObject({ port: 8765 });
          const tunnel = await daemon.open('tunnel.open', { port: 8765 });
          const response = collect(tunnel);
          tunnel.write('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
          await waitFor(() => response.text().includes('HTTP/1.0 200'));
          tunnel.cancel();
        } finally {
          server.cancel();
        }
      });

      it('searches text and watches for changes', async () => {
        await daemon.call('files.write', {
          path: 'notes/a.md',
          content: 'needle in a haystack\n',
          createParents: true,
        });
        const found = await daemon.call('search.text', { query: 'needle' });
        expect(found.matches).toContainEqual(
          expect.objectContaining({ path: 'notes/a.md', line: 1 }),
        );

        const watch = await daemon.open('files.watch', { path: 'notes' });
        const changes: string[] = [];
        watch.onEvent((event) => {
          if (event.kind === 'changes') changes.push(...event.changes.map((change) => change.path));
        });
        await sleep(200);
        await daemon.exec('sh', ['-c', 'echo more > notes/b.md']);
        await waitFor(() => changes.includes('notes/b.md'));
        watch.cancel();
      });

      it('reports logs and stats', async () => {
        expect(typeof (await runtime.logs(id))).toBe('string');
        const stats = await runtime.stats(id);
        expect(stats.memoryBytes).toBeGreaterThan(0);
        expect(stats.pids).toBeGreaterThan(0);
      });

      it.runIf(options.pidsLimit ?? options.limits)(
        'stops a fork bomb at the pids limit and stays responsive',
        async () => {
          // Each child lives 10 s: on a loaded machine the loop takes seconds to fork 300, and
          // children that already ended (3 s, before) let it finish under the limit.
          const bomb = await daemon.exec(
            'bash',
            ['-c', 'for i in $(seq 300); do sleep 10 & done 2>&1 | grep -c "fork" ; wait'],
            { timeoutMs: 30_000 },
          );
          expect(bomb.stdout + bomb.stderr).toMatch(/[1-9]|Resource temporarily unavailable|fork/);
          const after = await daemon.exec('echo', ['alive']);
          expect(after.stdout).toBe('alive\n');
        },
      );

      it('fills /tmp to ENOSPC, not to an out-of-memory kill', async (ctx) => {
        // Unsandboxed, /tmp is the host's own: nothing to test, and nothing to fill.
        if (runtime.isolation === 'none' || options.fillTmp === false) ctx.skip();
        const fill = await daemon.exec(
          'sh',
          ['-c', 'dd if=/dev/zero of=/tmp/fill bs=1M count=400 2>&1; rm -f /tmp/fill'],
          { timeoutMs: 60_000 },
        );
        expect(fill.stdout).toMatch(/No space left on device/);
        expect((await daemon.exec('echo', ['alive'])).stdout).toBe('alive\n');
      });

      it.runIf(options.limits)('keeps a memory bomb inside the workspace', async () => {
        const bomb = await daemon.exec('python3', ['-c', 'a = bytearray(1024 * 1024 * 1024)'], {
          timeoutMs: 60_000,
        });
        expect(bomb.code === 0).toBe(false);
        const after = await runtime.connect(id).then(async (fresh) => {
          const result = await fresh.exec('echo', ['alive']);
          fresh.close();
          return result;
        });
        expect(after.stdout).toBe('alive\n');
      });
    });

    it('keeps files across stop and start', async () => {
      const { id, daemon } = await running();
      await daemon.call('files.write', { path: 'keep.txt', content: 'still here' });
      daemon.close();
      expect((await runtime.stop(id)).state).toBe('stopped');
      await expect(runtime.connect(id)).rejects.toMatchObject({ code: 'workspace_not_running' });
      await runtime.start(id);
      const again = await runtime.connect(id);
      expect((await again.call('files.read', { path: 'keep.txt' })).content).toBe('still here');
      again.close();
    }, 60_000);

    it('exports a home, running or stopped, and imports it into another workspace with its owners', async () => {
      const from = await running();
      await from.daemon.exec('sh', ['-c', 'mkdir -p src/deep && echo kept > src/deep/a.txt']);
      // Running: the entries, relative to the home.
      const entries: string[] = [];
      await pipeline(
        await runtime.exportHome(from.id),
        new TarParser({ onReadEntry: (entry) => (entries.push(entry.path), entry.resume()) }),
      );
      expect(entries.map((path) => path.replace(/^\.\//, ''))).toContain('src/deep/a.txt');
      from.daemon.close();
      await runtime.stop(from.id);
      const to = spec();
      await runtime.create(to);
      await runtime.importHome(to.id, await runtime.exportHome(from.id));
      await runtime.start(to.id);
      const daemon = await runtime.connect(to.id);
      const check = await daemon.exec('sh', [
        '-c',
        'cat src/deep/a.txt && echo more >> src/deep/a.txt && echo writable',
      ]);
      expect(check.stdout).toBe('kept\nwritable\n');
      daemon.close();
    }, 90_000);

    it('ends a full disk in ENOSPC inside the workspace, and only there', async (ctx) => {
      if (!(await runtime.diskLimits())) {
        if (options.diskLimits) throw new Error(`${options.name}: disk limits are not available`);
        ctx.skip();
      }
      const full = await running({ resources: { ...RESOURCES, diskMiB: 64 } });
      const other = await running({ resources: { ...RESOURCES, diskMiB: 64 } });
      const fill = await full.daemon.exec(
        'sh',
        ['-c', 'dd if=/dev/zero of="$HOME/fill" bs=1M count=200 2>&1; df -k "$HOME" | tail -1'],
        { timeoutMs: 60_000 },
      );
      expect(fill.stdout).toMatch(/No space left on device/);
      const sizeKiB = Number(fill.stdout.trim().split('\n').at(-1)?.split(/\s+/)[1]);
      expect(sizeKiB).toBeLessThanOrEqual(64 * 1024);
      // The file API says what happened, in words a user can act on.
      await expect(
        full.daemon.call('files.write', { path: 'more.txt', content: 'x'.repeat(1 << 20) }),
      ).rejects.toMatchObject({ code: 'payload_too_large', message: /No space left/ });
      // The workspace and its neighbours carry on; freeing space makes it writable again.
      await other.daemon.call('files.write', { path: 'fine.txt', content: 'x'.repeat(1 << 20) });
      await full.daemon.exec('rm', ['-f', 'fill']);
      await full.daemon.call('files.write', { path: 'after.txt', content: 'ok' });
      // Its files survive a stop and start on the same disk.
      full.daemon.close();
      await runtime.stop(full.id);
      await runtime.start(full.id);
      const again = await runtime.connect(full.id);
      expect((await again.call('files.read', { path: 'after.txt' })).content).toBe('ok');
      again.close();
      other.daemon.close();
    }, 120_000);

    it('keeps host files and other workspaces out of reach', async () => {
      const hostDir = await mkdtemp(join(tmpdir(), 'studio-host-'));
      const marker = `marker-${randomBytes(6).toString('hex')}`;
      await writeFile(join(hostDir, marker), 'host secret');
      const a = await running();
      const b = await running();
      try {
        await a.daemon.call('files.write', { path: `${marker}-a`, content: 'workspace a' });
        const search = await b.daemon.exec(
          'sh',
          [
            '-c',
            `find / -path /proc -prune -o -path /sys -prune -o -name '${marker}*' -print 2>/dev/null`,
          ],
          { timeoutMs: 60_000 },
        );
        expect(search.stdout.trim()).toBe('');
        if (options.networkIsolation) {
          const address = (await a.daemon.exec('hostname', ['-I'])).stdout.trim().split(' ')[0];
          const server = await a.daemon.open('exec.start', {
            command: 'python3',
            args: ['-m', 'http.server', '8766'],
          });
          await sleep(500);
          const probe = await b.daemon.exec('python3', [
            '-c',
            `import socket; socket.create_connection(("${address}", 8766), timeout=2)`,
          ]);
          expect(probe.code).not.toBe(0);
          const metadata = await b.daemon.exec('python3', [
            '-c',
            'import socket; socket.create_connection(("169.254.169.254", 80), timeout=2)',
          ]);
          expect(metadata.code).not.toBe(0);
          server.cancel();
          // A service on the host's loopback (a database, a browser's DevTools port): neither
          // reachable nor listed among the workspace's ports (THREATS 31).
          const hostService = createServer((socket) => socket.end('host service\n'));
          await new Promise<void>((resolve) => hostService.listen(0, '127.0.0.1', resolve));
          const hostPort = (hostService.address() as AddressInfo).port;
          try {
            for (const address of ['127.0.0.1', '10.0.2.2', '172.17.0.1']) {
              const probe = await b.daemon.exec('python3', [
                '-c',
                `import socket; socket.create_connection(("${address}", ${hostPort}), timeout=2)`,
              ]);
              expect(probe.code, `host loopback via ${address}`).not.toBe(0);
            }
            const { ports } = await b.daemon.call('ports.list', {});
            expect(ports.map((port) => port.port)).not.toContain(hostPort);
          } finally {
            hostService.close();
          }
        }
      } finally {
        a.daemon.close();
        b.daemon.close();
        await rm(hostDir, { recursive: true, force: true });
      }
    }, 120_000);

    it('brings up ten workspaces created at once', async () => {
      const specs = Array.from({ length: 10 }, () => spec());
      await Promise.all(
        specs.map((item) => runtime.create(item).then(() => runtime.start(item.id))),
      );
      const infos = await Promise.all(
        specs.map(async (item) => {
          const daemon = await runtime.connect(item.id);
          const info = await daemon.call('info', {});
          daemon.close();
          return info;
        }),
      );
      expect(infos).toHaveLength(10);
      await Promise.all(specs.map((item) => runtime.remove(item.id)));
      for (const item of specs) expect(await runtime.inspect(item.id)).toBeNull();
    }, 180_000);

    it('tells listeners once that a workspace came up and once that it stopped', async () => {
      const workspace = spec();
      await runtime.create(workspace);
      const seen: string[] = [];
      const off = runtime.onEvent((event) => {
        if (event.id === workspace.id) seen.push(event.state);
      });
      try {
        await runtime.start(workspace.id);
        await waitFor(() => seen.includes('running'), 15_000);
        await runtime.stop(workspace.id);
        await waitFor(() => seen.includes('stopped'), 15_000);
        // Late reports (a poll, an informer's relist) must not repeat a state.
        await sleep(1_500);
      } finally {
        off();
      }
      expect(seen.filter((state) => state === 'running')).toHaveLength(1);
      expect(seen.filter((state) => state === 'stopped')).toHaveLength(1);
      expect(seen.indexOf('running')).toBeLessThan(seen.indexOf('stopped'));
    }, 60_000);

    it('knows the machine its workspaces run on, or says it cannot tell', async () => {
      const capacity = await runtime.capacity();
      if (capacity) {
        expect(capacity.cpus).toBeGreaterThan(0);
        expect(capacity.memoryMiB).toBeGreaterThan(RESOURCES.memoryMiB);
      }
    });

    it('refuses a duplicate id and unknown workspaces with typed errors', async () => {
      const workspace = spec();
      await runtime.create(workspace);
      await expect(runtime.create(workspace)).rejects.toMatchObject({ code: 'already_exists' });
      await expect(runtime.start('missing-workspace')).rejects.toMatchObject({ code: 'not_found' });
      await runtime.remove(workspace.id);
      await runtime.remove(workspace.id);
    });
  });
}

/** Collect a stream's data as text. */
function collect(stream: { onData(listener: (payload: Uint8Array) => void): void }) {
  const chunks: Buffer[] = [];
  stream.onData((payload) => chunks.push(Buffer.from(payload)));
  return { text: () => Buffer.concat(chunks).toString('utf8') };
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`Condition not met within ${timeoutMs} ms`);
}
