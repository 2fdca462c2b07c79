import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRuntimeConformance } from '../runtime.case.test.ts';
import type { DaemonConnection, RuntimeEvent, WorkspaceSpec } from '../runtime.ts';
import { DockerRuntime, containerName, demuxLogs, exitReason } from './docker-runtime.ts';
import { buildTemplateImage, defaultCacheDir, loadTemplate } from './images.ts';

const imagesDir = fileURLToPath(new URL('../../../../images', import.meta.url));
// Tests configure themselves from the environment the way CI sets it up (.ci/docker.sh).
const runtimeDir =
  process.env.STUDIO_DAEMON_RUNTIME_DIR ??
  fileURLToPath(new URL('../../../daemon/dist/runtime', import.meta.url));
const dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
const requireDocker = process.env.STUDIO_REQUIRE_DOCKER === '1';
const cacheDir = defaultCacheDir(process.env, homedir());

const docker = new Docker();
const engineAnswers = await docker.ping().then(
  () => true,
  () => false,
);
if (!engineAnswers && !requireDocker) {
  console.warn(
    `\n⚠ Docker driver tests SKIPPED: no container engine answers at ${dockerHost}. ` +
      'Run `source .ci/docker.sh` (or set DOCKER_HOST), or set STUDIO_REQUIRE_DOCKER=1 to make this a failure.\n',
  );
}

describe.runIf(requireDocker && !engineAnswers)('docker driver prerequisites', () => {
  it('has a container engine at DOCKER_HOST', () => {
    throw new Error(
      `STUDIO_REQUIRE_DOCKER=1 but no engine answers at ${dockerHost}; run \`source .ci/docker.sh\`.`,
    );
  });
});

/** The base image, built once (a cache hit after the first run; cold it takes a few minutes). */
let imageReady: Promise<void> | null = null;
function ensureBaseImage(): Promise<void> {
  imageReady ??= (async () => {
    const template = await loadTemplate(imagesDir, 'base');
    const result = await buildTemplateImage({
      docker,
      template,
      imagesDir,
      cacheDir,
      onProgress: (step, detail) => {
        if (step !== 'build' && step !== 'rootfs') console.info(`[image] ${step} ${detail ?? ''}`);
      },
    });
    console.info(`[image] ${result.ref}: ${result.source} in ${result.durationMs} ms`);
  })();
  return imageReady;
}

const IMAGE = 'studio/base:1';

/** A throwaway self-signed CA ("Prometheus Studio Test CA"); only its presence is checked. */
const TEST_CA = `-----BEGIN CERTIFICATE-----
MIIBnzCCAUWgAwIBAgIUcuCXPu+TpSPp8kIVNiKLPijLmT8wCgYIKoZIzj0EAwIw
JDEiMCAGA1UEAwwZUHJvbWV0aGV1cyBTdHVkaW8gVGVzdCBDQTAgFw0yNjExMjEy
MzAxMjlaGA8yMTI2MTAyODIzMDEyOVowJDEiMCAGA1UEAwwZUHJvbWV0aGV1cyBT
dHVkaW8gVGVzdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFZCKuY44Eeq
Aw3M8isvXSzPEIlz8S8M2zpgnqxnGs+vezDk7f0a1DBA1PRrkdMNFSUZntlb3luz
wsLDn83qWcWjUzBRMB0GA1UdDgQWBBT5EEAUsn24DVSIx6dpdk4bSf0IdTAfBgNV
HSMEGDAWgBT5EEAUsn24DVSIx6dpdk4bSf0IdTAPBgNVHRMBAf8EBTADAQH/MAoG
CCqGSM49BAMCA0gAMEUCIDXJiHZMwlA1gPs3bGf+mMr13tCn7xwf/hS7NFhOLK19
AiEAsoai/mHukW5ODtKiWhxrxxJqIYihgECe+ns7xvFcsuo=
-----END CERTIFICATE-----`;

