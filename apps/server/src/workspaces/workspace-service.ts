import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { users, workspaces, type Database, type DatabaseBus } from '@studio/db';
import {
  CodedError,
  templateSchema,
  type CreateWorkspaceBody,
  type dockerfileTemplateBodySchema,
  type ServerEvent,
  type Template,
  type WarmPoolState,
  type Workspace,
  type WorkspaceRole,
  type WorkspaceStatusName,
} from '@studio/protocol';
import {
  dockerfileStages,
  type DaemonConnection,
  type DevcontainerBuild,
  type DriverCapabilities,
  type ProgressListener,
  type TemplateImageState,
  type WorkspaceCapacity,
  type WorkspaceRuntime,
  type WorkspaceSpec,
  type WorkspaceState,
  type WorkspaceStatus,
} from '@studio/runtime';
import { and, asc, count, eq, ne } from 'drizzle-orm';
import type { z } from 'zod';
import type { FastifyBaseLogger } from 'fastify';
import type { JobQueue } from '../jobs/job-queue.ts';
import { AppError, isUniqueViolation } from '../errors.ts';
import { needsOf, type Quotas } from './quotas.ts';
import type { TemplateStore } from './templates.ts';
import type { WarmPool } from './warm-pool.ts';

type Row = typeof workspaces.$inferSelect;
/** A workspace's database row. */
export type WorkspaceRow = Row;

/** Builds a template's image when the driver needs one (Docker); absent for the local driver. */
export interface ImageBuilder {
  ensure(template: Template, onProgress: ProgressListener): Promise<void>;
  /** Whether its image is in the engine, and built from its recipe as it is now. */
  state(template: Template): Promise<TemplateImageState>;
}

/** What the service needs from the composition root. */
export interface WorkspaceServiceDeps {
  db: Database;
  runtime: WorkspaceRuntime;
  templates: TemplateStore;
  images?: ImageBuilder;
  logger: FastifyBaseLogger;
  now?: () => Date;
  /** Tells the other servers on this database about workspace events, and hears theirs. */
  bus?: DatabaseBus;
  /** Where lifecycle steps run: one at a time per workspace, on whichever replica is up. */
  jobs: JobQueue;
  /** Limits on what each person and team runs: checked before anything starts. */
  quotas: Quotas;
  /** Started workspaces a create claims instead of starting one (Docker). */
  pool?: WarmPool;
}

/** A lifecycle step of one workspace, as its job says it. */
type Step =
  | { step: 'provision' }
  | { step: 'start' }
  | { step: 'stop'; reason: string | null }
  | { step: 'restart' }
  | { step: 'remove' }
  /** A workspace the driver runs that has no row (a crash between create and insert). */
  | { step: 'remove-orphan' };

/** The bus channel of workspace events; its messages are `BusMessage` JSON. */
const EVENTS_CHANNEL = 'studio_workspace_events';

interface BusMessage {
  /** The server that sent it: it has told its own listeners already. */
  from: string;
  ownerId: string;
  event: ServerEvent;
}

const ACTIVITY_WRITE_MS = 30_000;
/** The local event name every owner's events are also emitted under. */
const ALL_OWNERS = Symbol('all owners');
/** Statuses a lifecycle step of some replica is moving the workspace through. */
const DRIVEN = new Set<string>(['creating', 'starting', 'stopping', 'deleting']);

/**
 * Workspaces: the database rows people own, kept in step with what the driver runs. Every
 * lifecycle change goes through here, one at a time per workspace, and is announced to the
 * owner's live event stream.
 */
export class WorkspaceService {
  private readonly db: Database;
  private readonly runtime: WorkspaceRuntime;
  private readonly templates: TemplateStore;
  private readonly images: ImageBuilder | undefined;
  private readonly log: FastifyBaseLogger;
  private readonly now: () => Date;
  private readonly events = new EventEmitter();
  private readonly jobs: JobQueue;
  private readonly quotas: Quotas;
  private readonly pool: WarmPool | undefined;
  private readonly connections = new Map<string, Promise<DaemonConnection>>();
  private readonly lastActivityWrite = new Map<string, number>();
  /** Terminals and other live users per workspace: a workspace in use is never idle. */
  private readonly inUse = new Map<string, number>();
  private readonly connectListeners = new Set<(row: Row, connection: DaemonConnection) => void>();
  private unsubscribe: (() => void) | null = null;
  private stopListening: (() => Promise<void>) | null = null;
  private readonly bus: DatabaseBus | undefined;
  /** This server among the replicas sharing the database. */
  private readonly replicaId = randomBytes(8).toString('hex');
  private sweeper: NodeJS.Timeout | null = null;

  constructor(deps: WorkspaceServiceDeps) {
    this.db = deps.db;
    this.runtime = deps.runtime;
    this.templates = deps.templates;
    this.images = deps.images;
    this.log = deps.logger;
    this.now = deps.now ?? (() => new Date());
    this.bus = deps.bus;
    this.jobs = deps.jobs;
    this.quotas = deps.quotas;
    this.pool = deps.pool;
    this.jobs.handle('workspace', (payload) => this.runStep(payload as { id: string } & Step));
    this.events.setMaxListeners(0);
  }

