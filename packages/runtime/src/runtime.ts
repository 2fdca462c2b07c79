import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { CodedError } from '@studio/protocol';
import type { DaemonMethod, DaemonParams, DaemonResult, DaemonStreamEvent } from '@studio/protocol';

/** What a driver's workspaces can have beyond files, processes and ports. */
export interface DriverCapabilities {
  /** A graphical desktop (the template's image brings Xvfb, a window manager and a VNC server). */
  desktop: boolean;
}

export interface WorkspaceCapacity {
  cpus: number;
  memoryMiB: number;
}

/** How strongly a driver separates a workspace from the host and from other workspaces. */
export type Isolation = 'container' | 'bwrap' | 'none';

/**
 * A new secret between the server and one workspace's daemon. The prefix gives it a shape the
 * redactor knows (`studio_…`), so a command that prints it never shows it in a transcript.
 */
export function newDaemonSecret(): string {
  return `studio_daemon_${randomBytes(32).toString('hex')}`;
}

/**
 * The daemon's environment: the workspace's `env` and the driver's STUDIO_* settings. The
 * workspace's NODE_OPTIONS (a template's, a dev container's `containerEnv`) is for its own
 * programs; the daemon runs on Node too and would take its `--require`, `--import` or
 * `--inspect` itself, and not start. It travels as STUDIO_NODE_OPTIONS; the daemon hands it back
 * to what it runs.
 */
export function daemonEnv(
  env: Record<string, string>,
  settings: Record<string, string>,
): Record<string, string> {
  const { NODE_OPTIONS, ...rest } = env;
  return {
    ...rest,
    ...settings,
    ...(NODE_OPTIONS === undefined ? {} : { STUDIO_NODE_OPTIONS: NODE_OPTIONS }),
  };
}

/** Resources a template asks for; drivers enforce them as hard limits where they can. */
export interface WorkspaceResources {
  /** CPU cores (fractions allowed). */
  cpus: number;
  memoryMiB: number;
  /** Maximum number of processes and threads (fork bombs stop here). */
  pids: number;
  /** Size of the workspace's writable storage; enforced where `diskLimits()` says so. */
  diskMiB?: number;
}

/** Everything a driver needs to create a workspace. */
export interface WorkspaceSpec {
  /** Stable id (the database row id); drivers derive container, volume and folder names from it. */
  id: string;
  name: string;
  ownerId: string;
  /** Image reference (Docker) — ignored by the local driver. */
  image: string;
  resources: WorkspaceResources;
  env: Record<string, string>;
  /** Shell commands run (in order, in the background) each time the workspace starts. */
  startCommands: string[];
  /** `sandboxed-kernel`: under gVisor (Docker with the `runsc` runtime); else the driver's own. */
  isolation?: 'container' | 'sandboxed-kernel';
}

/** Where a workspace is in its life. */
export type WorkspaceState = 'stopped' | 'starting' | 'running' | 'stopping' | 'error' | 'missing';

/** What a driver knows about one workspace. */
export interface WorkspaceStatus {
  id: string;
  state: WorkspaceState;
  /** The driver's, or `sandboxed-kernel` for a workspace under gVisor. */
  isolation: Isolation | 'sandboxed-kernel';
  startedAt: Date | null;
  /** Why the workspace stopped or failed (e.g. "killed: out of memory"), when known. */
  reason: string | null;
  labels: Record<string, string>;
}

/** Point-in-time resource use. */
export interface WorkspaceStats {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number | null;
  pids: number;
}

/** A change a driver noticed on its own (a container died, the engine restarted). */
export interface RuntimeEvent {
  id: string;
  state: WorkspaceState;
  reason: string | null;
}

/** One stream on a daemon connection (PTY attach, exec, tunnel, watch, upload, download). */
export interface DaemonStream {
  readonly id: number;
  /** Bytes from the daemon: channel 0 data/stdout, 1 stderr. */
  onData(listener: (payload: Uint8Array, channel: number) => void): void;
  onEvent(listener: (event: DaemonStreamEvent) => void): void;
  /** Called once when the stream is over; `error` is set when it ended abnormally. */
  onEnd(listener: (error?: DaemonError) => void): void;
  /** Send bytes to the daemon (PTY input, stdin, tunnel bytes, upload tar bytes). */
  write(payload: Uint8Array | string): void;
  /** Write, waiting (with backoff) while the connection has too much unsent data. */
  writeWhenRoom(payload: Uint8Array): Promise<void>;
  /** No more input from this side. */
  end(): void;
  /** Tear the stream down. */
  cancel(): void;
  /**
   * Tell the daemon `bytes` were consumed. Only needed with `manualAck`; otherwise data is
   * acknowledged as it arrives.
   */
  ack(bytes: number): void;
}

/** Options for opening a stream. */
export interface StreamOptions {
  /** Acknowledge data yourself (e.g. once a browser socket drained), so a slow reader pauses the source. */
  manualAck?: boolean;
}

/** Output of a finished command. */
export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
}

/** A live connection to one workspace's daemon. */
export interface DaemonConnection {
  readonly daemonVersion: string;
  call<M extends DaemonMethod>(method: M, params: DaemonParams<M>): Promise<DaemonResult<M>>;
  open<M extends DaemonMethod>(
    method: M,
    params: DaemonParams<M>,
    options?: StreamOptions,
  ): Promise<DaemonStream>;
  /** Run a command to completion and collect its output. */
  exec(
    command: string,
    args?: string[],
    options?: Omit<DaemonParams<'exec.start'>, 'command' | 'args'> & { stdin?: string },
  ): Promise<ExecResult>;
  /** Called once when the connection closes for any reason. */
  onClose(listener: (error?: DaemonError) => void): void;
  readonly closed: boolean;
  close(): void;
}