describe.runIf(engineAnswers)('docker images', () => {
  it(
    'builds (or finds) the base template image',
    async () => {
      await ensureBaseImage();
      const info = await docker.getImage(IMAGE).inspect();
      expect(info.Config.User).toBe('1000:1000');
      expect(info.Config.Env).toContain('SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt');
    },
    30 * 60_000,
  );

  it('names the missing folder when a template builds from nowhere', async () => {
    const template = await loadTemplate(imagesDir, 'base');
    await expect(
      buildTemplateImage({
        docker,
        imagesDir,
        cacheDir,
        template: { ...template, image: { build: 'no-such-folder', ref: 'studio/test-nothing:1' } },
      }),
    ).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('images/no-such-folder'),
    });
  });

  it('says what to do when an image has no recipe and is not in the engine', async () => {
    const template = await loadTemplate(imagesDir, 'base');
    await expect(
      buildTemplateImage({
        docker,
        imagesDir,
        cacheDir,
        template: { ...template, image: { ref: 'studio/test-nothing:1' } },
      }),
    ).rejects.toMatchObject({ code: 'image_missing' });
  });

  it('rejects an extra CA file without certificates', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studio-ca-'));
    const file = join(dir, 'ca.pem');
    await writeFile(file, 'not a certificate\n');
    const template = await loadTemplate(imagesDir, 'base');
    await expect(
      buildTemplateImage({
        docker,
        imagesDir,
        cacheDir,
        force: true,
        extraCaCertsFile: file,
        template: { ...template, image: { build: 'base', ref: 'studio/test-ca:1' } },
      }),
    ).rejects.toMatchObject({ code: 'bad_request', message: expect.stringContaining(file) });
    await rm(dir, { recursive: true, force: true });
  });

  it('reports an unknown template and an invalid one with the key at fault', async () => {
    await expect(loadTemplate(imagesDir, 'no-such-template')).rejects.toMatchObject({
      code: 'template_not_found',
    });
    const dir = await mkdtemp(join(tmpdir(), 'studio-templates-'));
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'templates')));
    await writeFile(
      join(dir, 'templates', 'odd.json'),
      JSON.stringify({ name: 'odd', title: 'Odd', image: { ref: 'x:1' }, colour: 'blue' }),
    );
    await expect(loadTemplate(dir, 'odd')).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('colour'),
    });
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'injects extra CA certificates into the image',
    async () => {
      await ensureBaseImage();
      const dir = await mkdtemp(join(tmpdir(), 'studio-ca-'));
      const file = join(dir, 'corporate.pem');
      await writeFile(file, `Corporate proxy CA\n${TEST_CA}\n`);
      const template = await loadTemplate(imagesDir, 'base');
      const ref = 'studio/test-ca:1';
      const result = await buildTemplateImage({
        docker,
        imagesDir,
        cacheDir,
        force: true,
        extraCaCertsFile: file,
        template: { ...template, image: { build: 'base', ref } },
      });
      expect(result.source).toBe('built');
      const container = await docker.createContainer({
        Image: ref,
        Cmd: [
          'bash',
          '-c',
          `ls /usr/local/share/ca-certificates/studio; grep -c "${TEST_CA.split('\n')[1]}" "$SSL_CERT_FILE"; git config --system http.sslCAInfo`,
        ],
        HostConfig: { NetworkMode: 'none' },
      });
      try {
        await container.start();
        await container.wait();
        const output = demuxLogs(
          (await container.logs({ stdout: true, stderr: true })) as unknown as Buffer,
        );
        expect(output).toBe('studio-extra-1.crt\n1\n/etc/ssl/certs/ca-certificates.crt\n');
      } finally {
        await container.remove({ force: true });
        await docker.getImage(ref).remove();
        await rm(dir, { recursive: true, force: true });
      }
    },
    10 * 60_000,
  );

  it(
    'builds a template again when its recipe changed, and only then',
    async () => {
      await ensureBaseImage();
      const dir = await mkdtemp(join(tmpdir(), 'studio-recipe-'));
      const fs = await import('node:fs/promises');
      await fs.cp(join(imagesDir, 'templates', 'base.json'), join(dir, 'templates', 'base.json'));
      await fs.cp(join(imagesDir, 'base'), join(dir, 'base'), { recursive: true });
      await fs.mkdir(join(dir, 'tiny'));
      const ref = 'studio/test-recipe:1';
      const template = { ...(await loadTemplate(imagesDir, 'base')), name: 'tiny' };
      const build = async (line: string) => {
        await writeFile(join(dir, 'tiny', 'Dockerfile'), `FROM studio/base:1\n${line}\n`);
        return buildTemplateImage({
          docker,
          imagesDir: dir,
          cacheDir,
          template: { ...template, image: { build: 'tiny', ref } },
        });
      };
      try {
        expect((await build('LABEL step=one')).source).toBe('built');
        expect((await build('LABEL step=one')).source).toBe('local');
        expect((await build('LABEL step=two')).source).toBe('built');
        expect((await docker.getImage(ref).inspect()).Config.Labels?.step).toBe('two');
      } finally {
        await docker
          .getImage(ref)
          .remove()
          .catch(() => {});
        await rm(dir, { recursive: true, force: true });
      }
    },
    10 * 60_000,
  );

  it('says the engine is unavailable when nothing answers', async () => {
    const nowhere = new Docker({ socketPath: '/nonexistent/docker.sock' });
    const template = await loadTemplate(imagesDir, 'base');
    await expect(
      buildTemplateImage({ docker: nowhere, imagesDir, cacheDir, template }),
    ).rejects.toMatchObject({ code: 'engine_unavailable' });
  });
});

