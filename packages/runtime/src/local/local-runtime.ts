import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import {
  chmod,
  chown,
  mkdir,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectDaemon } from '../daemon-client.ts';
import { type DiskSpec, ensureDisk, loopDisksAvailable, releaseDisk } from '../disk.ts';
import {
  RuntimeError,
  daemonEnv,
  newDaemonSecret,
  type DaemonConnection,
  type Isolation,
  type ProgressListener,
  type RuntimeEvent,
  type WorkspaceRuntime,
  type WorkspaceSpec,
  type WorkspaceCapacity,
  type WorkspaceStats,
  type WorkspaceStatus,
} from '../runtime.ts';
import { cgroupOf, detectCgroups } from './cgroups.ts';
import { packFolder, unpackInto } from '../home-archive.ts';
import { INSIDE, bwrapArgs, passwdFor } from './sandbox.ts';
import { stageRuntime } from './staged-runtime.ts';
import { checkId, notFound, untilDaemon } from '../kernel.ts';
import {
  RESOLV_CONF,
  attachNetwork,
  installLocalFirewall,
  pickNetworkGid,
  namespaceHolder,
  OWN_NETWORK,
  slirpAvailable,
} from './network.ts';

/** How the local driver runs workspaces. */
export interface LocalRuntimeOptions {
  /** Folder holding one subfolder per workspace. */
  dir: string;
  /** The daemon runtime folder: `bin/node`, `daemon.mjs`, `node_modules/`. */
  runtimeDir: string;
  /** `auto` uses bubblewrap when installed; `bwrap` requires it; `none` never sandboxes. */
  sandbox?: 'auto' | 'bwrap' | 'none';
  /**
   * `isolated`: each workspace has a network namespace of its own (its own loopback and ports),
   * reaching the internet through slirp4netns but never the host's loopback; `host`: workspaces
   * share the host's network (one person on their own machine).
   */
  network?: 'host' | 'isolated';
  /** Host TCP ports isolated workspaces may reach, at 10.0.2.2 (a git server on this machine). */
  allowHostPorts?: number[];
  /** The uid/gid workspaces run as when the server runs as root. */
  uid?: number;
  gid?: number;
  /** How long `start` waits for the daemon to answer. */
  startTimeoutMs?: number;
}

interface Stored {
  spec: WorkspaceSpec;
  createdAt: string;
  /** What the user last asked for: a daemon found dead while `running` was wanted crashed. */
  desired: 'running' | 'stopped';
  startedAt: string | null;
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const POLL_MS = 1000;
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The zero-dependency driver: a workspace is a folder, its daemon a detached child process
 * (so it outlives a server restart), sandboxed by bubblewrap when installed and held to the
 * template's limits by cgroups when the server may write them.
 */
export class LocalRuntime implements WorkspaceRuntime {
  readonly kind = 'local' as const;
  readonly isolation: Isolation;
  /** Desktops need what the templates' images bring (Xvfb, a window manager, a VNC server). */
  readonly capabilities = { desktop: false };
  /** Whether cgroup limits (pids, memory, CPU) are enforced. */
  readonly limitsEnforced: boolean;
  private readonly options: Required<LocalRuntimeOptions>;
  private readonly cgroups: Awaited<ReturnType<typeof detectCgroups>>;
  private readonly listeners = new Set<(event: RuntimeEvent) => void>();
  private poller: NodeJS.Timeout | null = null;
  private readonly lastSeen = new Map<string, boolean>();
  private readonly root = process.getuid?.() === 0;
  /** Whether workspaces share the host's network (ports, loopback). */
  readonly hostNetwork: boolean;
  /** What the driver set up on the host, for the server's log. */
  readonly notes: string[] = [];
  /** The group slirp4netns runs with when the server is root (the firewall matches it). */
  private networkGid: number | null = null;

  private constructor(
    options: Required<LocalRuntimeOptions>,
    isolation: Isolation,
    cgroups: Awaited<ReturnType<typeof detectCgroups>>,
  ) {
    this.options = options;
    this.isolation = isolation;
    this.cgroups = cgroups;
    this.limitsEnforced = cgroups !== null;
    this.hostNetwork = options.network !== 'isolated';
  }