/**
 * An expected failure with a stable code: a workspace that is not running, a missing image, an
 * unreachable engine. The server maps `code` to an HTTP status; `message` says what to do.
 */
export class RuntimeError extends CodedError {
  override name = 'RuntimeError';
}

/** An error the daemon returned, or a broken daemon connection. */
export class DaemonError extends RuntimeError {
  override name = 'DaemonError';
}

/** What a workspace takes from its repository's dev container (containers.dev). */
export interface DevcontainerBuild {
  /** The image built for it. */
  image: string;
  /** The config's path in the repository, e.g. `.devcontainer/devcontainer.json`. */
  config: string;
  /** `containerEnv`, the config's and its features'. */
  env: Record<string, string>;
  /** `onCreateCommand`, `updateContentCommand`, `postCreateCommand`: once, after the first start. */
  onCreate: string[];
  /** `postStartCommand`: at each start. */
  onStart: string[];
  /** `forwardPorts` that name a port of the workspace, with their `portsAttributes` label. */
  forwardPorts: { port: number; label: string | null }[];
  /** `customizations.vscode.extensions`: recommended, not installed. */
  extensions: string[];
}

/** Progress while creating or starting a workspace ("pulling image", "starting", …). */
export type ProgressListener = (step: string, detail?: string) => void;

/**
 * A workspace driver. Every driver passes `runtime.case.test.ts`; the server only ever talks to
 * this interface, and to a workspace only through `connect`.
 */
export interface WorkspaceRuntime {
  readonly kind: 'local' | 'docker' | 'kubernetes';
  readonly isolation: Isolation;
  /**
   * Whether workspaces share the host's network: its ports, its loopback services, each other's
   * listeners. A server with several people refuses to create workspaces on such a driver.
   */
  readonly hostNetwork: boolean;
  /** What workspaces on this driver can have: the server asks this, never the driver's name. */
  readonly capabilities: DriverCapabilities;
  /**
   * The most one workspace can be given where workspaces run (the engine's machine, the largest
   * node), not where the server runs; null when the driver cannot tell (the cluster then says).
   */
  capacity(): Promise<WorkspaceCapacity | null>;
  /**
   * Whether `resources.diskMiB` is enforced here (filling the disk ends in ENOSPC inside the
   * workspace). Without it a workspace can fill the host's disk; the server warns at start.
   */
  diskLimits(): Promise<boolean>;
  /** Provision storage and the workspace itself, stopped. `already_exists` if the id is taken. */
  create(spec: WorkspaceSpec, onProgress?: ProgressListener): Promise<WorkspaceStatus>;
  /** Start (idempotent) and resolve once the daemon answers. */
  start(id: string, onProgress?: ProgressListener): Promise<WorkspaceStatus>;
  /** Stop (idempotent); files are kept. */
  stop(id: string): Promise<WorkspaceStatus>;
  /** Remove the workspace and its storage (idempotent). */
  remove(id: string): Promise<void>;
  /** `null` when the driver has no such workspace. */
  inspect(id: string): Promise<WorkspaceStatus | null>;
  /** Every workspace this driver manages (for reconciling with the database). */
  list(): Promise<WorkspaceStatus[]>;
  /** A connection to the daemon of a running workspace; `workspace_not_running` otherwise. */
  connect(id: string): Promise<DaemonConnection>;
  /** The last lines of the workspace's own log (daemon and start commands). */
  logs(id: string, tail?: number): Promise<string>;
  /**
   * The workspace's home as a tar stream, entries relative to it (`./…`), with their owners;
   * running or stopped. For backups and exports.
   */
  exportHome(id: string): Promise<Readable>;
  /**
   * Unpacks a tar made by `exportHome` (of any driver) into the home of a workspace just created
   * and never started: the server may unpack it as root, so the home must hold nothing its user
   * made (no links to follow out of it).
   */
  importHome(id: string, archive: Readable): Promise<void>;
  stats(id: string): Promise<WorkspaceStats>;
  /**
   * Drivers that build images (Docker): builds the dev container of the repository in `folder`
   * (relative to the home) of a running workspace; null when it has no devcontainer.json.
   */
  buildDevcontainer?(
    id: string,
    folder: string,
    onProgress?: ProgressListener,
  ): Promise<DevcontainerBuild | null>;
  /**
   * Drivers that build images: an image `ref` of `baseImage` whose starter project is this
   * workspace's home as it is now, so workspaces made from it start with those files.
   */
  saveAsImage?(
    id: string,
    baseImage: string,
    ref: string,
    onProgress?: ProgressListener,
  ): Promise<void>;
  /**
   * Drivers that build images: image `ref` from an admin's `dockerfile` (no build context), its
   * `RUN`s on the workspaces' own network. `onLine` gets the build's output as it comes.
   */
  buildDockerfile?(dockerfile: string, ref: string, onLine: (line: string) => void): Promise<void>;
  /** With `buildDevcontainer`: the workspace from `spec` (its new image), its home kept; stopped. */
  recreate?(spec: WorkspaceSpec, onProgress?: ProgressListener): Promise<WorkspaceStatus>;
  /** Changes the driver noticed by itself; returns an unsubscribe function. */
  onEvent(listener: (event: RuntimeEvent) => void): () => void;
  /** Release the driver's own resources (event streams, sockets); workspaces keep running. */
  close(): Promise<void>;
}