const daemonBuilt = existsSync(join(runtimeDir, 'daemon.mjs'));
if (engineAnswers && !daemonBuilt) {
  console.warn(
    `\n⚠ Docker driver workspace tests need the daemon runtime at ${runtimeDir}; ` +
      'run `npm run build -w @studio/daemon`.\n',
  );
}

/** State folders made by this file, removed once it is done. */
const stateDirs: string[] = [];
afterAll(() => Promise.all(stateDirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function tempStateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'studio-docker-state-'));
  stateDirs.push(dir);
  return dir;
}

/** A host service the admin opened to workspaces on purpose (like a git server on this machine). */
const allowedHostServer: Server = createServer((socket) => socket.end('allowed\n'));
await new Promise<void>((resolve) => allowedHostServer.listen(0, '0.0.0.0', resolve));
const allowedHostPort = (allowedHostServer.address() as { port: number }).port;
afterAll(() => allowedHostServer.close());

async function openRuntime(): Promise<DockerRuntime> {
  await ensureBaseImage();
  const stateDir = await tempStateDir();
  return new DockerRuntime({
    docker,
    runtimeDir,
    stateDir,
    allowHostPorts: [allowedHostPort],
    logger: { info: (line) => console.info(line), warn: (line) => console.warn(line) },
  });
}