  /** Detect bubblewrap and cgroups, and prepare the workspaces folder. */
  static async open(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const sandbox = options.sandbox ?? 'auto';
    const hasBwrap = sandbox !== 'none' && bwrapWorks();
    if (sandbox === 'bwrap' && !hasBwrap) {
      throw new RuntimeError(
        'isolation_unavailable',
        'The local driver was asked to sandbox with bubblewrap, but `bwrap` is not installed or cannot create namespaces here. Install it (apt-get install bubblewrap) or set STUDIO_LOCAL_SANDBOX=none.',
      );
    }
    if (!existsSync(join(options.runtimeDir, 'daemon.mjs'))) {
      throw new RuntimeError(
        'internal',
        `The workspace daemon is not built (${options.runtimeDir} has no daemon.mjs); run npm run build.`,
      );
    }
    await mkdir(options.dir, { recursive: true });
    // Workspace users must be able to pass through (not list) the folder to reach their own.
    await chmod(options.dir, 0o711);
    let runtimeDir = options.runtimeDir;
    if (process.getuid?.() === 0) {
      await assertTraversable(options.dir);
      // Workspaces run as another user, who must be able to read the runtime the sandbox mounts.
      runtimeDir = await stageRuntime(options.runtimeDir, options.dir);
    }
    if (options.network === 'isolated') {
      if (!hasBwrap)
        throw new RuntimeError(
          'isolation_unavailable',
          'Workspaces with a network of their own need bubblewrap (apt-get install bubblewrap).',
        );
      if (!slirpAvailable())
        throw new RuntimeError(
          'isolation_unavailable',
          'Workspaces with a network of their own need slirp4netns (apt-get install slirp4netns).',
        );
    }
    const cgroups = await detectCgroups();
    const runtime = new LocalRuntime(
      {
        sandbox,
        network: 'host',
        allowHostPorts: [],
        uid: 1000,
        gid: 1000,
        startTimeoutMs: 15_000,
        ...options,
        runtimeDir,
      },
      hasBwrap ? 'bwrap' : 'none',
      cgroups,
    );
    if (options.network === 'isolated' && runtime.root) {
      runtime.networkGid = await pickNetworkGid(runtime.options.allowHostPorts);
      runtime.notes.push(
        ...(await installLocalFirewall(runtime.networkGid, runtime.options.allowHostPorts)),
      );
    }
    return runtime;
  }

  async create(spec: WorkspaceSpec, onProgress?: ProgressListener): Promise<WorkspaceStatus> {
    const dir = this.dirOf(spec.id);
    if (existsSync(join(dir, 'workspace.json'))) {
      throw new RuntimeError('already_exists', `Workspace ${spec.id} already exists.`);
    }
    onProgress?.('creating', 'preparing the workspace folder');
    await mkdir(dir, { recursive: true });
    // Home and the daemon's socket folder are the workspace's only writable places; with a disk
    // limit both live on the workspace's own filesystem, so neither can fill the host's disk.
    if (spec.resources.diskMiB && (await this.diskLimits())) {
      onProgress?.('creating', `a ${spec.resources.diskMiB} MiB disk`);
      await ensureDisk(this.diskOf(spec.id, spec.resources.diskMiB));
    }
    await mkdir(join(dir, 'fs', 'home'), { recursive: true });
    await mkdir(join(dir, 'fs', 'run'), { recursive: true });
    await writeFile(join(dir, 'passwd'), passwdFor(this.options.uid, this.options.gid));
    // The server's copy, outside what the workspace can see; each start hands the daemon its own.
    await writeFile(join(dir, 'secret'), newDaemonSecret(), { mode: 0o600 });
    if (this.root) {
      for (const path of [join(dir, 'fs', 'home'), join(dir, 'fs', 'run')]) {
        await chown(path, this.options.uid, this.options.gid);
      }
    }
    await this.save(spec.id, {
      spec,
      createdAt: new Date().toISOString(),
      desired: 'stopped',
      startedAt: null,
    });
    return this.statusOf(spec.id);
  }

  async start(id: string, onProgress?: ProgressListener): Promise<WorkspaceStatus> {
    const stored = await this.load(id);
    if (!(await this.isAlive(id))) {
      onProgress?.('starting', 'starting the workspace daemon');
      await this.launch(stored);
    }
    onProgress?.('starting', 'waiting for the workspace daemon');
    const connection = await this.waitForDaemon(id);
    connection.close();
    return this.observed(await this.statusOf(id));
  }