  /** Follow the driver's own events, reconcile rows with what runs, and start the idle sweeper. */
  async startBackground(sweepMs = 60_000): Promise<void> {
    this.unsubscribe = this.runtime.onEvent((event) => {
      this.onRuntimeEvent(event).catch((error: unknown) =>
        this.log.warn({ err: error, workspace: event.id }, 'could not record a driver event'),
      );
    });
    // Another replica's workspace events reach the browsers connected here.
    this.stopListening =
      (await this.bus?.subscribe(EVENTS_CHANNEL, (payload) => this.onBusMessage(payload))) ?? null;
    await this.reconcile();
    await this.jobs.start();
    this.pool?.start();
    this.sweeper = setInterval(() => {
      this.sweep().catch((error: unknown) => this.log.warn({ err: error }, 'idle sweep failed'));
    }, sweepMs);
    this.sweeper.unref();
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await this.stopListening?.().catch(() => {});
    if (this.sweeper) clearInterval(this.sweeper);
    await this.pool?.stop();
    for (const pending of this.connections.values())
      pending.then(
        (c) => c.close(),
        () => {},
      );
    this.connections.clear();
  }

  /** Listen to one user's workspace events. */
  subscribe(ownerId: string, listener: (event: ServerEvent) => void): () => void {
    this.events.on(ownerId, listener);
    return () => this.events.off(ownerId, listener);
  }

  /** Listen to every user's workspace events (for members of workspaces shared with them). */
  subscribeAll(listener: (ownerId: string, event: ServerEvent) => void): () => void {
    this.events.on(ALL_OWNERS, listener);
    return () => this.events.off(ALL_OWNERS, listener);
  }

  /** Tells `userId`'s browsers (on every replica) about a workspace: one shared with them, or no longer. */
  notify(userId: string, event: ServerEvent): void {
    this.emit(userId, event);
  }

  /**
   * A new template (everyone's) from a workspace: its template, with an image whose starter
   * project is the workspace's home as it is now. Refuses a name that is taken.
   */
  async saveAsTemplate(row: Row, name: string, title: string): Promise<Template> {
    if (!this.runtime.saveAsImage) throw this.buildsNoImages('Saving a workspace as a template');
    await this.refuseTakenTemplate(name);
    const base = row.template as unknown as Template;
    const ref = `studio-saved/${name}:${Date.now().toString(36)}`;
    await this.runtime.saveAsImage(row.id, base.image.ref, ref, this.progress(row));
    const { devcontainer: _devcontainer, ...rest } = base;
    const template: Template = {
      ...rest,
      name,
      title,
      description: `Saved from the workspace "${row.name}" (${base.title}): new workspaces start with its files as they were then.`,
      image: { ref },
      warmPool: 0,
    };
    await this.templates.put(template, 'api');
    return template;
  }

  /**
   * A new template (everyone's) whose image an admin wrote as a Dockerfile: the template images
   * it builds FROM are built first, then it (its output to `onLine` as it comes). Refuses a name
   * that is taken.
   */
  async templateFromDockerfile(
    body: z.output<typeof dockerfileTemplateBodySchema>,
    onLine: (line: string) => void,
  ): Promise<Template> {
    if (!this.runtime.buildDockerfile)
      throw this.buildsNoImages('Building a template from a Dockerfile');
    await this.refuseTakenTemplate(body.name);
    const { images } = dockerfileStages(body.dockerfile);
    const templates = await this.templates.list();
    for (const image of images) {
      const parent = templates.find(
        (template) => template.image.ref === image && template.image.build,
      );
      if (parent && this.images)
        await this.images.ensure(parent, (step, detail) => onLine(detail ?? step));
    }
    const ref = `studio-custom/${body.name}:${Date.now().toString(36)}`;
    await this.runtime.buildDockerfile(body.dockerfile, ref, onLine);
    const { dockerfile: _dockerfile, ...rest } = body;
    const template = templateSchema.parse({
      ...rest,
      description: rest.description || 'Built from a Dockerfile an admin wrote.',
      image: { ref },
    });
    await this.templates.put(template, 'api');
    return template;
  }

  private async refuseTakenTemplate(name: string): Promise<void> {
    if ((await this.templates.list()).some((template) => template.name === name)) {
      throw new AppError('already_exists', `name: there is a template "${name}" already.`);
    }
  }

  private buildsNoImages(what: string): AppError {
    return new AppError(
      'unavailable',
      `${what} needs a driver that builds images (Docker); this server runs the ${this.runtime.kind} driver.`,
    );
  }

  /** Each template's warm pool; empty where the driver has none. */
  warmPools(): Promise<WarmPoolState[]> {
    return this.pool?.states() ?? Promise.resolve([]);
  }

  /** Fills the warm pools now (after an admin changed a size). */
  refillPools(): void {
    void this.pool?.refill();
  }