describe.runIf(engineAnswers && daemonBuilt)('docker driver', () => {
  // Cold, this debootstraps Debian and runs apt: minutes. Warm, it is a cache hit.
  beforeAll(ensureBaseImage, 30 * 60_000);

  runRuntimeConformance({
    name: 'docker',
    image: IMAGE,
    limits: true,
    networkIsolation: true,
    // CI runs as root next to its own engine, where workspace disks are loop-mounted.
    diskLimits: requireDocker,
    open: openRuntime,
  });

  describe('isolation and faults', () => {
    let runtime: DockerRuntime;
    let id: string;
    let daemon: DaemonConnection;
    const events: RuntimeEvent[] = [];
    const ids: string[] = [];
    const prefix = `d${Date.now().toString(36)}`;

    function spec(overrides: Partial<WorkspaceSpec> = {}): WorkspaceSpec {
      const workspaceId = `${prefix}-${ids.length + 1}`;
      ids.push(workspaceId);
      return {
        id: workspaceId,
        name: `Docker Test ${ids.length}`,
        ownerId: 'owner-d',
        image: IMAGE,
        resources: { cpus: 1, memoryMiB: 256, pids: 64 },
        env: {},
        startCommands: [],
        ...overrides,
      };
    }

    async function sh(script: string, timeoutMs = 30_000) {
      return daemon.exec('bash', ['-c', script], { timeoutMs });
    }

    beforeAll(async () => {
      runtime = await openRuntime();
      runtime.onEvent((event) => events.push(event));
      const workspace = spec();
      id = workspace.id;
      const started = Date.now();
      await runtime.create(workspace);
      const created = Date.now();
      await runtime.start(id);
      console.info(
        `[timing] create ${created - started} ms, start→daemon ready ${Date.now() - created} ms`,
      );
      daemon = await runtime.connect(id);
    }, 30 * 60_000);

    afterAll(async () => {
      daemon?.close();
      await Promise.all(ids.map((item) => runtime?.remove(item).catch(() => {})));
      await runtime?.close();
    }, 120_000);

    it('can write only to home and tmpfs, never to the image', async () => {
      // Everything on the container's own filesystem is read-only: its world-writable folders
      // cannot be used to fill the host's disk.
      const writable = (await sh('find / -xdev -writable 2>/dev/null')).stdout.split('\n');
      // -xdev still names the mount points themselves; nothing else may be writable.
      const mounts = ['', '/tmp', '/var/tmp', '/home/user', '/run/studio', '/dev', '/proc', '/sys'];
      expect(writable.filter((path) => !mounts.includes(path))).toEqual([]);
      expect((await sh('touch /var/lock/x 2>&1 || true')).stdout).toMatch(/Read-only file system/);
    });

    it('answers info as uid 1000 in /home/user', async () => {
      const info = await daemon.call('info', {});
      expect(info.user).toMatchObject({ uid: 1000, gid: 1000 });
      expect(info.root).toBe('/home/user');
      expect((await sh('id -u; pwd')).stdout).toBe('1000\n/home/user\n');
    });

    it('runs with no capabilities and no way to gain any', async () => {
      const status = (await sh('grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status')).stdout;
      expect(status).toMatch(/CapEff:\s+0{16}/);
      expect(status).toMatch(/CapBnd:\s+0{16}/);
      expect(status).toMatch(/NoNewPrivs:\s+1/);
    });

    it('gets EPERM from mount, unshare and module loading', async () => {
      const mount = await daemon.exec('python3', [
        '-c',
        [
          'import ctypes, os',
          'libc = ctypes.CDLL(None, use_errno=True)',
          'os.makedirs("/tmp/m", exist_ok=True)',
          'r = libc.mount(b"none", b"/tmp/m", b"tmpfs", 0, None)',
          'print(r, os.strerror(ctypes.get_errno()))',
          'r = libc.syscall(175, None, 0, b"")', // init_module: what modprobe does
          'print(r, os.strerror(ctypes.get_errno()))',
        ].join('\n'),
      ]);
      expect(mount.stdout).toBe('-1 Operation not permitted\n-1 Operation not permitted\n');
      const unshare = await sh('unshare --user --map-root-user --mount true');
      expect(unshare.code).not.toBe(0);
      expect(unshare.stderr).toMatch(/Operation not permitted/);
      const sysrq = await sh('echo h > /proc/sysrq-trigger');
      expect(sysrq.code).not.toBe(0);
    });

    it('has no container engine socket and only its own state inside', async () => {
      const found = await sh(
        'ls -d /var/run/docker.sock /run/docker.sock /run/podman /run/containerd /run/studio-docker 2>/dev/null; ls -A /run/studio',
      );
      // The daemon's secret is gone once the daemon read it (THREATS 32).
      expect(found.stdout.split('\n').filter(Boolean).sort()).toEqual([
        'daemon.sock',
        'git-credential.sock',
      ]);
      const info = await docker.getContainer(containerName(id)).inspect();
      expect(info.HostConfig.CapDrop).toEqual(['ALL']);
      expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
      expect(info.HostConfig.Privileged).toBe(false);
      expect(info.Mounts.map((mount) => mount.Destination).sort()).toEqual([
        '/home/user',
        '/opt/studio',
        '/run/studio',
      ]);
      expect(info.Mounts.find((mount) => mount.Destination === '/opt/studio')?.RW).toBe(false);
    });

    it('stops a fork bomb at the pids limit', async () => {
      const bomb = await sh('for i in $(seq 200); do sleep 5 & done; wait', 60_000);
      expect(bomb.stderr).toMatch(/Resource temporarily unavailable/);
      expect((await sh('echo alive')).stdout).toBe('alive\n');
    }, 90_000);

    it('keeps a memory bomb inside the workspace and says why', async () => {
      const bomb = await daemon.exec(
        'python3',
        ['-c', 'a = bytearray(1024 * 1024 * 1024); print("survived")'],
        { timeoutMs: 60_000 },
      );
      expect(bomb.stdout).not.toContain('survived');
      expect(bomb.signal ?? String(bomb.code)).toMatch(/SIGKILL|137/);
      // The daemon lives on: the kernel killed the biggest process, python.
      const fresh = await runtime.connect(id);
      expect((await fresh.exec('echo', ['alive'])).stdout).toBe('alive\n');
      fresh.close();
      await waitFor(() =>
        events.some((event) => event.id === id && event.reason?.includes('memory')),
      );
    }, 90_000);

    it('cannot open connections to the host itself, except to ports the admin opened', async () => {
      if (!runtime.firewall?.rules.length) {
        console.warn(
          '[firewall] no rules installed (not root?); skipping the host reachability check',
        );
        return;
      }
      const server: Server = createServer((socket) => socket.end('host says hi\n'));
      await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
      const port = (server.address() as { port: number }).port;
      try {
        const gateway = (await sh("ip route | awk '/default/ {print $3}'")).stdout.trim();
        expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        const probe = await daemon.exec('python3', [
          '-c',
          `import socket; socket.create_connection(("${gateway}", ${port}), timeout=2)`,
        ]);
        expect(probe.code).not.toBe(0);
        const allowed = await daemon.exec('python3', [
          '-c',
          `import socket; print(socket.create_connection(("${gateway}", ${allowedHostPort}), timeout=5).recv(64).decode(), end="")`,
        ]);
        expect(allowed.stdout).toBe('allowed\n');
      } finally {
        server.close();
      }
    });

    it('reports a killed container as stopped within seconds, and starts again with its files', async () => {
      await daemon.call('files.write', { path: 'survivor.txt', content: 'still here' });
      daemon.close();
      const before = events.length;
      await docker.getContainer(containerName(id)).kill();
      await waitFor(
        () => events.slice(before).some((event) => event.id === id && event.state === 'stopped'),
        10_000,
      );
      expect(events.slice(before).find((event) => event.state === 'stopped')).toMatchObject({
        id,
        reason: 'killed (SIGKILL)',
      });
      expect(await runtime.inspect(id)).toMatchObject({ state: 'stopped' });
      await expect(runtime.connect(id)).rejects.toMatchObject({ code: 'workspace_not_running' });
      await runtime.start(id);
      daemon = await runtime.connect(id);
      expect((await daemon.call('files.read', { path: 'survivor.txt' })).content).toBe(
        'still here',
      );
    }, 90_000);

    it('follows engine events again after the event stream drops', async () => {
      // What an engine restart looks like to the driver: the stream ends. It reconnects, resyncs
      // every workspace's state, and keeps reporting changes.
      const internals = runtime as unknown as {
        events: { stream: { destroy(): void } | null } | null;
      };
      const before = events.length;
      internals.events?.stream?.destroy();
      await waitFor(() =>
        events.slice(before).some((event) => event.id === id && event.state === 'running'),
      );
      const afterResync = events.length;
      await runtime.stop(id);
      await waitFor(() =>
        events.slice(afterResync).some((event) => event.id === id && event.state === 'stopped'),
      );
      await runtime.start(id);
      daemon = await runtime.connect(id);
    }, 60_000);

    it('reports stats and logs', async () => {
      const stats = await runtime.stats(id);
      expect(stats.memoryLimitBytes).toBe(256 * 1024 * 1024);
      expect(stats.pids).toBeGreaterThan(0);
      expect(typeof (await runtime.logs(id, 50))).toBe('string');
    });

    it('refuses a missing image with the command that builds it', async () => {
      await expect(runtime.create(spec({ image: 'studio/nothing-here:1' }))).rejects.toMatchObject({
        code: 'image_missing',
        message:
          'Image studio/nothing-here:1 is not built; run `studio images build nothing-here`.',
      });
    });

    it('moves homes through the engine’s archive API when their folders are out of reach', async () => {
      const remote = new DockerRuntime({
        docker,
        runtimeDir,
        stateDir: await tempStateDir(),
        allowHostPorts: [allowedHostPort],
        homeFolders: false,
      });
      const from = spec();
      const to = spec();
      await remote.create(from);
      await remote.start(from.id);
      const daemon = await remote.connect(from.id);
      await daemon.exec('sh', ['-c', 'mkdir -p a/b && echo far > a/b/c.txt']);
      daemon.close();
      await remote.create(to);
      try {
        await remote.importHome(to.id, await remote.exportHome(from.id));
        await remote.start(to.id);
        const copy = await remote.connect(to.id);
        const result = await copy.exec('sh', [
          '-c',
          'cat a/b/c.txt && echo more >> a/b/c.txt && echo ok',
        ]);
        expect(result.stdout).toBe('far\nok\n');
        copy.close();
      } finally {
        await remote.remove(from.id);
        await remote.remove(to.id);
      }
    }, 120_000);

    it("leaves another installation's workspaces alone on a shared engine", async () => {
      const options = { docker, runtimeDir, allowHostPorts: [allowedHostPort] };
      const ours = new DockerRuntime({
        ...options,
        stateDir: await tempStateDir(),
        installation: 'a',
      });
      const theirs = new DockerRuntime({
        ...options,
        stateDir: await tempStateDir(),
        installation: 'b',
      });
      const workspace = spec();
      await ours.create(workspace);
      try {
        expect((await ours.list()).map((status) => status.id)).toContain(workspace.id);
        expect((await theirs.list()).map((status) => status.id)).not.toContain(workspace.id);
        expect(await theirs.inspect(workspace.id)).toBeNull();
        await expect(theirs.remove(workspace.id)).rejects.toMatchObject({ code: 'not_found' });
        expect(await ours.inspect(workspace.id)).not.toBeNull();
      } finally {
        await ours.remove(workspace.id);
      }
    }, 120_000);

    it('says the engine is unavailable when nothing answers', async () => {
      const nowhere = new DockerRuntime({
        docker: new Docker({ socketPath: '/nonexistent/docker.sock' }),
        runtimeDir,
        stateDir: await tempStateDir(),
      });
      await expect(nowhere.create(spec())).rejects.toMatchObject({ code: 'engine_unavailable' });
      await expect(nowhere.list()).rejects.toMatchObject({ code: 'engine_unavailable' });
    });

    it('removes the container, the volume and the state folder', async () => {
      const workspace = spec();
      await runtime.create(workspace);
      const stateDir = (runtime as unknown as { options: { stateDir: string } }).options.stateDir;
      expect(await readdir(stateDir)).toContain(workspace.id);
      await runtime.remove(workspace.id);
      await expect(docker.getVolume(containerName(workspace.id)).inspect()).rejects.toMatchObject({
        statusCode: 404,
      });
      expect(await readdir(stateDir)).not.toContain(workspace.id);
      expect(await runtime.inspect(workspace.id)).toBeNull();
      await runtime.remove(workspace.id);
    });
  });
});