  async stop(id: string): Promise<WorkspaceStatus> {
    const stored = await this.load(id);
    await this.save(id, { ...stored, desired: 'stopped', startedAt: null });
    await this.kill(id);
    return this.observed(await this.statusOf(id));
  }

  async remove(id: string): Promise<void> {
    if (!existsSync(this.dirOf(id))) return;
    await this.kill(id);
    await releaseDisk(join(this.dirOf(id), 'fs'));
    await rm(this.dirOf(id), { recursive: true, force: true });
    this.lastSeen.delete(id);
    if (this.cgroups) await (await cgroupOf(this.cgroups, id)).remove();
  }

  /** Workspaces run on this machine. */
  async capacity(): Promise<WorkspaceCapacity> {
    return { cpus: availableParallelism(), memoryMiB: Math.floor(totalmem() / 1024 / 1024) };
  }

  /** Disk limits need root (for loop devices); without them `diskMiB` is not enforced. */
  diskLimits(): Promise<boolean> {
    return this.root ? loopDisksAvailable() : Promise.resolve(false);
  }

  async inspect(id: string): Promise<WorkspaceStatus | null> {
    if (!existsSync(join(this.dirOf(id), 'workspace.json'))) return null;
    return this.statusOf(id);
  }

  async list(): Promise<WorkspaceStatus[]> {
    const names = await readdir(this.options.dir).catch(() => []);
    const statuses = await Promise.all(names.map((name) => this.inspect(name)));
    return statuses.filter((status): status is WorkspaceStatus => status !== null);
  }

  async connect(id: string): Promise<DaemonConnection> {
    await this.load(id);
    if (!(await this.isAlive(id))) {
      throw new RuntimeError(
        'workspace_not_running',
        `Workspace ${id} is not running; start it first.`,
      );
    }
    return connectDaemon({
      socketPath: join(this.dirOf(id), 'fs', 'run', 'daemon.sock'),
      secret: await this.secretOf(id),
      timeoutMs: 2000,
    });
  }