  get isolation(): WorkspaceRuntime['isolation'] {
    return this.runtime.isolation;
  }

  diskLimits(): Promise<boolean> {
    return this.runtime.diskLimits();
  }

  get driver(): string {
    return this.runtime.kind;
  }

  get capabilities(): DriverCapabilities {
    return this.runtime.capabilities;
  }

  async list(ownerId: string): Promise<Workspace[]> {
    const rows = await this.db
      .select()
      .from(workspaces)
      .where(and(eq(workspaces.ownerId, ownerId), ne(workspaces.status, 'deleting')))
      .orderBy(asc(workspaces.name));
    return rows.map((row) => this.toApi(row));
  }

  /** The owner's workspace by name; anyone else's is `not_found`, never `forbidden` (no probing). */
  async get(ownerId: string, name: string): Promise<Row> {
    const [row] = await this.db
      .select()
      .from(workspaces)
      .where(and(eq(workspaces.ownerId, ownerId), eq(workspaces.name, name)));
    if (!row || row.status === 'deleting') {
      throw new AppError('not_found', `You have no workspace named "${name}".`);
    }
    return row;
  }

  async create(ownerId: string, body: CreateWorkspaceBody): Promise<Workspace> {
    const shared =
      this.runtime.isolation === 'none'
        ? 'runs workspaces unsandboxed. Install bubblewrap or a container engine'
        : this.runtime.hostNetwork
          ? "runs workspaces on this machine's own network, where each could reach the others' ports and the host's services. Install slirp4netns (and bubblewrap), or use a container engine"
          : null;
    if (shared) {
      const [{ value }] = (await this.db.select({ value: count() }).from(users)) as [
        { value: number },
      ];
      if (value > 1) {
        throw new AppError(
          'isolation_unavailable',
          `This server has several users but ${shared}; until then workspaces cannot be created.`,
        );
      }
    }
    const template = withResources(
      await this.templates.get(body.template ?? 'base', ownerId),
      body.resources,
      body.resources ? await this.runtime.capacity() : null,
    );
    if (template.isolation === 'sandboxed-kernel' && this.runtime.kind !== 'docker') {
      throw new AppError(
        'isolation_unavailable',
        `Template "${template.name}" runs workspaces under a sandboxed kernel (gVisor), which needs the Docker driver; this server runs the ${this.runtime.kind} driver.`,
      );
    }
    // A plain workspace of a template with a warm pool takes a started one: ready at once.
    const pool = !body.repoUrl && !body.resources ? this.pool : undefined;
    let row: Row;
    try {
      // Over a quota, nothing is inserted, claimed or started; the check and the insert are one step.
      [row] = (await this.quotas.reserve(ownerId, needsOf(template.resources, true), async (tx) => {
        const warm = pool ? await pool.claim(tx, template) : null;
        const now = this.now();
        return tx
          .insert(workspaces)
          .values({
            id: warm ?? randomBytes(8).toString('hex'),
            ownerId,
            name: body.name,
            templateName: template.name,
            template,
            driver: this.runtime.kind,
            repoUrl: body.repoUrl ?? null,
            desiredState: 'running',
            status: warm ? 'running' : 'creating',
            ...(warm && { startedAt: now, lastActiveAt: now }),
          })
          .returning();
      })) as [Row];
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new AppError('already_exists', `You already have a workspace named "${body.name}".`);
      }
      throw error;
    }
    this.announce(row);
    if (row.status === 'running') void pool?.refill();
    else await this.enqueue(row.id, { step: 'provision' });
    return this.toApi(row);
  }

  async start(ownerId: string, name: string): Promise<Workspace> {
    return this.startRow(await this.get(ownerId, name));
  }

  async startRow(row: Row): Promise<Workspace> {
    const updated = await this.resume(row);
    await this.enqueue(row.id, { step: 'start' });
    return this.toApi(updated);
  }

  async stop(ownerId: string, name: string, reason: string | null = null): Promise<Workspace> {
    return this.stopRow(await this.get(ownerId, name), reason);
  }

  /** Any person's workspace by its id, for admins; a missing one is `not_found`. */
  async getById(id: string): Promise<Row> {
    const [row] = await this.db.select().from(workspaces).where(eq(workspaces.id, id));
    if (!row || row.status === 'deleting')
      throw new AppError('not_found', `There is no workspace with id "${id}".`);
    return row;
  }

  /** Every workspace on the server, for admins. */
  async listAll(): Promise<Row[]> {
    return this.db.select().from(workspaces).orderBy(workspaces.createdAt);
  }

  async stopRow(row: Row, reason: string | null = null): Promise<Workspace> {
    const updated = await this.update(row.id, { desiredState: 'stopped' });
    await this.enqueue(row.id, { step: 'stop', reason });
    return this.toApi(updated);
  }

  async removeRow(row: Row): Promise<void> {
    await this.setStatus(row.id, 'deleting', null, { desiredState: 'deleted' });
    await this.enqueue(row.id, { step: 'remove' });
  }

  /** Stops every running workspace of a person (disabled by an admin), saying why. */
  async stopAllOf(ownerId: string, reason: string): Promise<number> {
    const rows = await this.db.select().from(workspaces).where(eq(workspaces.ownerId, ownerId));
    const running = rows.filter((row) => row.desiredState === 'running');
    for (const row of running) await this.stopRow(row, reason);
    return running.length;
  }

  async restart(ownerId: string, name: string): Promise<Workspace> {
    return this.restartRow(await this.get(ownerId, name));
  }

  async restartRow(row: Row): Promise<Workspace> {
    const updated = await this.resume(row);
    await this.enqueue(row.id, { step: 'restart' });
    return this.toApi(updated);
  }

  async remove(ownerId: string, name: string): Promise<void> {
    await this.removeRow(await this.get(ownerId, name));
  }

  /** Wait until queued lifecycle work of a workspace is done (tests, CLI `--wait`). */
  async settled(id: string): Promise<void> {
    await this.jobs.settled(id);
  }

  /**
   * Call `listener` with each new daemon connection, before anyone else can use it (the git
   * credential broker opens its stream there, ahead of any git command).
   */
  onConnect(listener: (row: Row, connection: DaemonConnection) => void): () => void {
    this.connectListeners.add(listener);
    return () => this.connectListeners.delete(listener);
  }

  /** A shared daemon connection of a running workspace. */
  async connect(row: Row): Promise<DaemonConnection> {
    if (row.status !== 'running') {
      throw new AppError(
        'workspace_not_running',
        `Workspace "${row.name}" is ${row.status}; start it first.`,
      );
    }
    return this.open(row);
  }

  /** The daemon connection, whatever the row says: for the steps that start a workspace. */
  private async open(row: Row): Promise<DaemonConnection> {
    const existing = this.connections.get(row.id);
    if (existing) {
      const connection = await existing.catch(() => null);
      if (connection && !connection.closed) return connection;
    }
    const pending = this.runtime.connect(row.id);
    this.connections.set(row.id, pending);
    pending.then(
      (connection) => {
        connection.onClose(() => this.forget(row.id, pending));
        for (const listener of this.connectListeners) listener(row, connection);
      },
      () => this.forget(row.id, pending),
    );
    return pending;
  }

  async logs(row: Row, tail: number): Promise<string> {
    return this.runtime.logs(row.id, tail);
  }

  async stats(row: Row) {
    if (row.status !== 'running') {
      throw new AppError('workspace_not_running', `Workspace "${row.name}" is ${row.status}.`);
    }
    return this.runtime.stats(row.id);
  }

  /** Someone used the workspace (typed in a terminal, saved a file): push back the idle stop. */
  touch(id: string): void {
    const at = this.now().getTime();
    if (at - (this.lastActivityWrite.get(id) ?? 0) < ACTIVITY_WRITE_MS) return;
    this.lastActivityWrite.set(id, at);
    void this.db
      .update(workspaces)
      .set({ lastActiveAt: this.now() })
      .where(eq(workspaces.id, id))
      .catch((error: unknown) => this.log.warn({ err: error }, 'could not record activity'));
  }

  /** Mark the workspace in use (an open terminal) until the returned function is called. */
  hold(id: string): () => void {
    this.inUse.set(id, (this.inUse.get(id) ?? 0) + 1);
    this.touch(id);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse.set(id, (this.inUse.get(id) ?? 1) - 1);
      this.touch(id);
    };
  }

  /** The API's view of a workspace, for a caller whose role on it is `role`. */
  toApi(row: Row, role: WorkspaceRole = 'owner', ownerEmail?: string): Workspace {
    const template = row.template as unknown as Template;
    return {
      id: row.id,
      name: row.name,
      ownerId: row.ownerId,
      role,
      ...(ownerEmail !== undefined && { ownerEmail }),
      template: row.templateName,
      desktop: template.desktop ?? false,
      status: row.status as WorkspaceStatusName,
      statusReason: row.statusReason,
      driver: row.driver,
      isolation:
        template.isolation === 'sandboxed-kernel' ? 'sandboxed-kernel' : this.runtime.isolation,
      repoUrl: row.repoUrl,
      ...(template.devcontainer && { devcontainer: template.devcontainer }),
      ...(template.vscode && { vscode: template.vscode }),
      ...(template.ports?.length && { ports: template.ports }),
      resources: {
        cpus: template.resources.cpus,
        memoryMiB: template.resources.memoryMiB,
        pids: template.resources.pids,
        ...(template.resources.diskMiB !== undefined && { diskMiB: template.resources.diskMiB }),
      },
      createdAt: row.createdAt.toISOString(),
      startedAt: row.startedAt?.toISOString() ?? null,
      lastActiveAt: row.lastActiveAt.toISOString(),
    };
  }

  /** A workspace's home as a tar stream, for a backup; running or stopped. */
  async exportHome(id: string): Promise<Readable> {
    const row = await this.getById(id);
    return this.runtime.exportHome(row.id);
  }

  /**
   * For a restore on a new machine: builds the workspace's image if needed, creates the
   * workspace on this driver (stopped) and unpacks its home from `archive` into the new, empty
   * home (none: it starts empty, and `reason` says why).
   */
  async restoreHome(
    row: Row,
    archive: Readable | null,
    progress: ProgressListener,
    reason: string,
  ): Promise<void> {
    const template = row.template as unknown as Template;
    if (this.images) await this.images.ensure(template, progress);
    // The same workspace still on this engine (the data dir was lost, not the engine): its home
    // is as new as the backup or newer, and its user could have planted links in it; keep it.
    const kept = (await this.runtime.inspect(row.id)) !== null;
    if (!kept) {
      await this.runtime.create(specOf(row, template), progress);
      if (archive) await this.runtime.importHome(row.id, archive);
    }
    await this.update(row.id, {
      status: 'stopped',
      desiredState: 'stopped',
      statusReason: kept
        ? `${reason} Its files on this machine were kept: it was still here.`
        : reason,
      driver: this.runtime.kind,
      startedAt: null,
    });
  }

  // --- lifecycle steps (always run through `enqueue`) ---

  private async provision(row: Row, template: Template): Promise<void> {
    const progress = this.progress(row);
    try {
      if (this.images) await this.images.ensure(template, progress);
      progress('creating', 'creating the workspace');
      // A job re-run after its server died may find the workspace made already.
      if (!(await this.runtime.inspect(row.id)))
        await this.runtime.create(specOf(row, template), progress);
    } catch (error) {
      await this.fail(row.id, error, 'could not create the workspace');
      return;
    }
    // With a repository it is `starting` until cloned and on its dev container, if it has one:
    // the create dialog follows the clone and the build, and closes when it can be used.
    const started = await this.bringUp(row, row.repoUrl ? 'starting' : 'running');
    if (!started || !row.repoUrl) return;
    const folder = await this.clone(started, row.repoUrl);
    if (!folder || !(await this.devcontainer(started, folder))) {
      const [current] = await this.db.select().from(workspaces).where(eq(workspaces.id, row.id));
      if (current?.status === 'starting')
        await this.setStatus(row.id, 'running', current.statusReason);
    }
  }

  /**
   * The repository's dev container, when it has one and the driver builds images: its image is
   * built, the workspace moves onto it with its home, and its once-only commands run there. A
   * build that fails leaves the workspace running as it was, saying why.
   */
  private async devcontainer(row: Row, folder: string): Promise<boolean> {
    const runtime = this.runtime;
    if (!runtime.buildDevcontainer || !runtime.recreate) return false;
    const recreate = runtime.recreate.bind(runtime);
    const progress = this.progress(row);
    let build: DevcontainerBuild | null;
    try {
      build = await runtime.buildDevcontainer(row.id, folder, progress);
    } catch (error) {
      const why = this.explain(
        row.id,
        error,
        'devcontainer build failed',
        'its build failed; see the server log.',
      );
      await this.setStatus(
        row.id,
        'running',
        `Running without the repository's dev container: ${why}`,
      );
      return true;
    }
    if (!build) return false;
    const base = row.template as unknown as Template;
    // The folder name is letters, digits, dots, dashes and underscores (repoFolderOf).
    const inRepo = (command: string) => `cd ${folder} && ${command}`;
    const template: Template = {
      ...base,
      image: { ref: build.image },
      env: { ...base.env, ...build.env },
      startCommands: [...base.startCommands, ...build.onStart.map(inRepo)],
      ports: withForwardedPorts(base.ports, build.forwardPorts),
      devcontainer: { config: `${folder}/${build.config}`, extensions: build.extensions },
    };
    const updated = await this.update(row.id, {
      template: template as unknown as Row['template'],
      status: 'starting',
      statusReason: null,
    });
    this.dropConnection(row.id);
    try {
      await recreate(specOf(updated, template), progress);
    } catch (error) {
      await this.fail(row.id, error, 'could not move the workspace onto its dev container');
      return true;
    }
    // An image that does not start (a driver that builds none cannot try it first): back onto
    // the template's, the home kept, saying why.
    const started = await this.bringUp(updated, 'starting', async (error) => {
      const why = this.explain(
        row.id,
        error,
        'devcontainer image did not start',
        'see the server log',
      );
      const restored = await this.update(row.id, { template: row.template });
      this.dropConnection(row.id);
      try {
        await recreate(specOf(restored, base), progress);
      } catch (failure) {
        await this.fail(row.id, failure, 'could not move the workspace back onto its template');
        return;
      }
      if (await this.bringUp(restored, 'starting')) {
        await this.setStatus(
          row.id,
          'running',
          `Running without the repository's dev container: its image ${build.image} did not start. ${why}`,
        );
      }
    });
    if (!started) return true;
    let reason: string | null = null;
    for (const command of build.onCreate) {
      progress('running', command);
      try {
        const daemon = await this.open(started);
        const result = await daemon.exec('sh', ['-c', command], {
          cwd: folder,
          timeoutMs: 30 * 60_000,
        });
        if (result.code === 0) continue;
        const output = `${result.stdout}\n${result.stderr}`
          .trim()
          .split('\n')
          .slice(-10)
          .join('\n');
        reason = `The dev container's command \`${command}\` failed (exit code ${result.code ?? result.signal}):\n${output}`;
      } catch (error) {
        this.log.warn({ err: error, workspace: row.id }, 'devcontainer command failed');
        reason = `The dev container's command \`${command}\` did not finish; see the server log.`;
      }
      break;
    }
    await this.setStatus(row.id, 'running', reason);
    return true;
  }

  /** Starts the workspace; `running` once its daemon answers, unless `then` says it has more to do. */
  private async bringUp(
    row: Row,
    then: 'running' | 'starting' = 'running',
    failed = (error: unknown) => this.fail(row.id, error, 'could not start the workspace'),
  ): Promise<Row | null> {
    await this.setStatus(row.id, 'starting', null);
    let status: WorkspaceStatus;
    try {
      status = await this.runtime.start(row.id, this.progress(row));
    } catch (error) {
      await failed(error);
      return null;
    }
    return this.setStatus(row.id, then, null, {
      startedAt: status.startedAt ?? this.now(),
      lastActiveAt: this.now(),
    });
  }

  private async bringDown(row: Row, reason: string | null): Promise<void> {
    await this.setStatus(row.id, 'stopping', reason);
    this.dropConnection(row.id);
    try {
      await this.runtime.stop(row.id);
      await this.setStatus(row.id, 'stopped', reason, { startedAt: null });
    } catch (error) {
      await this.fail(row.id, error, 'could not stop the workspace');
    }
  }

  private async destroy(row: Row): Promise<void> {
    this.dropConnection(row.id);
    try {
      await this.runtime.remove(row.id);
    } catch (error) {
      await this.fail(row.id, error, 'could not delete the workspace');
      return;
    }
    await this.db.delete(workspaces).where(eq(workspaces.id, row.id));
    this.emit(row.ownerId, { type: 'workspace.deleted', id: row.id, name: row.name });
  }

  /** Clones into the home; the repository's folder, or null when the clone failed. */
  private async clone(row: Row, repoUrl: string): Promise<string | null> {
    this.progress(row)('cloning', repoUrl);
    const folder = repoFolderOf(repoUrl);
    try {
      // The connection's listeners (the git credential broker) are in place before this exec,
      // so a private repository gets the owner's token for its host through the daemon's helper.
      const daemon = await this.open(row);
      const result = await daemon.exec('git', ['clone', '--', repoUrl, folder], {
        timeoutMs: 15 * 60_000,
        env: { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C.UTF-8' },
      });
      if (result.code !== 0) {
        const output = result.stderr.trim();
        const host = /(?:could not read Username for|Authentication failed for) '([^']+)'/.exec(
          output,
        )?.[1];
        await this.setStatus(
          row.id,
          'running',
          host
            ? `git clone failed: ${URL.canParse(host) ? new URL(host).host : host} needs a sign-in. Add a token for it in Settings → Git credentials, then clone in a terminal.`
            : `git clone failed: ${output.split('\n').slice(-3).join(' ')}`,
        );
        return null;
      }
      return folder;
    } catch (error) {
      this.log.warn({ err: error, workspace: row.id }, 'clone failed');
      return null;
    }
  }

  // --- keeping rows and the driver in step ---

  /**
   * On start: adopt what runs and clean up what has no row. A row in the middle of a step whose
   * job is queued or running (here or on another replica, or left by one that died: its lease
   * lapses and another takes it) is that job's; only a row with no job gets one.
   */
  async reconcile(): Promise<void> {
    const running = new Map((await this.runtime.list()).map((status) => [status.id, status]));
    const rows = await this.db.select().from(workspaces);
    for (const row of rows) {
      const actual = running.get(row.id);
      running.delete(row.id);
      if (await this.jobs.busy(row.id)) continue;
      if (row.status === 'deleting' || row.desiredState === 'deleted') {
        await this.enqueue(row.id, { step: 'remove' });
      } else if (!actual) {
        if (row.status !== 'creating') {
          await this.setStatus(
            row.id,
            'error',
            `The ${this.runtime.kind} driver has no such workspace any more; delete it and create it again.`,
          );
        } else {
          await this.enqueue(row.id, { step: 'provision' });
        }
      } else if (row.status === 'starting' || row.status === 'creating') {
        await this.enqueue(row.id, { step: 'start' });
      } else if (row.status === 'stopping') {
        await this.enqueue(row.id, { step: 'stop', reason: row.statusReason });
      } else {
        const status = toStatusName(actual.state);
        if (status !== row.status) await this.setStatus(row.id, status, actual.reason);
      }
    }
    // Workspaces with no row are leftovers of a crash between create and insert: remove them.
    // As a job: a removal can wait on a busy volume, and must not hold up the start.
    for (const orphan of running.keys()) {
      if (await this.pool?.holds(orphan)) continue;
      this.log.warn({ workspace: orphan }, 'removing a workspace that has no database row');
      await this.enqueue(orphan, { step: 'remove-orphan' });
    }
  }

  private async onRuntimeEvent(event: {
    id: string;
    state: WorkspaceState;
    reason: string | null;
  }) {
    const [row] = await this.db.select().from(workspaces).where(eq(workspaces.id, event.id));
    // Transitions report through their own steps, whichever replica drives them: every replica
    // hears the driver's events, and one that is not driving must not write over the steps.
    if (!row || DRIVEN.has(row.status) || (await this.jobs.busy(row.id))) return;
    const status = toStatusName(event.state);
    if (status === row.status) return;
    if (status === 'stopped') this.dropConnection(row.id);
    await this.setStatus(row.id, status, event.reason);
  }

  /** Stop workspaces idle past their template's timeout or running past its maximum lifetime. */
  async sweep(): Promise<void> {
    // Other replicas judge idleness by the database: say that terminals here are still open.
    for (const [id, holders] of this.inUse) if (holders > 0) this.touch(id);
    const rows = await this.db.select().from(workspaces).where(eq(workspaces.status, 'running'));
    const now = this.now().getTime();
    for (const row of rows) {
      const template = row.template as unknown as Template;
      const idleMs = template.idleTimeoutMinutes * 60_000;
      const lifetimeMs = template.maxLifetimeHours * 3_600_000;
      let reason: string | null = null;
      if (
        (this.inUse.get(row.id) ?? 0) === 0 &&
        idleMs > 0 &&
        now - row.lastActiveAt.getTime() > idleMs
      ) {
        reason = `stopped after ${template.idleTimeoutMinutes} minutes without activity`;
      } else if (lifetimeMs > 0 && row.startedAt && now - row.startedAt.getTime() > lifetimeMs) {
        reason = `stopped after its maximum lifetime of ${template.maxLifetimeHours} hours`;
      }
      if (reason) {
        this.log.info({ workspace: row.id, reason }, 'stopping workspace');
        await this.stop(row.ownerId, row.name, reason).catch(() => {});
      }
    }
  }

  // --- helpers ---

  /** Queues a lifecycle step; it runs after the workspace's earlier steps, on some replica. */
  private async enqueue(id: string, step: Step): Promise<void> {
    await this.jobs.enqueue('workspace', id, { id, ...step });
  }

  /** Runs one step from its job, on the row as it is now. */
  private async runStep(job: { id: string } & Step): Promise<void> {
    if (job.step === 'remove-orphan') {
      await this.runtime
        .remove(job.id)
        .catch((error: unknown) =>
          this.log.error({ err: error, workspace: job.id }, 'could not remove orphan'),
        );
      return;
    }
    const [row] = await this.db.select().from(workspaces).where(eq(workspaces.id, job.id));
    if (!row) return;
    switch (job.step) {
      case 'provision': {
        await this.provision(row, row.template as unknown as Template);
        return;
      }
      case 'start':
        await this.bringUp(row);
        return;
      case 'stop':
        await this.bringDown(row, job.reason);
        return;
      case 'restart':
        await this.bringDown(row, null);
        await this.bringUp(row);
        return;
      case 'remove':
        await this.destroy(row);
        return;
    }
  }

  private progress(row: Row): ProgressListener {
    return (step, detail) =>
      this.emit(row.ownerId, {
        type: 'workspace.progress',
        id: row.id,
        name: row.name,
        step,
        ...(detail === undefined ? {} : { detail }),
      });
  }

  private async fail(id: string, error: unknown, what: string): Promise<void> {
    await this.setStatus(id, 'error', this.explain(id, error, what));
  }

  /**
   * What a person is told of `error`: its message when it is one of ours (coded), else
   * `otherwise`, the error itself going to the server log as `what`.
   */
  private explain(
    id: string,
    error: unknown,
    what: string,
    otherwise = `${what}; see the server log`,
  ): string {
    if (error instanceof CodedError) return error.message;
    this.log.error({ err: error, workspace: id }, what);
    return otherwise;
  }

  private async setStatus(
    id: string,
    status: WorkspaceStatusName,
    reason: string | null,
    extra: Partial<typeof workspaces.$inferInsert> = {},
  ): Promise<Row> {
    return this.update(id, { status, statusReason: reason, ...extra });
  }

  /** Asks for a workspace to run: a stopped one counts against its owner's quotas again. */
  private async resume(row: Row): Promise<Row> {
    if (row.desiredState === 'running') return this.update(row.id, { desiredState: 'running' });
    const { resources } = row.template as unknown as Template;
    const [updated] = await this.quotas.reserve(row.ownerId, needsOf(resources, false), (tx) =>
      tx
        .update(workspaces)
        .set({ desiredState: 'running' })
        .where(eq(workspaces.id, row.id))
        .returning(),
    );
    if (!updated) throw new AppError('not_found', 'The workspace was deleted.');
    this.announce(updated);
    return updated;
  }

  private async update(id: string, values: Partial<typeof workspaces.$inferInsert>): Promise<Row> {
    const [row] = await this.db
      .update(workspaces)
      .set(values)
      .where(eq(workspaces.id, id))
      .returning();
    if (!row) throw new AppError('not_found', 'The workspace was deleted.');
    this.announce(row);
    return row;
  }

  private announce(row: Row): void {
    this.emit(row.ownerId, { type: 'workspace', workspace: this.toApi(row) });
  }

  private emit(ownerId: string, event: ServerEvent): void {
    this.events.emit(ownerId, event);
    this.events.emit(ALL_OWNERS, ownerId, event);
    if (!this.bus) return;
    const message: BusMessage = { from: this.replicaId, ownerId, event };
    this.bus
      .publish(EVENTS_CHANNEL, JSON.stringify(message))
      .catch((error: unknown) =>
        this.log.warn({ err: error }, 'could not tell the other servers a workspace event'),
      );
  }

  private onBusMessage(payload: string): void {
    let message: BusMessage;
    try {
      message = JSON.parse(payload) as BusMessage;
    } catch {
      return;
    }
    if (message.from === this.replicaId) return;
    this.events.emit(message.ownerId, message.event);
    this.events.emit(ALL_OWNERS, message.ownerId, message.event);
  }

  private dropConnection(id: string): void {
    const pending = this.connections.get(id);
    this.connections.delete(id);
    pending?.then(
      (connection) => connection.close(),
      () => {},
    );
  }

  private forget(id: string, pending: Promise<DaemonConnection>): void {
    if (this.connections.get(id) === pending) this.connections.delete(id);
  }
}