const screenshots = fileURLToPath(new URL('../../../../test-results/', import.meta.url));

describe.runIf(engineAnswers && daemonBuilt)('desktop template', () => {
  let runtime: DockerRuntime;
  let daemon: DaemonConnection;
  const id = `dt${Date.now().toString(36)}`;

  beforeAll(async () => {
    runtime = await openRuntime();
    await mkdir(screenshots, { recursive: true });
    // Built on base (a cache hit by now); cold, apt fetches the desktop packages: a minute or so.
    const template = await loadTemplate(imagesDir, 'desktop');
    const image = await buildTemplateImage({ docker, template, imagesDir, cacheDir });
    console.info(`[image] ${image.ref}: ${image.source} in ${image.durationMs} ms`);
    await runtime.create({
      id,
      name: 'Desktop Test',
      ownerId: 'owner-desktop',
      image: template.image.ref,
      resources: { cpus: 1, memoryMiB: 1024, pids: 256 },
      env: template.env,
      startCommands: template.startCommands,
    });
    await runtime.start(id);
    daemon = await runtime.connect(id);
  }, 30 * 60_000);

  afterAll(async () => {
    daemon?.close();
    await runtime?.remove(id).catch(() => {});
    await runtime?.close();
  }, 120_000);

  it('starts a desktop the daemon can see, type into and screenshot, with VNC inside only', async () => {
    // The session comes up in the background after the daemon: wait for the screen.
    let shot: Awaited<ReturnType<typeof daemon.call<'desktop.screenshot'>>> | null = null;
    for (let i = 0; i < 100 && !shot; i++) {
      shot = await daemon.call('desktop.screenshot', { maxWidth: 1024 }).catch(() => null);
      if (!shot) await sleep(200);
    }
    expect(shot).toMatchObject({ width: 1024, height: 640, screenWidth: 1280, screenHeight: 800 });
    expect(Buffer.from(shot!.png, 'base64').subarray(1, 4).toString('latin1')).toBe('PNG');
    await writeFile(join(screenshots, 'desktop-workspace.png'), Buffer.from(shot!.png, 'base64'));

    // The session's terminal (openbox autostarts it at 40,40): click into it and type a command.
    let titles: string[] = [];
    for (let i = 0; i < 100 && !titles.some((title) => title.includes('xterm')); i++) {
      const { windows } = await daemon.call('desktop.windows', {});
      titles = windows.filter((window) => window.type === 'normal').map((window) => window.title);
      if (!titles.length) await sleep(200);
    }
    const click = await daemon.call('desktop.input', { action: 'left_click', x: 300, y: 200 });
    expect(click.warning).toBeUndefined();
    const typed = await daemon.call('desktop.input', {
      action: 'type',
      text: 'echo done > ~/result.txt',
    });
    expect(typed.warning).toBeUndefined();
    await daemon.call('desktop.input', { action: 'key', keys: 'Return' });
    let written = '';
    for (let i = 0; i < 50 && written !== 'done\n'; i++) {
      written = await daemon.call('files.read', { path: 'result.txt' }).then(
        (file) => file.content,
        () => '',
      );
      if (written !== 'done\n') await sleep(100);
    }
    const after = await daemon.call('desktop.screenshot', {});
    await writeFile(join(screenshots, 'desktop-typed.png'), Buffer.from(after.png, 'base64'));
    expect(written).toBe('done\n');

    // VNC listens on loopback inside the workspace; the container publishes no ports.
    const { ports } = await daemon.call('ports.list', {});
    const vnc = ports.find((port) => port.port === 5900);
    expect(vnc).toMatchObject({ address: '127.0.0.1' });
    const container = docker.getContainer(containerName(id));
    expect((await container.inspect()).NetworkSettings.Ports ?? {}).toEqual({});

    // A crashed window manager or VNC server is started again.
    await daemon.exec('kill', [String(vnc!.pid)]);
    let back = false;
    for (let i = 0; i < 50 && !back; i++) {
      back = (await daemon.call('ports.list', {})).ports.some(
        (port) => port.port === 5900 && port.pid !== vnc!.pid,
      );
      if (!back) await sleep(200);
    }
    expect(back).toBe(true);
  }, 120_000);
});