  async logs(id: string, tail = 200): Promise<string> {
    await this.load(id);
    const text = await readFile(join(this.dirOf(id), 'daemon.log'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .slice(-tail - 1)
      .join('\n');
  }

  async exportHome(id: string): Promise<Readable> {
    await this.load(id);
    return packFolder(join(this.dirOf(id), 'fs', 'home'));
  }

  async importHome(id: string, archive: Readable): Promise<void> {
    await this.load(id);
    await unpackInto(join(this.dirOf(id), 'fs', 'home'), archive);
  }

  async stats(id: string): Promise<WorkspaceStats> {
    const stored = await this.load(id);
    const cgroup = this.cgroups ? await cgroupOf(this.cgroups, id) : null;
    const pids = cgroup ? await cgroup.pids() : await this.processTree(id);
    const before = await cpuTicks(pids);
    await sleep(200);
    const after = await cpuTicks(pids);
    // Clock ticks are 1/100 s on Linux: ticks per 200 ms × 100 / 20 = percent of one core.
    const cpuPercent = Math.max(0, ((after - before) / 20) * 100);
    return {
      cpuPercent,
      memoryBytes: cgroup ? await cgroup.memoryBytes() : await rssOf(pids),
      memoryLimitBytes: cgroup ? stored.spec.resources.memoryMiB * 1024 * 1024 : null,
      pids: pids.length,
    };
  }

  onEvent(listener: (event: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    // There is no engine to tell us a daemon died, so poll the (few) local workspaces.
    this.poller ??= setInterval(() => void this.poll(), POLL_MS).unref();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.poller) {
        clearInterval(this.poller);
        this.poller = null;
      }
    };
  }

  async close(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    this.listeners.clear();
  }

  // --- internals ---

  private dirOf(id: string): string {
    checkId(id, ID_PATTERN, '1–64 letters, digits, dashes or underscores');
    return join(this.options.dir, id);
  }

  private diskOf(id: string, sizeMiB: number): DiskSpec {
    const dir = this.dirOf(id);
    return {
      image: join(dir, 'disk.img'),
      mountpoint: join(dir, 'fs'),
      sizeMiB,
      uid: this.options.uid,
      gid: this.options.gid,
    };
  }

  private async load(id: string): Promise<Stored> {
    const text = await readFile(join(this.dirOf(id), 'workspace.json'), 'utf8').catch(() => null);
    if (text === null) throw notFound(id);
    return JSON.parse(text) as Stored;
  }

  private async save(id: string, stored: Stored): Promise<void> {
    const path = join(this.dirOf(id), 'workspace.json');
    await writeFile(`${path}.tmp`, JSON.stringify(stored, null, 2));
    await rename(`${path}.tmp`, path);
  }

  private async secretOf(id: string): Promise<string> {
    const dir = this.dirOf(id);
    const copy = await readFile(join(dir, 'secret'), 'utf8').catch(() => null);
    if (copy !== null) return copy.trim();
    // A workspace made before the server kept its own copy: adopt the one in the run folder.
    const legacy = (await readFile(join(dir, 'fs', 'run', 'secret'), 'utf8')).trim();
    await writeFile(join(dir, 'secret'), legacy, { mode: 0o600 });
    return legacy;
  }

  /**
   * The daemon reads its secret at start and removes the file, so the workspace's own processes
   * (running as the same user) never find it; each start writes it again.
   */
  private async handSecret(id: string): Promise<void> {
    const file = join(this.dirOf(id), 'fs', 'run', 'secret');
    const secret = await this.secretOf(id);
    // The workspace could have put a symlink there: never write through it.
    await rm(file, { force: true });
    await writeFile(file, secret, { mode: 0o600, flag: 'wx' });
    if (this.root) await chown(file, this.options.uid, this.options.gid);
  }

  private async pidOf(id: string): Promise<number | null> {
    const text = await readFile(join(this.dirOf(id), 'daemon.pid'), 'utf8').catch(() => null);
    const pid = Number(text);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  }

  /** The recorded pid is alive and still ours (pids get reused after a reboot or a crash). */
  private async isAlive(id: string): Promise<boolean> {
    const pid = await this.pidOf(id);
    if (pid === null) return false;
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    // An empty cmdline is a process in the middle of exec: still ours.
    return cmdline === '' || (cmdline.includes('daemon.mjs') && cmdline.includes(id));
  }

  private async statusOf(id: string): Promise<WorkspaceStatus> {
    const stored = await this.load(id);
    const alive = await this.isAlive(id);
    let reason: string | null = null;
    if (!alive && stored.desired === 'running') {
      const cgroup = this.cgroups ? await cgroupOf(this.cgroups, id) : null;
      reason = (await cgroup?.oomKilled())
        ? 'killed: out of memory'
        : 'the workspace daemon exited; see the workspace logs';
    }
    return {
      id,
      state: alive ? 'running' : 'stopped',
      isolation: this.isolation,
      startedAt: alive && stored.startedAt ? new Date(stored.startedAt) : null,
      reason,
      labels: {
        'studio.workspace': id,
        'studio.owner': stored.spec.ownerId,
        'studio.name': stored.spec.name,
      },
    };
  }

  private async launch(stored: Stored): Promise<void> {
    const { spec } = stored;
    const dir = this.dirOf(spec.id);
    // After a reboot the workspace's disk is no longer mounted.
    if (existsSync(join(dir, 'disk.img'))) {
      await ensureDisk(this.diskOf(spec.id, spec.resources.diskMiB ?? 0));
    }
    const sandboxed = this.isolation === 'bwrap';
    const isolated = sandboxed && !this.hostNetwork;
    if (isolated) await writeFile(join(dir, 'resolv.conf'), RESOLV_CONF);
    const runtime = sandboxed ? INSIDE.runtime : this.options.runtimeDir;
    const home = sandboxed ? INSIDE.home : join(dir, 'fs', 'home');
    const run = sandboxed ? INSIDE.run : join(dir, 'fs', 'run');
    // A clean environment: nothing of the server's (database URL, secrets, API keys) leaks in.
    const env = daemonEnv(spec.env, {
      PATH,
      HOME: home,
      USER: 'user',
      SHELL: '/bin/bash',
      LANG: 'C.UTF-8',
      STUDIO_WORKSPACE_ID: spec.id,
      STUDIO_DAEMON_LISTEN: `unix:${run}/daemon.sock`,
      STUDIO_DAEMON_SECRET_FILE: `${run}/secret`,
      STUDIO_WORKSPACE_ROOT: home,
      STUDIO_START_COMMANDS: JSON.stringify(spec.startCommands),
      // Start commands wait for the network device, attached just after the sandbox starts.
      ...(isolated ? { STUDIO_NETWORK_DEVICE: 'tap0' } : {}),
    });
    let argv = [`${runtime}/bin/node`, `${runtime}/daemon.mjs`, `--workspace=${spec.id}`];
    if (sandboxed) {
      argv = [
        'bwrap',
        ...bwrapArgs({
          hostname: spec.name.slice(0, 63),
          homeDir: join(dir, 'fs', 'home'),
          runDir: join(dir, 'fs', 'run'),
          runtimeDir: this.options.runtimeDir,
          passwdFile: join(dir, 'passwd'),
          uid: this.options.uid,
          gid: this.options.gid,
          ...(isolated ? { resolvConf: join(dir, 'resolv.conf') } : {}),
          tmpfsBytes: Math.floor(spec.resources.memoryMiB / 4) * 1024 * 1024,
        }),
        '--',
        ...argv,
      ];
      if (isolated) argv = [...OWN_NETWORK, ...argv];
    }
    if (this.root) {
      // Never run a workspace as root: drop to the workspace user before anything else runs.
      argv = [
        'setpriv',
        `--reuid=${this.options.uid}`,
        `--regid=${this.options.gid}`,
        '--clear-groups',
        '--',
        ...argv,
      ];
    }
    const procsFiles: string[] = [];
    if (this.cgroups) {
      const cgroup = await cgroupOf(this.cgroups, spec.id);
      await cgroup.setLimits(spec.resources);
      procsFiles.push(...cgroup.procsFiles);
    }
    await rm(join(dir, 'fs', 'run', 'daemon.sock'), { force: true });
    await this.handSecret(spec.id);
    const log = openSync(join(dir, 'daemon.log'), 'a');
    // The shell joins the cgroups itself before starting the sandbox, so no child is ever
    // outside them. It stays as the sandbox's parent (no exec): the workspace outlives the
    // server (the shell is in its own session), and stopping the shell stops the workspace
    // (bwrap --die-with-parent).
    const child = spawn(
      '/bin/sh',
      [
        '-c',
        'for f in $STUDIO_CGROUP_PROCS; do echo $$ > "$f" || exit 97; done; unset STUDIO_CGROUP_PROCS; "$@"',
        'studio-workspace',
        ...argv,
      ],
      {
        env: { ...env, STUDIO_CGROUP_PROCS: procsFiles.join(' ') },
        stdio: ['ignore', log, log],
        // Its own session: the workspace outlives a server restart and can be stopped as a group.
        detached: true,
        cwd: join(dir, 'fs', 'home'),
      },
    );
    closeSync(log);
    child.unref();
    const pid = child.pid;
    if (pid === undefined)
      throw new RuntimeError('internal', 'Could not start the workspace daemon.');
    await writeFile(join(dir, 'daemon.pid'), String(pid));
    if (isolated) {
      try {
        const helper = await attachNetwork({
          pid: await namespaceHolder(pid),
          credentials:
            this.root && this.networkGid !== null
              ? { uid: this.options.uid, gid: this.networkGid }
              : null,
          hostLoopback: this.options.allowHostPorts.length > 0 && this.networkGid !== null,
          procsFiles,
          logFile: join(dir, 'network.log'),
        });
        await writeFile(join(dir, 'network.pid'), String(helper));
      } catch (error) {
        await this.kill(spec.id);
        throw error;
      }
    }
    await this.save(spec.id, {
      ...stored,
      desired: 'running',
      startedAt: new Date().toISOString(),
    });
  }

  private async waitForDaemon(id: string): Promise<DaemonConnection> {
    const socketPath = join(this.dirOf(id), 'fs', 'run', 'daemon.sock');
    const secret = await this.secretOf(id);
    return untilDaemon({
      id,
      timeoutMs: this.options.startTimeoutMs,
      pollMs: 10,
      check: async () => {
        if (await this.isAlive(id)) return;
        const log = (await this.logs(id, 20)).trim() || '(nothing)';
        throw new RuntimeError(
          'unavailable',
          `Workspace ${id} stopped while starting. Its last log lines:\n${log}`,
        );
      },
      attempt: () =>
        existsSync(socketPath)
          ? connectDaemon({ socketPath, secret, timeoutMs: 1000 })
          : Promise.resolve(null),
      explain: async () => `Its last log lines:\n${await this.logs(id, 20)}`,
    });
  }

  private async kill(id: string): Promise<void> {
    const helper = Number(
      await readFile(join(this.dirOf(id), 'network.pid'), 'utf8').catch(() => ''),
    );
    if (Number.isInteger(helper) && helper > 0) {
      const cmdline = await readFile(`/proc/${helper}/cmdline`, 'utf8').catch(() => '');
      // Still ours (pids are reused): the helper named this workspace's sandbox.
      if (cmdline.includes('slirp4netns')) signalGroup(helper, 'SIGKILL');
      await rm(join(this.dirOf(id), 'network.pid'), { force: true });
    }
    const pid = await this.pidOf(id);
    if (pid !== null && (await this.isAlive(id))) {
      signalGroup(pid, 'SIGTERM');
      for (let i = 0; i < 50 && (await this.isAlive(id)); i++) await sleep(20);
      signalGroup(pid, 'SIGKILL');
    }
    if (this.cgroups) {
      // Anything that escaped the process group (a double fork, a new session) is still in the cgroup.
      const cgroup = await cgroupOf(this.cgroups, id);
      for (let i = 0; i < 50; i++) {
        const pids = await cgroup.pids();
        if (pids.length === 0) break;
        for (const member of pids) signal(member, 'SIGKILL');
        await sleep(20);
      }
    }
    await rm(join(this.dirOf(id), 'daemon.pid'), { force: true });
  }

  private async processTree(id: string): Promise<number[]> {
    const pid = await this.pidOf(id);
    if (pid === null) return [];
    const result = spawnSync('pgrep', ['-g', String(pid)], { encoding: 'utf8' });
    return result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => Number(line));
  }

