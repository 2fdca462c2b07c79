import { constants, existsSync } from 'node:fs';
import {
  access,
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { create as createTar } from 'tar';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { connectDaemon } from '../daemon-client.ts';
import { type DiskSpec, ensureDisk, loopDisksAvailable, releaseDisk } from '../disk.ts';
import {
  RuntimeError,
  daemonEnv,
  newDaemonSecret,
  type DaemonConnection,
  type DevcontainerBuild,
  type ProgressListener,
  type RuntimeEvent,
  type WorkspaceCapacity,
  type WorkspaceRuntime,
  type WorkspaceSpec,
  type WorkspaceState,
  type WorkspaceStats,
  type WorkspaceStatus,
} from '../runtime.ts';
import {
  buildDevcontainer,
  checkDevcontainerConfig,
  findDevcontainerConfig,
  unpackPlain,
} from './devcontainer.ts';
import {
  engineHostOf,
  followProgress,
  engineMessage,
  engineStatus,
  isEngineUnreachable,
  toRuntimeError,
} from './engine.ts';
import { dockerfileStages } from './dockerfile.ts';
import { installFirewall, type FirewallReport } from './firewall.ts';
import type { Readable } from 'node:stream';
import { packFolder, unpackInto } from '../home-archive.ts';
import { hostnameOf } from '../hostname.ts';
import { checkId as checkIdAgainst, missingStatus, notFound, untilDaemon } from '../kernel.ts';

/** Where the Docker driver reports what it did on the host (network, firewall, event stream). */
export interface DockerRuntimeLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** How the Docker driver runs workspaces. */
export interface DockerRuntimeOptions {
  docker: Dockerode;
  /** Host folder with the daemon runtime (`bin/node`, `daemon.mjs`, `node_modules/`), mounted read-only at /opt/studio. */
  runtimeDir: string;
  /** Host folder with one subfolder per workspace, bind-mounted at /run/studio (socket + secret). */
  stateDir: string;
  /** The bridge network workspaces join; created on first use. */
  network?: string;
  /** Linux name of that network's bridge interface (≤ 15 chars), used by the firewall rules. */
  bridgeName?: string;
  /** Install host firewall rules for the network when running as root (default true). */
  firewall?: boolean;
  /** Host TCP ports workspaces may still reach through the firewall (e.g. a git server here). */
  allowHostPorts?: readonly number[];
  /**
   * This server installation's id. Its containers carry it, and it sees only those: another
   * server on the same engine (a test, a second install) never lists, adopts or removes them.
   */
  installation?: string;
  /** How long `start` waits for the daemon to answer. */
  startTimeoutMs?: number;
  logger?: DockerRuntimeLogger;
  /**
   * Read and write homes through their folders on this machine when the engine is local and
   * this process may (default true); false always goes through the engine's archive API, as
   * with a remote engine.
   */
  homeFolders?: boolean;
}

/** The uid:gid every workspace process runs as; images create user 1000 with home /home/user. */
const WORKSPACE_UID = 1000;
const WORKSPACE_GID = 1000;
const HOME = '/home/user';
const RUN_DIR = '/run/studio';
const MANAGED = 'studio.managed';
/** Which server installation made a container: servers sharing an engine leave each other's alone. */
const INSTALLATION = 'studio.installation';
/** Which isolation class a container runs under (`sandboxed-kernel`: gVisor). */
const ISOLATION = 'studio.isolation';
/** The engine's name for gVisor's runtime (`dockerd --add-runtime`, or daemon.json's `runtimes`). */
const SANDBOX_RUNTIME = 'runsc';
/** The image a workspace's dev container is built into; removed with the workspace. */
const devcontainerImageOf = (id: string) => `studio-devcontainer/${id}:latest`;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** Seconds `docker stop` waits after SIGTERM before SIGKILL: the daemon only closes sockets. */
const STOP_TIMEOUT_S = 5;

const silent: DockerRuntimeLogger = { info: () => {}, warn: () => {} };

/**
 * The Docker driver: one container + one named volume per workspace, running the workspace
 * daemon as uid 1000 with every capability dropped, no-new-privileges, pids/memory/CPU limits
 * and its own bridge network without inter-container traffic. Works against Docker Engine and
 * Podman's Docker-compatible API.
 */
export class DockerRuntime implements WorkspaceRuntime {
  readonly kind = 'docker' as const;
  readonly isolation = 'container' as const;
  readonly hostNetwork = false;
  readonly capabilities = { desktop: true };
  /** What the best-effort host firewall did, once the network was first needed. */
  firewall: FirewallReport | null = null;

  private readonly docker: Dockerode;
  private readonly options: Required<Omit<DockerRuntimeOptions, 'docker' | 'logger'>>;
  private readonly logger: DockerRuntimeLogger;
  private networkReady: Promise<void> | null = null;
  private engineInfo: Promise<unknown> | null = null;
  private readonly listeners = new Set<(event: RuntimeEvent) => void>();
  private events: { stream: NodeJS.ReadableStream | null; stopped: boolean } | null = null;
  /** Signal of the last `kill` event per workspace, to explain the `die` after it. */
  private readonly killedBy = new Map<string, string>();

  constructor(options: DockerRuntimeOptions) {
    this.docker = options.docker;
    this.logger = options.logger ?? silent;
    this.options = {
      runtimeDir: options.runtimeDir,
      stateDir: options.stateDir,
      network: options.network ?? 'studio-workspaces',
      bridgeName: options.bridgeName ?? 'studio-ws0',
      firewall: options.firewall ?? true,
      allowHostPorts: options.allowHostPorts ?? [],
      installation: options.installation ?? '',
      startTimeoutMs: options.startTimeoutMs ?? 60_000,
      homeFolders: options.homeFolders ?? true,
    };
  }

  async create(spec: WorkspaceSpec, onProgress?: ProgressListener): Promise<WorkspaceStatus> {
    checkId(spec.id);
    const name = containerName(spec.id);
    const progress = onProgress ?? (() => {});

    progress('checking', `image ${spec.image}`);
    if (spec.isolation === 'sandboxed-kernel') await this.requireSandbox();
    await this.requireImage(spec.image);
    if (await this.inspectContainer(spec.id)) {
      throw new RuntimeError('already_exists', `Workspace ${spec.id} already exists.`);
    }
    progress('network', this.options.network);
    await this.ensureNetwork();

    const labels = {
      [MANAGED]: 'true',
      ...(this.options.installation && { [INSTALLATION]: this.options.installation }),
      'studio.workspace': spec.id,
      'studio.owner': spec.ownerId,
      'studio.name': spec.name,
      [ISOLATION]: spec.isolation ?? 'container',
    };
    // With a disk limit, home and the daemon's socket folder (the workspace's only writable
    // places besides its size-capped tmpfs) live on the workspace's own filesystem.
    const diskMiB = spec.resources.diskMiB;
    const limited = diskMiB !== undefined && (await this.diskLimits());
    if (limited) {
      progress('disk', `${diskMiB} MiB`);
      await ensureDisk(this.diskOf(spec.id, diskMiB));
      await mkdir(this.homeDirOf(spec.id), { recursive: true });
      await this.ownByWorkspace(this.homeDirOf(spec.id));
    }
    progress('volume', name);
    try {
      await this.docker.createVolume({
        Name: name,
        Labels: labels,
        ...(limited && {
          DriverOpts: { type: 'none', o: 'bind', device: this.homeDirOf(spec.id) },
        }),
      });
    } catch (error) {
      await this.removeDisk(spec.id);
      throw toRuntimeError(this.docker, error, `Creating volume ${name}`);
    }
    await this.writeState(spec.id);

    progress('container', name);
    try {
      await this.createContainer(spec, labels);
    } catch (error) {
      await this.docker
        .getVolume(name)
        .remove()
        .catch(() => {});
      await this.removeDisk(spec.id);
      throw error;
    }
    return this.mustInspect(spec.id);
  }

  /** The workspace's container, on its existing volume and state folder. */
  private async createContainer(
    spec: WorkspaceSpec,
    labels: Record<string, string>,
  ): Promise<void> {
    const name = containerName(spec.id);
    const memory = Math.round(spec.resources.memoryMiB * 1024 * 1024);
    // `exec`: Docker makes a tmpfs noexec unless told, and toolchains run what they build there
    // (`go test`, `go run`, native builds); the home is writable and executable anyway.
    const tmpfs = `rw,exec,nosuid,nodev,mode=1777,size=${Math.floor(spec.resources.memoryMiB / 4)}m`;
    const env = daemonEnv(spec.env, {
      HOME,
      USER: 'user',
      STUDIO_DAEMON_LISTEN: `unix:${RUN_DIR}/daemon.sock`,
      STUDIO_DAEMON_SECRET_FILE: `${RUN_DIR}/secret`,
      STUDIO_WORKSPACE_ROOT: HOME,
      STUDIO_START_COMMANDS: JSON.stringify(spec.startCommands),
    });
    try {
      await this.docker.createContainer({
        name,
        Image: spec.image,
        Hostname: hostnameOf(spec.name),
        User: `${WORKSPACE_UID}:${WORKSPACE_GID}`,
        WorkingDir: HOME,
        Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
        Cmd: ['/opt/studio/bin/node', '/opt/studio/daemon.mjs'],
        Entrypoint: [],
        Labels: labels,
        StopSignal: 'SIGTERM',
        StopTimeout: STOP_TIMEOUT_S,
        HostConfig: {
          // gVisor: the workspace's system calls go to its own kernel in user space, not the host's.
          ...(spec.isolation === 'sandboxed-kernel' && { Runtime: SANDBOX_RUNTIME }),
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          Privileged: false,
          PidsLimit: spec.resources.pids,
          Memory: memory,
          // Equal to Memory: no swap, so a memory bomb is OOM-killed instead of thrashing the host.
          MemorySwap: memory,
          NanoCpus: Math.round(spec.resources.cpus * 1e9),
          // The host's OOM killer (if the host itself runs out) should pick workspaces first.
          OomScoreAdj: 500,
          // tini as PID 1 reaps zombies left by start commands and forwards SIGTERM.
          Init: true,
          // Home (a volume) and tmpfs are the only writable places, so a workspace cannot fill
          // the host's disk through the image's world-writable folders. tmpfs pages count
          // against the memory limit: a quarter each, so a full /tmp is ENOSPC, not an OOM kill.
          ReadonlyRootfs: true,
          Tmpfs: { '/tmp': tmpfs, '/var/tmp': tmpfs },
          IpcMode: 'private',
          Mounts: [
            { Type: 'volume', Source: name, Target: HOME },
            {
              Type: 'bind',
              Source: this.options.runtimeDir,
              Target: '/opt/studio',
              ReadOnly: true,
            },
            { Type: 'bind', Source: this.stateDirOf(spec.id), Target: RUN_DIR },
          ],
          NetworkMode: this.options.network,
          RestartPolicy: { Name: 'no' },
          LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
        },
      });
    } catch (error) {
      if (engineStatus(error) === 409) {
        throw new RuntimeError('already_exists', `Workspace ${spec.id} already exists.`);
      }
      throw toRuntimeError(this.docker, error, `Creating container ${name}`);
    }
  }

  /**
   * Runs the workspace from `spec` (another image, env or start commands: its dev container),
   * keeping its home and state: the old container goes, stopped, and a new one takes its place.
   */
  async recreate(spec: WorkspaceSpec, onProgress?: ProgressListener): Promise<WorkspaceStatus> {
    checkId(spec.id);
    const info = await this.inspectContainer(spec.id);
    if (!info) throw notFound(spec.id);
    await this.requireImage(spec.image);
    (onProgress ?? (() => {}))('container', `${containerName(spec.id)} from ${spec.image}`);
    try {
      await this.docker.getContainer(containerName(spec.id)).remove({ force: true, v: false });
    } catch (error) {
      if (engineStatus(error) !== 404) {
        throw toRuntimeError(this.docker, error, `Replacing workspace ${spec.id}`);
      }
    }
    await this.createContainer(spec, info.Config.Labels);
    return this.mustInspect(spec.id);
  }

  /**
   * Builds the dev container of the repository in `folder` (relative to the home) with the
   * official CLI, from a copy of its files and directories (never its links: the build must not
   * read the server's files); null when the repository has no devcontainer.json.
   */
  async buildDevcontainer(
    id: string,
    folder: string,
    onProgress?: ProgressListener,
  ): Promise<DevcontainerBuild | null> {
    checkId(id);
    const progress = onProgress ?? (() => {});
    const work = await mkdtemp(join(tmpdir(), 'studio-devcontainer-'));
    try {
      const repo = join(work, 'repo');
      await mkdir(repo);
      let archive: Readable;
      try {
        archive = (await this.docker
          .getContainer(containerName(id))
          .getArchive({ path: `${HOME}/${folder}/.` })) as unknown as Readable;
      } catch (error) {
        if (engineStatus(error) === 404) return null;
        throw toRuntimeError(this.docker, error, `Reading ${folder} of ${id}`);
      }
      await unpackPlain(repo, archive);
      const config = await findDevcontainerConfig(repo);
      if (!config) return null;
      await checkDevcontainerConfig(repo, config);
      await this.ensureNetwork();
      return await buildDevcontainer({
        docker: this.docker,
        folder: repo,
        config,
        image: devcontainerImageOf(id),
        labels: {
          [MANAGED]: 'true',
          ...(this.options.installation && { [INSTALLATION]: this.options.installation }),
          'studio.workspace': id,
        },
        dockerHost: engineHostOf(this.docker),
        network: this.options.network,
        workDir: work,
        onProgress: progress,
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  async saveAsImage(
    id: string,
    baseImage: string,
    ref: string,
    onProgress?: ProgressListener,
  ): Promise<void> {
    checkId(id);
    if (!(await this.inspectContainer(id))) throw notFound(id);
    const progress = onProgress ?? (() => {});
    await this.buildImageFrom(
      ref,
      `Saving workspace ${id} as ${ref}`,
      async (work) => {
        progress('saving', 'copying the home');
        // Files and folders only: the home is its user's, and this build runs for an admin.
        await mkdir(join(work, 'home'));
        await unpackPlain(join(work, 'home'), await this.exportHome(id));
        await writeFile(
          join(work, 'Dockerfile'),
          `FROM ${baseImage}\nCOPY --chown=${WORKSPACE_UID}:${WORKSPACE_GID} home/ /usr/share/studio/starter/\n`,
        );
        progress('saving', `building ${ref}`);
        return ['Dockerfile', 'home'];
      },
      // A COPY needs no network.
      { network: 'none', labels: { 'studio.saved-from': id } },
      (line) => progress('saving', line),
    );
  }

  async buildDockerfile(
    dockerfile: string,
    ref: string,
    onLine: (line: string) => void,
  ): Promise<void> {
    const stages = dockerfileStages(dockerfile);
    for (const image of stages.images) await this.requireImage(image);
    await this.ensureNetwork();
    await this.buildImageFrom(
      ref,
      `Building ${ref}`,
      async (work) => {
        await writeFile(join(work, 'Dockerfile'), dockerfile);
        return ['Dockerfile'];
      },
      // Its RUNs reach what a workspace reaches, never the server's own machine.
      { network: this.options.network, labels: { 'studio.dockerfile-template': 'true' } },
      onLine,
    );
  }

  /**
   * Builds image `ref`, labelled as ours, from the files `fill` writes into a scratch folder (and
   * names, for the build context); each line of the build's output goes to `onLine`.
   */
  private async buildImageFrom(
    ref: string,
    what: string,
    fill: (work: string) => Promise<string[]>,
    options: { network: string; labels: Record<string, string> },
    onLine: (line: string) => void,
  ): Promise<void> {
    const work = await mkdtemp(join(tmpdir(), 'studio-build-'));
    try {
      const context = join(work, 'context.tar');
      await createTar({ cwd: work, file: context, portable: true }, await fill(work));
      const stream = await this.docker.buildImage(context, {
        t: ref,
        rm: true,
        forcerm: true,
        networkmode: options.network,
        labels: {
          [MANAGED]: 'true',
          ...(this.options.installation && { [INSTALLATION]: this.options.installation }),
          ...options.labels,
        },
      });
      await followProgress(this.docker, stream, (message) => {
        for (const line of (message.stream ?? '').split('\n')) if (line.trim()) onLine(line);
      });
    } catch (error) {
      if (error instanceof RuntimeError) throw error;
      throw toRuntimeError(this.docker, error, what);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  async start(id: string, onProgress?: ProgressListener): Promise<WorkspaceStatus> {
    checkId(id);
    const progress = onProgress ?? (() => {});
    const info = await this.inspectContainer(id);
    if (!info) throw notFound(id);
    const socketPath = join(this.stateDirOf(id), 'daemon.sock');

    if (!info.State.Running) {
      // After a reboot the workspace's disk is no longer mounted; its volume binds into it.
      if (existsSync(this.diskOf(id, 0).image)) await ensureDisk(this.diskOf(id, 0));
      // A socket left by the last run would answer "connection refused" until the daemon replaces it.
      await rm(socketPath, { force: true });
      await this.writeState(id, true);
      await this.ensureNetwork();
      progress('starting', containerName(id));
      try {
        await this.docker.getContainer(containerName(id)).start();
      } catch (error) {
        if (engineStatus(error) !== 304) {
          throw toRuntimeError(this.docker, error, `Starting workspace ${id}`);
        }
      }
    }

    progress('waiting', 'for the workspace daemon');
    // The socket appears the moment the daemon listens: try often (a stat is cheap) and ask the
    // engine whether the container died only now and then.
    await untilDaemon({
      id,
      timeoutMs: this.options.startTimeoutMs,
      pollMs: 10,
      check: () => this.assertStillStarting(id),
      checkEveryMs: 500,
      attempt: async () => {
        if (!existsSync(socketPath)) return null;
        (await this.connectDaemonOf(id, 2_000)).close();
        return true;
      },
      explain: async () => `Its last log lines:\n${await this.logs(id, 20)}`,
    });
    progress('ready');
    return this.mustInspect(id);
  }

  async stop(id: string): Promise<WorkspaceStatus> {
    checkId(id);
    try {
      await this.docker.getContainer(containerName(id)).stop({ t: STOP_TIMEOUT_S });
    } catch (error) {
      const status = engineStatus(error);
      if (status === 404) return missingStatus(id, 'container');
      // 304: already stopped. Stopping is idempotent.
      if (status !== 304) throw toRuntimeError(this.docker, error, `Stopping workspace ${id}`);
    }
    return (await this.inspect(id)) ?? missingStatus(id, 'container');
  }

  async remove(id: string): Promise<void> {
    checkId(id);
    const name = containerName(id);
    const existing = await this.docker
      .getContainer(name)
      .inspect()
      .catch((error: unknown) => {
        if (engineStatus(error) === 404) return null;
        throw toRuntimeError(this.docker, error, `Inspecting workspace ${id}`);
      });
    // Another server's workspace with this id: not ours to remove.
    if (existing && !this.isOurs(existing.Config.Labels)) throw notFound(id);
    try {
      await this.docker.getContainer(name).remove({ force: true, v: false });
    } catch (error) {
      if (engineStatus(error) !== 404) {
        throw toRuntimeError(this.docker, error, `Removing workspace ${id}`);
      }
    }
    // The engine may still hold the volume for a while after the container is gone (409), the
    // longer the busier it is: 20 workspaces deleted at once on 2 cores took over 5 s.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.docker.getVolume(name).remove();
        break;
      } catch (error) {
        const status = engineStatus(error);
        if (status === 404) break;
        if (status === 409 && attempt < 120) {
          await sleep(250);
          continue;
        }
        throw toRuntimeError(this.docker, error, `Removing volume ${name}`);
      }
    }
    await this.removeDisk(id);
    await rm(this.secretCopyOf(id), { force: true });
    // Its dev container's image, if it had one: nothing else runs it.
    await this.docker
      .getImage(devcontainerImageOf(id))
      .remove()
      .catch(() => {});
  }

  /** Throws, with the container's last log lines, when it stopped before its daemon answered. */
  private async assertStillStarting(id: string): Promise<void> {
    const current = await this.inspectContainer(id);
    if (!current) throw notFound(id);
    if (current.State.Running) return;
    const status = toStatus(current);
    const log = await this.logs(id, 20).catch(() => '');
    throw new RuntimeError(
      'unavailable',
      `Workspace ${id} stopped while starting (${status.reason ?? 'no reason given'}). ` +
        `Its last log lines:\n${log}`,
      { reason: status.reason },
    );
  }

  /** The engine's machine, which may not be the server's (DOCKER_HOST over ssh or tcp). */
  async capacity(): Promise<WorkspaceCapacity> {
    const info = (await this.info()) as { NCPU: number; MemTotal: number };
    return { cpus: info.NCPU, memoryMiB: Math.floor(info.MemTotal / 1024 / 1024) };
  }

  /** The engine's `docker info`, asked once (and again after a failure). */
  private info(): Promise<unknown> {
    this.engineInfo ??= this.docker.info().catch((error: unknown) => {
      this.engineInfo = null;
      throw toRuntimeError(this.docker, error, 'Asking the engine about itself');
    });
    return this.engineInfo;
  }

  /** Refuses, saying what to do, when the engine has no gVisor runtime for `sandboxed-kernel`. */
  private async requireSandbox(): Promise<void> {
    const info = (await this.info()) as { Runtimes?: Record<string, unknown> };
    if (info.Runtimes?.[SANDBOX_RUNTIME]) return;
    throw new RuntimeError(
      'isolation_unavailable',
      `This template runs workspaces under a sandboxed kernel (gVisor), and the container engine has no "${SANDBOX_RUNTIME}" runtime. Install runsc (apt-get install runsc) and register it with dockerd (daemon.json "runtimes", see .ci/docker.sh), or use a template with container isolation.`,
    );
  }

  /** Workspace disks are loop-mounted filesystems, which needs root and a local engine. */
  diskLimits(): Promise<boolean> {
    return loopDisksAvailable();
  }

  async inspect(id: string): Promise<WorkspaceStatus | null> {
    if (!ID_PATTERN.test(id)) return null;
    const info = await this.inspectContainer(id);
    return info ? toStatus(info) : null;
  }

  async list(): Promise<WorkspaceStatus[]> {
    let containers: Dockerode.ContainerInfo[];
    try {
      containers = await this.docker.listContainers({
        all: true,
        filters: { label: this.labelFilter() },
      });
    } catch (error) {
      throw toRuntimeError(this.docker, error, 'Listing workspaces');
    }
    const statuses = await Promise.all(
      containers.map(async (container) => {
        const id = container.Labels?.['studio.workspace'];
        // A summary lacks OOMKilled and the exit code; inspect each for an accurate reason.
        return id ? this.inspect(id) : null;
      }),
    );
    return statuses.filter((status): status is WorkspaceStatus => status !== null);
  }

  async connect(id: string): Promise<DaemonConnection> {
    checkId(id);
    const info = await this.inspectContainer(id);
    if (!info) throw notFound(id);
    if (!info.State.Running) {
      throw new RuntimeError(
        'workspace_not_running',
        `Workspace ${id} is not running; start it first.`,
      );
    }
    return this.connectDaemonOf(id, 10_000);
  }

  async exportHome(id: string): Promise<Readable> {
    checkId(id);
    if (!(await this.inspectContainer(id))) throw notFound(id);
    // An engine on this machine whose volumes this process can read: `tar` of the folder, four
    // times faster than the engine's archive API (which is the way otherwise).
    const folder = await this.readableHomeFolder(id);
    if (folder) return packFolder(folder);
    try {
      // `…/.` makes the entries `./…`, as `tar -C home -c .` writes them.
      return (await this.docker
        .getContainer(containerName(id))
        .getArchive({ path: `${HOME}/.` })) as unknown as Readable;
    } catch (error) {
      throw toRuntimeError(this.docker, error, `Reading the home of ${id}`);
    }
  }

  async importHome(id: string, archive: Readable): Promise<void> {
    checkId(id);
    if (!(await this.inspectContainer(id))) throw notFound(id);
    const folder = await this.readableHomeFolder(id);
    if (folder) return unpackInto(folder, archive, `${WORKSPACE_UID}:${WORKSPACE_GID}`);
    try {
      // The engine unpacks into the home volume, stopped container or not, keeping owners.
      await this.docker.getContainer(containerName(id)).putArchive(archive, { path: HOME });
    } catch (error) {
      throw toRuntimeError(this.docker, error, `Restoring the home of ${id}`);
    }
  }

  /**
   * The folder on this machine that holds a workspace's home (its disk when it has one, else the
   * volume's mountpoint), when this process can read and write it; null for a remote engine or
   * a server without the rights.
   */
  private async readableHomeFolder(id: string): Promise<string | null> {
    if (!this.options.homeFolders) return null;
    try {
      const volume = await this.docker.getVolume(containerName(id)).inspect();
      const folder = volume.Options?.device ?? volume.Mountpoint;
      await access(folder, constants.R_OK | constants.W_OK | constants.X_OK);
      return folder;
    } catch {
      return null;
    }
  }

  async logs(id: string, tail = 200): Promise<string> {
    checkId(id);
    try {
      const output = (await this.docker.getContainer(containerName(id)).logs({
        stdout: true,
        stderr: true,
        follow: false,
        tail,
      })) as unknown as Buffer;
      return demuxLogs(Buffer.isBuffer(output) ? output : Buffer.from(String(output)));
    } catch (error) {
      if (engineStatus(error) === 404) throw notFound(id);
      throw toRuntimeError(this.docker, error, `Reading the log of workspace ${id}`);
    }
  }

  async stats(id: string): Promise<WorkspaceStats> {
    checkId(id);
    const info = await this.inspectContainer(id);
    if (!info) throw notFound(id);
    if (!info.State.Running) {
      throw new RuntimeError('workspace_not_running', `Workspace ${id} is not running.`);
    }
    let raw: Dockerode.ContainerStats;
    try {
      // stream=false still takes two samples (~1 s apart), so precpu_stats is filled in.
      raw = (await this.docker
        .getContainer(containerName(id))
        .stats({ stream: false })) as Dockerode.ContainerStats;
    } catch (error) {
      throw toRuntimeError(this.docker, error, `Reading stats of workspace ${id}`);
    }
    return toStats(raw);
  }

  onEvent(listener: (event: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.events) this.followEvents();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopEvents();
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.stopEvents();
  }

  /** Follow the engine's container events; reconnect (and resync every workspace) after a gap. */
  private followEvents(): void {
    const state = { stream: null as NodeJS.ReadableStream | null, stopped: false };
    this.events = state;
    let since = Math.floor(Date.now() / 1000);
    let backoff = 500;
    let translating: Promise<void> = Promise.resolve();

    const connect = async (resync: boolean) => {
      if (state.stopped) return;
      let stream: NodeJS.ReadableStream;
      try {
        stream = await this.docker.getEvents({
          // Replays what happened while we were reconnecting, if the engine still has it.
          since,
          filters: { label: this.labelFilter(), type: ['container'] },
        } as Dockerode.GetEventsOptions);
      } catch (error) {
        if (state.stopped) return;
        this.logger.warn(
          `docker driver: event stream unavailable (${engineMessage(error)}); retrying`,
        );
        setTimeout(() => void connect(true), backoff).unref();
        backoff = Math.min(backoff * 2, 5_000);
        return;
      }
      if (state.stopped) {
        destroyStream(stream);
        return;
      }
      state.stream = stream;
      backoff = 500;
      if (resync) {
        // Events lost while the engine was down (a restart kills every container) come back as
        // the current state of each workspace.
        this.logger.info('docker driver: event stream reconnected; resyncing workspace states');
        void this.list()
          .then((statuses) => {
            for (const status of statuses) {
              this.emit({ id: status.id, state: status.state, reason: status.reason });
            }
          })
          .catch(() => {});
      }
      let ended = false;
      const reconnect = () => {
        if (ended) return;
        ended = true;
        state.stream = null;
        if (state.stopped) return;
        setTimeout(() => void connect(true), backoff).unref();
      };
      createInterface({ input: stream }).on('line', (line) => {
        const event = parseEvent(line);
        if (!event) return;
        since = Math.max(since, event.time);
        // One at a time, in engine order: a `die` that inspects must not overtake the next `start`.
        translating = translating.then(() => this.translate(event)).catch(() => {});
      });
      stream.on('end', reconnect);
      stream.on('close', reconnect);
      stream.on('error', reconnect);
    };
    void connect(false);
  }

  private stopEvents(): void {
    if (!this.events) return;
    this.events.stopped = true;
    if (this.events.stream) destroyStream(this.events.stream);
    this.events = null;
  }

  private async translate(event: EngineEvent): Promise<void> {
    const id = event.attributes['studio.workspace'];
    if (!id) return;
    switch (event.action) {
      case 'start':
        this.killedBy.delete(id);
        this.emit({ id, state: 'running', reason: null });
        return;
      case 'kill':
        // `docker kill` / `docker stop` escalation: remember the signal for the `die` that follows.
        this.killedBy.set(id, event.attributes.signal ?? '');
        return;
      case 'die': {
        // The container still exists at `die`; inspect it for OOMKilled and the exit code.
        const status = await this.inspect(id).catch(() => null);
        const signal = this.killedBy.get(id);
        this.killedBy.delete(id);
        const exitCode = Number(event.attributes.exitCode);
        if (exitCode === 137 && (signal === '9' || signal === 'SIGKILL' || signal === 'KILL')) {
          // Docker's OOMKilled stays true for the rest of a run once any process hit the limit,
          // so a container killed on purpose after an earlier OOM would read "out of memory".
          this.emit({ id, state: 'stopped', reason: 'killed (SIGKILL)' });
        } else if (status) {
          this.emit({
            id,
            state: status.state === 'running' ? 'stopped' : status.state,
            reason: status.reason,
          });
        } else {
          this.emit({
            id,
            state: 'stopped',
            reason: exitReason(Number(event.attributes.exitCode), false),
          });
        }
        return;
      }
      case 'oom': {
        // A process inside hit the memory limit; the container (and its daemon) may live on.
        const status = await this.inspect(id).catch(() => null);
        this.emit({
          id,
          state: status?.state ?? 'running',
          reason: 'killed: out of memory',
        });
        return;
      }
      case 'destroy':
        this.emit({ id, state: 'missing', reason: null });
        return;
      default:
        return;
    }
  }

  private emit(event: RuntimeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn(`docker driver: an event listener threw: ${String(error)}`);
      }
    }
  }

  private async connectDaemonOf(id: string, timeoutMs: number): Promise<DaemonConnection> {
    const socketPath = join(this.stateDirOf(id), 'daemon.sock');
    // The workspace user owns this folder: refuse anything but a socket (a symlink could point
    // the server at a host socket). The secret is read from the server's own copy outside it.
    const stat = await lstat(socketPath).catch(() => null);
    if (!stat?.isSocket()) {
      throw new RuntimeError('unavailable', `The daemon of workspace ${id} is not listening yet.`);
    }
    const secret = (await readFile(this.secretCopyOf(id), 'utf8')).trim();
    return connectDaemon({ socketPath, secret, timeoutMs });
  }

  /** The workspace's own folder: its disk's mount point when it has a disk limit. */
  private rootDirOf(id: string): string {
    return join(this.options.stateDir, id);
  }

  /** The daemon's socket and secret, bind-mounted at /run/studio. */
  private stateDirOf(id: string): string {
    return join(this.rootDirOf(id), 'run');
  }

  /** What the home volume binds to when the workspace has a disk limit. */
  private homeDirOf(id: string): string {
    return join(this.rootDirOf(id), 'home');
  }

  private diskOf(id: string, sizeMiB: number): DiskSpec {
    return {
      image: join(this.options.stateDir, `${id}.disk`),
      mountpoint: this.rootDirOf(id),
      sizeMiB,
      uid: WORKSPACE_UID,
      gid: WORKSPACE_GID,
    };
  }

  /** Unmount and delete the workspace's own folder and disk image (idempotent). */
  private async removeDisk(id: string): Promise<void> {
    await releaseDisk(this.rootDirOf(id));
    await rm(this.rootDirOf(id), { recursive: true, force: true });
    await rm(this.diskOf(id, 0).image, { force: true });
  }

  /** The server's copy of the secret: outside the folder the workspace can write. */
  private secretCopyOf(id: string): string {
    return join(this.options.stateDir, `${id}.secret`);
  }

  /**
   * Create the workspace's state folder, owned by uid 1000 (the daemon creates its socket there),
   * and its secret. `refresh` rewrites the workspace's copy from the server's at each start.
   */
  private async writeState(id: string, refresh = false): Promise<void> {
    const base = this.options.stateDir;
    await mkdir(base, { recursive: true, mode: 0o700 });
    await chmod(base, 0o700);
    await mkdir(this.rootDirOf(id), { recursive: true, mode: 0o700 });
    const dir = this.stateDirOf(id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await this.ownByWorkspace(dir);
    await chmod(dir, 0o700);

    let secret: string | null = null;
    if (refresh) secret = await readFile(this.secretCopyOf(id), 'utf8').catch(() => null);
    secret = secret?.trim() || newDaemonSecret();
    await writeFile(this.secretCopyOf(id), `${secret}\n`, { mode: 0o600 });
    const file = join(dir, 'secret');
    // The workspace could have replaced the file (say, with a symlink); never write through it.
    await rm(file, { force: true });
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    await this.ownByWorkspace(file);
  }

  private async ownByWorkspace(path: string): Promise<void> {
    if (process.getuid?.() === WORKSPACE_UID) return;
    try {
      await chown(path, WORKSPACE_UID, WORKSPACE_GID);
    } catch (error) {
      throw new RuntimeError(
        'isolation_unavailable',
        `The Docker driver must run as root or as uid ${WORKSPACE_UID} so the workspace user can own ` +
          `its state folder ${path} (${(error as Error).message}).`,
      );
    }
  }

  private async requireImage(ref: string): Promise<void> {
    try {
      await this.docker.getImage(ref).inspect();
    } catch (error) {
      if (engineStatus(error) === 404) {
        const template = /^studio\/([a-z0-9-]+):/.exec(ref)?.[1];
        throw new RuntimeError(
          'image_missing',
          template
            ? `Image ${ref} is not built; run \`studio images build ${template}\`.`
            : `Image ${ref} is not in the engine; pull or build it first.`,
          { image: ref },
        );
      }
      throw toRuntimeError(this.docker, error, `Inspecting image ${ref}`);
    }
  }

  /** Create the workspace network once; concurrent callers share the same attempt. */
  private ensureNetwork(): Promise<void> {
    this.networkReady ??= this.createNetwork().catch((error: unknown) => {
      this.networkReady = null;
      throw error;
    });
    return this.networkReady;
  }

  private async createNetwork(): Promise<void> {
    const { network, bridgeName } = this.options;
    let bridge = bridgeName;
    try {
      const existing = await this.docker.getNetwork(network).inspect();
      bridge = existing.Options?.['com.docker.network.bridge.name'] ?? bridgeName;
    } catch (error) {
      if (engineStatus(error) !== 404)
        throw toRuntimeError(this.docker, error, 'Inspecting network');
      try {
        await this.docker.createNetwork({
          Name: network,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: { [MANAGED]: 'true' },
          Options: {
            // No traffic between workspaces on this bridge (THREATS 6).
            'com.docker.network.bridge.enable_icc': 'false',
            'com.docker.network.bridge.name': bridgeName,
          },
        });
        this.logger.info(
          `docker driver: created network ${network} (bridge ${bridgeName}, icc off)`,
        );
      } catch (createError) {
        // 409: another server process created it first.
        if (engineStatus(createError) !== 409) {
          throw toRuntimeError(this.docker, createError, `Creating network ${network}`);
        }
      }
    }
    if (this.options.firewall && this.firewall === null) {
      this.firewall = await installFirewall(bridge, this.options.allowHostPorts);
      for (const line of this.firewall.log) this.logger.info(`docker driver: ${line}`);
    }
  }

  /** Made by this driver, and by this installation when it has an id. */
  private isOurs(labels: Record<string, string> | undefined): boolean {
    return (
      labels?.[MANAGED] === 'true' &&
      (!this.options.installation || labels[INSTALLATION] === this.options.installation)
    );
  }

  /** The engine filter for this driver's containers. */
  private labelFilter(): string[] {
    return [
      `${MANAGED}=true`,
      ...(this.options.installation ? [`${INSTALLATION}=${this.options.installation}`] : []),
    ];
  }

  private async inspectContainer(id: string): Promise<Dockerode.ContainerInspectInfo | null> {
    try {
      const info = await this.docker.getContainer(containerName(id)).inspect();
      // Only containers this driver made count as workspaces.
      return this.isOurs(info.Config.Labels) ? info : null;
    } catch (error) {
      if (engineStatus(error) === 404) return null;
      if (isEngineUnreachable(error)) throw toRuntimeError(this.docker, error, 'Inspecting');
      throw toRuntimeError(this.docker, error, `Inspecting workspace ${id}`);
    }
  }

  private async mustInspect(id: string): Promise<WorkspaceStatus> {
    return (await this.inspect(id)) ?? missingStatus(id, 'container');
  }
}

/** Container and volume name of a workspace. */
export function containerName(id: string): string {
  return `studio-ws-${id}`;
}

function checkId(id: string): void {
  checkIdAgainst(id, ID_PATTERN, '1–63 letters, digits, dots, dashes or underscores');
}

/** Map the engine's container state to ours (Docker and Podman use the same words). */
export function toStatus(info: Dockerode.ContainerInspectInfo): WorkspaceStatus {
  const labels = info.Config.Labels ?? {};
  const raw = info.State.Status;
  const states: Record<string, WorkspaceState> = {
    created: 'stopped',
    running: 'running',
    paused: 'stopped',
    restarting: 'starting',
    removing: 'stopping',
    exited: 'stopped',
    stopped: 'stopped',
    configured: 'stopped',
    dead: 'error',
  };
  const state = states[raw] ?? (info.State.Running ? 'running' : 'stopped');
  let reason: string | null = null;
  if (state !== 'running') {
    if (info.State.Error) reason = info.State.Error;
    else if (raw !== 'created') reason = exitReason(info.State.ExitCode, info.State.OOMKilled);
  }
  const startedAt =
    state === 'running' && info.State.StartedAt && !info.State.StartedAt.startsWith('0001')
      ? new Date(info.State.StartedAt)
      : null;
  return {
    id: labels['studio.workspace'] ?? info.Name.replace(/^\/?studio-ws-/, ''),
    state,
    isolation: labels[ISOLATION] === 'sandboxed-kernel' ? 'sandboxed-kernel' : 'container',
    startedAt,
    reason,
    labels,
  };
}

/** Why a container exited, in the user's words; null for a normal stop. */
export function exitReason(code: number, oomKilled: boolean): string | null {
  if (oomKilled) return 'killed: out of memory';
  if (!Number.isFinite(code)) return null;
  // 0: the daemon exited cleanly; 143: SIGTERM from `docker stop`, i.e. a normal stop.
  if (code === 0 || code === 143) return null;
  if (code === 137) return 'killed (SIGKILL)';
  if (code > 128 && code < 160) return `killed by signal ${code - 128}`;
  return `exited with code ${code}`;
}

/** CPU, memory and pids from one `docker stats` sample (cgroup v1 and v2). */
export function toStats(raw: Dockerode.ContainerStats): WorkspaceStats {
  const cpuDelta =
    raw.cpu_stats.cpu_usage.total_usage - (raw.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta =
    (raw.cpu_stats.system_cpu_usage ?? 0) - (raw.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = raw.cpu_stats.online_cpus || raw.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  const cpuPercent =
    raw.precpu_stats?.system_cpu_usage && systemDelta > 0 && cpuDelta > 0
      ? (cpuDelta / systemDelta) * cpus * 100
      : 0;
  const memoryStats = raw.memory_stats as Dockerode.ContainerStats['memory_stats'] & {
    stats?: Record<string, number>;
  };
  // Like `docker stats`: page cache is reclaimable, so it does not count as used.
  const cache = memoryStats.stats?.total_inactive_file ?? memoryStats.stats?.inactive_file ?? 0;
  const memoryBytes = Math.max(0, (memoryStats.usage ?? 0) - cache);
  const limit = memoryStats.limit ?? 0;
  // Without a limit the engine reports the host's memory (or 2^63); neither is a workspace limit.
  const memoryLimitBytes = limit > 0 && limit < 2 ** 60 ? limit : null;
  const pids = (raw as { pids_stats?: { current?: number } }).pids_stats?.current ?? 0;
  return { cpuPercent: Math.round(cpuPercent * 100) / 100, memoryBytes, memoryLimitBytes, pids };
}

/** Split the engine's multiplexed log stream (8-byte frame headers) into plain text. */
export function demuxLogs(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const type = buffer[offset]!;
    const size = buffer.readUInt32BE(offset + 4);
    if (type > 2 || buffer[offset + 1] !== 0 || offset + 8 + size > buffer.length) {
      // Not multiplexed (a TTY container, or an engine that sends raw text).
      return buffer.toString('utf8');
    }
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  if (offset !== buffer.length) return buffer.toString('utf8');
  return Buffer.concat(parts).toString('utf8');
}

interface EngineEvent {
  action: string;
  time: number;
  attributes: Record<string, string>;
}

function parseEvent(line: string): EngineEvent | null {
  try {
    const raw = JSON.parse(line) as {
      Type?: string;
      Action?: string;
      status?: string;
      time?: number;
      Actor?: { Attributes?: Record<string, string> };
    };
    if (raw.Type && raw.Type !== 'container') return null;
    return {
      // `Action` on current engines, only `status` on old ones; `exec_start: bash` has a suffix.
      action: (raw.Action ?? raw.status ?? '').split(':')[0]!,
      time: raw.time ?? Math.floor(Date.now() / 1000),
      attributes: raw.Actor?.Attributes ?? {},
    };
  } catch {
    return null;
  }
}

function destroyStream(stream: NodeJS.ReadableStream): void {
  const destroyable = stream as NodeJS.ReadableStream & { destroy?: () => void };
  destroyable.destroy?.();
}