describe('docker driver helpers', () => {
  it('demultiplexes engine log frames', () => {
    const frame = (type: number, text: string) => {
      const body = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = type;
      header.writeUInt32BE(body.length, 4);
      return Buffer.concat([header, body]);
    };
    expect(demuxLogs(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]))).toBe('out\nerr\n');
    expect(demuxLogs(Buffer.from('plain text\n'))).toBe('plain text\n');
  });

  it('names exit reasons in the user words', () => {
    expect(exitReason(137, true)).toBe('killed: out of memory');
    expect(exitReason(137, false)).toBe('killed (SIGKILL)');
    expect(exitReason(143, false)).toBeNull();
    expect(exitReason(2, false)).toBe('exited with code 2');
  });
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`Condition not met within ${timeoutMs} ms`);
}

// The same suite with every workspace under gVisor (the `sandboxed-kernel` class), where the
// engine has its runtime; CI registers it (.ci/docker.sh) and requires it.
const engineRuntimes = engineAnswers
  ? (((await docker.info()) as { Runtimes?: Record<string, unknown> }).Runtimes ?? {})
  : {};
// Run when asked (STUDIO_TEST_GVISOR=1), not wherever runsc is found: Debian 12's runsc
// (2022-12) loses a sandbox now and then (about one run in three here, in the ports test; and see
// fillTmp), so CI does not run it until a newer gVisor is packaged.
const requireGvisor = process.env.STUDIO_TEST_GVISOR === '1';
const gvisor = requireGvisor && 'runsc' in engineRuntimes;
describe.runIf(requireGvisor && engineAnswers && !gvisor)('gVisor prerequisites', () => {
  it('has the runsc runtime registered with the engine', () => {
    throw new Error(
      'STUDIO_TEST_GVISOR=1 but the engine has no "runsc" runtime: install runsc and register it (docs/DESIGN.md, Drivers).',
    );
  });
});
/** A workspace under gVisor, with the conformance suite's limits. */
function sandboxed(id: string, name: string): WorkspaceSpec {
  return {
    id,
    name,
    ownerId: 'owner-g',
    image: IMAGE,
    resources: { cpus: 1, memoryMiB: 256, pids: 128 },
    env: {},
    startCommands: [],
    isolation: 'sandboxed-kernel',
  };
}