  private async poll(): Promise<void> {
    const names = await readdir(this.options.dir).catch(() => []);
    for (const id of names) {
      const alive = await this.isAlive(id).catch(() => false);
      // The first sight of a workspace is no change.
      if (!this.lastSeen.has(id)) this.lastSeen.set(id, alive);
      if (this.lastSeen.get(id) === alive) continue;
      const status = await this.statusOf(id).catch(() => null);
      if (status) this.observed(status);
    }
  }

  /** Tell listeners of a change once, whether this driver made it (start, stop) or saw it. */
  private observed(status: WorkspaceStatus): WorkspaceStatus {
    const alive = status.state === 'running';
    if (this.lastSeen.get(status.id) === alive) return status;
    this.lastSeen.set(status.id, alive);
    for (const listener of this.listeners) {
      listener({ id: status.id, state: status.state, reason: status.reason });
    }
    return status;
  }
}

/** Whether an unprivileged user can pass through every folder above `dir`. */
export async function isReachableByWorkspaces(dir: string): Promise<boolean> {
  return assertTraversable(dir).then(
    () => true,
    () => false,
  );
}

/** Every folder above `dir` must let the (unprivileged) workspace user pass through. */
async function assertTraversable(dir: string): Promise<void> {
  for (let current = dirname(dir); ; current = dirname(current)) {
    const mode = await stat(current).then(
      (stats) => stats.mode,
      () => 0o755, // not created yet: mkdir makes it traversable
    );
    if ((mode & 0o001) === 0) {
      throw new RuntimeError(
        'isolation_unavailable',
        `Workspaces run as an unprivileged user, who cannot pass through ${current} (mode ${(mode & 0o777).toString(8)}). Run chmod o+x ${current}, or keep the data dir elsewhere.`,
      );
    }
    if (current === dirname(current)) return;
  }
}

/** Whether local workspaces can each have a network of their own here (bubblewrap, slirp4netns). */
export function localNetworkAvailable(): boolean {
  return bwrapWorks() && slirpAvailable();
}

/**
 * Whether bubblewrap can make a user namespace here. What the host can do does not change while
 * the process runs, so it is asked once: two probes on a busy machine could disagree (one timing
 * out), and a runtime told "isolated" by the first would then refuse to open.
 */
let bwrapProbe: boolean | undefined;
function bwrapWorks(): boolean {
  bwrapProbe ??=
    spawnSync('bwrap', ['--unshare-user', '--ro-bind', '/', '/', 'true'], {
      stdio: 'ignore',
      timeout: 30_000,
    }).status === 0;
  return bwrapProbe;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function signalGroup(pid: number, name: NodeJS.Signals): void {
  signal(-pid, name);
  signal(pid, name);
}

async function cpuTicks(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    total += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  }
  return total;
}

async function rssOf(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const text = await readFile(`/proc/${pid}/statm`, 'utf8').catch(() => '');
    total += Number(text.split(' ')[1] ?? 0) * 4096;
  }
  return total;
}