function toStatusName(state: WorkspaceState): WorkspaceStatusName {
  switch (state) {
    case 'missing':
      return 'error';
    default:
      return state;
  }
}

/**
 * The template with the resources the person picked at creation. Nobody gets more than the
 * machine workspaces run on has (`capacity`, when the driver can tell): more cores or memory is a
 * clear 400.
 */
export function withResources(
  template: Template,
  picked: CreateWorkspaceBody['resources'],
  capacity: WorkspaceCapacity | null,
): Template {
  if (!picked) return template;
  if (capacity && picked.cpus !== undefined && picked.cpus > capacity.cpus) {
    throw new AppError(
      'bad_request',
      `resources.cpus: workspaces here run on a machine with ${capacity.cpus} CPU cores; pick at most that many.`,
    );
  }
  if (capacity && picked.memoryMiB !== undefined && picked.memoryMiB > capacity.memoryMiB) {
    throw new AppError(
      'bad_request',
      `resources.memoryMiB: workspaces here run on a machine with ${capacity.memoryMiB} MiB of memory; pick at most that.`,
    );
  }
  const defined = Object.fromEntries(
    Object.entries(picked).filter(([, value]) => value !== undefined),
  );
  return { ...template, resources: { ...template.resources, ...defined } };
}

/** What the driver needs to create a workspace of this row and template. */
function specOf(row: Row, template: Template): WorkspaceSpec {
  return {
    id: row.id,
    name: row.name,
    ownerId: row.ownerId,
    image: template.image.ref,
    resources: template.resources,
    // A workspace made from a repository gets the repository, not the image's starter project.
    env: row.repoUrl ? { ...template.env, STUDIO_STARTER: 'skip' } : template.env,
    startCommands: template.startCommands,
    ...(template.isolation === 'sandboxed-kernel' && { isolation: 'sandboxed-kernel' as const }),
  };
}