describe.runIf(gvisor && daemonBuilt)('docker driver under gVisor', () => {
  beforeAll(() => ensureBaseImage(), 15 * 60_000);
  runRuntimeConformance({
    name: 'docker (gVisor)',
    image: IMAGE,
    // Not as runc holds them: gVisor's tasks are not the engine's processes, so the pids limit
    // does not count them, and a process over the memory limit ends the whole sandbox (below).
    limits: false,
    networkIsolation: true,
    diskLimits: requireDocker,
    open: openRuntime,
    // gVisor's own kernel lives in the workspace's memory: 256 MiB left too little to be sure.
    spec: { isolation: 'sandboxed-kernel', resources: { cpus: 1, memoryMiB: 512, pids: 128 } },
    fillTmp: false,
  });

  it('ends the whole workspace, not the machine, when a process passes the memory limit', async () => {
    const runtime = await openRuntime();
    const id = `m${Date.now().toString(36)}`;
    try {
      await runtime.create(sandboxed(id, 'gvisor-memory'));
      await runtime.start(id);
      const daemon = await runtime.connect(id);
      await daemon
        .exec('python3', ['-c', 'a = bytearray(1024 * 1024 * 1024)'], { timeoutMs: 60_000 })
        .catch(() => null);
      daemon.close();
      await expect
        .poll(async () => (await runtime.inspect(id))?.state, { timeout: 30_000 })
        .not.toBe('running');
      expect((await runtime.inspect(id))?.reason).toMatch(/out of memory|exited/);
      // And it starts again, its home as it was.
      expect((await runtime.start(id)).state).toBe('running');
    } finally {
      await runtime.remove(id);
      await runtime.close();
    }
  }, 120_000);

  it('runs the workspace on gVisor’s kernel, not the host’s', async () => {
    const runtime = await openRuntime();
    const id = `g${Date.now().toString(36)}`;
    try {
      await runtime.create(sandboxed(id, 'gvisor'));
      const status = await runtime.start(id);
      expect(status.isolation).toBe('sandboxed-kernel');
      const daemon = await runtime.connect(id);
      // gVisor's dmesg is its own ("Starting gVisor..."); the host's kernel log is not there.
      const result = await daemon.exec('sh', ['-c', 'dmesg 2>&1 | head -3; uname -r']);
      daemon.close();
      expect(result.stdout).toMatch(/gVisor/);
      expect((await docker.getContainer(containerName(id)).inspect()).HostConfig.Runtime).toBe(
        'runsc',
      );
    } finally {
      await runtime.remove(id);
      await runtime.close();
    }
  }, 120_000);
});