/** The folder `git clone` makes for a URL: its last path part without `.git`. */
export function repoFolderOf(repoUrl: string): string {
  const last = repoUrl
    .replace(/[/\\]+$/, '')
    .replace(/\.git$/, '')
    .split(/[/:\\]/)
    .pop();
  return last && /^[A-Za-z0-9._-]+$/.test(last) && !/^\.+$/.test(last) ? last : 'repository';
}

/** The template's ports and a dev container's `forwardPorts`, each port once, for the Ports view. */
function withForwardedPorts(
  ports: Template['ports'],
  forwarded: DevcontainerBuild['forwardPorts'],
): Template['ports'] {
  const known = new Set(ports.map((entry) => entry.port));
  const added = forwarded
    .filter((entry) => !known.has(entry.port))
    .map(({ port, label: raw }) => {
      // One line, as a template's port label must be: the repository wrote it.
      const label = (raw ?? '')
        // eslint-disable-next-line no-control-regex -- control characters are what goes
        .replace(/[\s\u0000-\u001f\u007f]+/g, ' ')
        .trim()
        .slice(0, 100);
      const slug = label
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^[^a-z]+|-+$/g, '')
        .slice(0, 63);
      return { port, name: slug || `port-${port}`, ...(label && { label }) };
    });
  return [...ports, ...added].slice(0, 32);
}
