import { randomBytes, randomUUID } from 'node:crypto';
import { schema, type Database } from '@studio/db';
import type {
  DeployMissionBody,
  Mission,
  MissionConnection,
  MissionStatus,
  ServerEvent,
  Template,
  UpdateMissionBody,
} from '@studio/protocol';
import { CodedError, deployMissionBodySchema } from '@studio/protocol';
import type { DaemonConnection } from '@studio/runtime';
import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { JobQueue } from '../jobs/job-queue.ts';
import type { UserService } from '../auth/user-service.ts';
import type { Person } from '../ai/assistant.ts';
import type { AuditLog } from '../audit-log.ts';
import { AppError } from '../errors.ts';
import { VNC_PORT } from '../workspaces/desktop.ts';
import { refuseGitImport } from '../net/server-network.ts';
import type { TemplateStore } from '../workspaces/templates.ts';
import type { WorkspaceService } from '../workspaces/workspace-service.ts';

const { missions, workspaces } = schema;
type MissionRow = typeof missions.$inferSelect;
type WorkspaceRow = typeof workspaces.$inferSelect;
type DeployRequest = ReturnType<typeof deployMissionBodySchema.parse>;

/** The worker side, given by the assistant: start a worker run, find or stop it. */
export interface Workers {
  start(
    person: Person,
    workspace: WorkspaceRow,
    mission: { requirement: string; desktop: boolean },
  ): Promise<{ conversationId: string }>;
  /** The run working in that conversation, if any. */
  activeRun(conversationId: string): Promise<string | null>;
  /** The worker's newest run: running, or how it ended and why. */
  latestRun(
    conversationId: string,
  ): Promise<{ running: boolean; endCode: string | null; message: string | null } | null>;
  stop(conversationId: string): Promise<void>;
}

export interface MissionDeps {
  db: Database;
  workspaces: WorkspaceService;
  templates: TemplateStore;
  workers: Workers;
  audit: AuditLog;
  logger: FastifyBaseLogger;
  /** Private "ip:port" pairs repositories may be cloned from (`STUDIO_NETWORK_ALLOW`). */
  allowAddresses?: string[];
  /** Deployments run as jobs, so a replica that dies hands its deployments to another. */
  jobs: JobQueue;
  /** The person a deployment works for, looked up again when another replica resumes it. */
  users: Pick<UserService, 'find'>;
  now?: () => Date;
}

/** Image steps: the environment is being built, not yet started. */
const BUILD_STEPS = new Set(['pull', 'build', 'rootfs', 'import']);
/** An image build of the desktop takes minutes on a cold machine; longer than this is stuck. */
const DEPLOY_TIMEOUT_MS = 30 * 60_000;
/** From the workspace running to its VNC server answering. */
const DESKTOP_TIMEOUT_MS = 60_000;
/** How long a desktop session may take to open its first window (a terminal, say). */
const SESSION_WINDOWS_MS = 20_000;
const SWEEP_MS = 30_000;
const DEPLOYING: MissionStatus[] = ['queued', 'building', 'starting'];

/**
 * Missions: a requirement, the environment deployed for it (a workspace, usually a desktop), and
 * the worker agent that works on it there. Drives each deployment through queued → building →
 * starting → ready, seeds files and repositories, starts the worker, and stops environments whose
 * time-to-live ran out.
 */
export class MissionService {
  private readonly db: Database;
  private readonly now: () => Date;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly deps: MissionDeps) {
    this.db = deps.db;
    this.now = deps.now ?? (() => new Date());
    deps.jobs.handle('mission', (payload) =>
      this.deployJob(payload as { missionId: string; request: DeployRequest }),
    );
  }

  /**
   * Starts the time-to-live sweeper. A deployment caught by a restart goes on as its job (on
   * whichever replica takes it); only one with no job (made before deployments were jobs) fails.
   */
  async startBackground(sweepMs = SWEEP_MS): Promise<void> {
    const deploying = await this.db
      .select({ id: missions.id })
      .from(missions)
      .where(inArray(missions.status, DEPLOYING));
    for (const { id } of deploying)
      if (!(await this.deps.jobs.busy(id)))
        await this.update(id, {
          status: 'failed',
          statusReason:
            'The server restarted while this environment was being deployed. Deploy it again.',
        });
    this.sweeper = setInterval(() => void this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /** Create the environment and return at once; the deployment goes on in the background. */
  async deploy(person: Person, body: DeployMissionBody): Promise<Mission> {
    const request = deployMissionBodySchema.parse(body);
    const template = await this.deps.templates.get(request.template, person.id);
    const unavailable = this.unavailable(template);
    if (unavailable) throw new AppError('bad_request', unavailable);
    for (const url of request.repositories)
      await refuseGitImport(person, url, this.deps.allowAddresses ?? []);
    const name = `mission-${randomBytes(3).toString('hex')}`;
    const id = randomUUID();
    // The mission and the job that deploys it exist together, or not at all: a server killed a
    // moment later leaves a job another replica finishes, never a mission stuck queued.
    const row = await this.db.transaction(async (tx) => {
      const [inserted] = await tx
        .insert(missions)
        .values({
          id,
          userId: person.id,
          workspaceName: name,
          template: template.name,
          desktop: template.desktop,
          requirement: request.requirement,
          request: {
            ...(request.resources ? { resources: request.resources } : {}),
            files: request.files.map((file) => file.path),
            repositories: request.repositories,
            startWorker: request.startWorker,
          },
          status: 'queued',
          ttlMinutes: request.ttlMinutes,
        })
        .returning();
      // The job carries the whole request (the files' contents too): whichever replica runs it.
      await this.deps.jobs.insert(tx, 'mission', id, { missionId: id, request });
      return inserted!;
    });
    await this.deps.jobs.announce(id);
    await this.deps.audit.record({
      actorId: person.id,
      action: 'mission.deploy',
      targetType: 'mission',
      targetId: id,
      data: {
        template: template.name,
        workspace: name,
        requirement: request.requirement.slice(0, 500),
        ttlMinutes: request.ttlMinutes,
        files: request.files.map((file) => file.path),
        repositories: request.repositories,
      },
    });
    return this.view(row, null, null);
  }

  /** Why this server cannot deploy the template, or null when it can. */
  unavailable(template: Template): string | null {
    if (template.desktop && !this.deps.workspaces.capabilities.desktop)
      return `The "${template.name}" template has a desktop, which the ${this.deps.workspaces.driver} driver this server runs workspaces on cannot give; use the Docker or Kubernetes driver (STUDIO_RUNTIME).`;
    return null;
  }

  async list(userId: string): Promise<Mission[]> {
    const rows = await this.db
      .select({ mission: missions, workspace: workspaces })
      .from(missions)
      .leftJoin(workspaces, eq(workspaces.id, missions.workspaceId))
      .where(eq(missions.userId, userId))
      .orderBy(desc(missions.createdAt))
      .limit(100);
    return Promise.all(
      rows.map((row) =>
        this.view(row.mission, row.workspace?.status ?? null, row.workspace?.statusReason ?? null),
      ),
    );
  }

  async get(userId: string, id: string): Promise<Mission> {
    const { mission, workspace } = await this.row(userId, id);
    return this.view(mission, workspace?.status ?? null, workspace?.statusReason ?? null);
  }

  /** Keep the environment past its time-to-live, or give it a new one counted from now. */
  async change(userId: string, id: string, body: UpdateMissionBody): Promise<Mission> {
    const { mission } = await this.row(userId, id);
    const values: Partial<typeof missions.$inferInsert> = {};
    if (body.keep !== undefined) values.keep = body.keep;
    if (body.ttlMinutes !== undefined) {
      values.ttlMinutes = body.ttlMinutes;
      if (mission.status === 'ready')
        values.expiresAt = new Date(this.now().getTime() + body.ttlMinutes * 60_000);
    }
    await this.update(id, values);
    return this.get(userId, id);
  }

  /** Stop the worker and the environment; the workspace stays, stopped, until removed. */
  async stop(userId: string, id: string, reason = 'Stopped by you.'): Promise<Mission> {
    const { mission, workspace } = await this.row(userId, id);
    if (mission.workerConversationId) await this.deps.workers.stop(mission.workerConversationId);
    if (mission.status !== 'stopped' && mission.status !== 'failed')
      await this.update(id, { status: 'stopped', statusReason: reason, expiresAt: null });
    if (workspace && !['stopped', 'stopping', 'deleting', 'error'].includes(workspace.status))
      await this.deps.workspaces.stop(userId, workspace.name, reason);
    await this.deps.audit.record({
      actorId: userId,
      action: 'mission.stop',
      targetType: 'mission',
      targetId: id,
      data: { reason },
    });
    return this.get(userId, id);
  }

  /** Stop it and delete its environment and the record. */
  async remove(userId: string, id: string): Promise<void> {
    const { mission, workspace } = await this.row(userId, id);
    if (mission.workerConversationId) await this.deps.workers.stop(mission.workerConversationId);
    await this.update(id, { status: 'stopped', statusReason: 'Removed.' });
    if (workspace && workspace.status !== 'deleting')
      await this.deps.workspaces.remove(userId, workspace.name);
    await this.db.delete(missions).where(eq(missions.id, id));
    await this.deps.audit.record({
      actorId: userId,
      action: 'mission.remove',
      targetType: 'mission',
      targetId: id,
      data: { workspace: mission.workspaceName },
    });
  }

  /** Where a program reaches a ready mission: its IDE, its desktop socket, its worker's run. */
  async connection(userId: string, id: string): Promise<MissionConnection> {
    const mission = await this.get(userId, id);
    if (mission.status !== 'ready')
      throw new AppError(
        'conflict',
        `Mission ${id} is ${mission.status}${mission.statusReason ? `: ${mission.statusReason}` : ''}; it can be reached once ready.`,
      );
    const name = encodeURIComponent(mission.workspace);
    return {
      workspace: mission.workspace,
      ide: `/w/${name}`,
      desktop: mission.desktop ? `/api/workspaces/${name}/desktop/vnc` : null,
      worker: {
        conversationId: mission.workerConversationId,
        runId: mission.workerRunId,
        events: mission.workerRunId
          ? `/api/ai/runs/${encodeURIComponent(mission.workerRunId)}/events`
          : null,
      },
    };
  }

  /** Stop the environments whose time-to-live ran out and nobody kept. */
  async sweep(): Promise<void> {
    const due = await this.db
      .select()
      .from(missions)
      .where(
        and(
          eq(missions.status, 'ready'),
          eq(missions.keep, false),
          lt(missions.expiresAt, this.now()),
        ),
      );
    for (const mission of due)
      await this.stop(
        mission.userId,
        mission.id,
        `Its time-to-live of ${mission.ttlMinutes} min ran out.`,
      ).catch((error: unknown) =>
        this.deps.logger.warn({ err: error, mission: mission.id }, 'could not stop a mission'),
      );
  }

  // --- deployment ---

  /**
   * Waits for the mission's workspace to run: image steps make the mission `building`, its start
   * makes it `starting`; an error or a stop rejects with the reason. Reads the row too (each
   * second, and at once), so a deployment resumed on another replica misses nothing.
   */
  private untilRunning(mission: MissionRow): Promise<WorkspaceRow> {
    let status: MissionStatus = mission.status;
    let lastWrite = 0;
    const set = (next: MissionStatus, reason: string | null) => {
      const at = Date.now();
      // Build output comes line by line: a new status is written at once, a new detail once a second.
      if (next === status && at - lastWrite < 1000) return;
      status = next;
      lastWrite = at;
      void this.update(mission.id, { status: next, statusReason: reason }).catch(() => {});
    };
    return new Promise<WorkspaceRow>((resolve, reject) => {
      let finished = false;
      const finish = (error: Error | null, row?: WorkspaceRow) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        clearInterval(poll);
        unsubscribe();
        if (error) reject(error);
        else resolve(row!);
      };
      const judge = (row: WorkspaceRow | undefined) => {
        if (!row || row.status === 'deleting')
          return finish(
            new AppError('conflict', 'The environment was removed before it was ready.'),
          );
        if (row.status === 'running') return finish(null, row);
        if (row.status === 'starting') set('starting', 'starting the environment');
        if (row.status === 'error')
          return finish(new AppError('unavailable', row.statusReason ?? 'The environment failed.'));
        if (row.status === 'stopping' || row.status === 'stopped')
          return finish(
            new AppError('conflict', 'The environment was stopped before it was ready.'),
          );
      };
      const check = () =>
        void this.db
          .select()
          .from(workspaces)
          .where(eq(workspaces.id, mission.workspaceId ?? ''))
          .then(([row]) => judge(row))
          .catch(() => {});
      const timer = setTimeout(
        () => finish(new AppError('timeout', 'The environment did not start within 30 minutes.')),
        DEPLOY_TIMEOUT_MS,
      );
      const poll = setInterval(check, 1000);
      const unsubscribe = this.deps.workspaces.subscribe(mission.userId, (event: ServerEvent) => {
        if (event.type === 'workspace.progress' && event.name === mission.workspaceName) {
          const detail = event.detail ? `${event.step}: ${event.detail}`.slice(0, 300) : event.step;
          if (BUILD_STEPS.has(event.step)) set('building', detail);
          else if (status !== 'queued') set(status, detail);
        } else if (event.type === 'workspace' && event.workspace.name === mission.workspaceName) {
          check();
        } else if (event.type === 'workspace.deleted' && event.name === mission.workspaceName) {
          check();
        }
      });
      check();
    });
  }

  /**
   * A deployment, as its job: run again from the start after a replica died, it skips what is
   * done (files are written again, a cloned repository is kept, a started worker is not started
   * twice).
   */
  private async deployJob({
    missionId,
    request,
  }: {
    missionId: string;
    request: DeployRequest;
  }): Promise<void> {
    const [mission] = await this.db.select().from(missions).where(eq(missions.id, missionId));
    if (!mission || mission.status === 'stopped' || mission.status === 'failed') return;
    if (mission.status === 'ready' && (mission.workerConversationId || !request.startWorker))
      return;
    const user = await this.deps.users.find(mission.userId);
    if (!user) return;
    const person: Person = {
      id: user.id,
      name: user.name,
      email: user.email,
      admin: user.role === 'admin',
    };
    let deployed = mission;
    if (!mission.workspaceId) {
      try {
        deployed = await this.update(mission.id, {
          workspaceId: (await this.environmentOf(person, mission, request)).id,
        });
      } catch (error) {
        await this.update(mission.id, {
          status: 'failed',
          statusReason:
            error instanceof CodedError ? error.message : 'The environment could not be created.',
        });
        if (!(error instanceof CodedError))
          this.deps.logger.error({ err: error, mission: mission.id }, 'mission environment failed');
        return;
      }
    }
    await this.drive(person, deployed, request, this.untilRunning(deployed));
  }

  /** The mission's workspace: made now, or found (made by a deployment that was cut short). */
  private async environmentOf(person: Person, mission: MissionRow, request: DeployRequest) {
    const existing = await this.deps.workspaces
      .get(person.id, mission.workspaceName)
      .catch(() => null);
    if (existing) return existing;
    return this.deps.workspaces.create(person.id, {
      name: mission.workspaceName,
      template: mission.template,
      ...(request.resources ? { resources: request.resources } : {}),
    });
  }

  private async drive(
    person: Person,
    mission: MissionRow,
    request: DeployRequest,
    running: Promise<WorkspaceRow>,
  ): Promise<void> {
    try {
      const workspace = await running;
      const daemon = await this.deps.workspaces.connect(workspace);
      if (mission.status === 'ready') {
        // Resumed after the environment was ready: only the worker is left to start.
        const worker = await this.deps.workers.start(person, workspace, mission);
        await this.update(mission.id, { workerConversationId: worker.conversationId });
        return;
      }
      if (mission.desktop) {
        await this.update(mission.id, {
          status: 'starting',
          statusReason: 'waiting for the desktop',
        });
        await waitForDesktop(daemon);
      }
      await this.seed(mission, daemon, request);
      // Stopped while it got ready: leave it stopped.
      const [current] = await this.db.select().from(missions).where(eq(missions.id, mission.id));
      if (!current || current.status === 'stopped') return;
      await this.update(mission.id, {
        status: 'ready',
        statusReason: null,
        expiresAt: new Date(this.now().getTime() + mission.ttlMinutes * 60_000),
      });
      if (!request.startWorker) return;
      const worker = await this.deps.workers.start(person, workspace, mission);
      await this.update(mission.id, { workerConversationId: worker.conversationId });
    } catch (error) {
      const [current] = await this.db.select().from(missions).where(eq(missions.id, mission.id));
      if (!current || current.status === 'stopped') return;
      const message =
        error instanceof CodedError
          ? error.message
          : 'Deploying failed; the server log has details.';
      if (!(error instanceof CodedError))
        this.deps.logger.error({ err: error, mission: mission.id }, 'mission deployment failed');
      await this.update(mission.id, {
        status: current.status === 'ready' ? 'ready' : 'failed',
        statusReason:
          current.status === 'ready' ? `The worker could not start: ${message}` : message,
      }).catch(() => {});
    }
  }

  /** The files and repositories the job needs, in the home folder before the worker starts. */
  private async seed(
    mission: MissionRow,
    daemon: DaemonConnection,
    request: DeployRequest,
  ): Promise<void> {
    for (const file of request.files) {
      await this.update(mission.id, { statusReason: `writing ${file.path}` });
      await daemon.call('files.write', {
        path: file.path,
        content: file.content,
        createParents: true,
      });
    }
    for (const url of request.repositories) {
      // Cloned already by a deployment that was resumed: keep it.
      const folder = url
        .replace(/\/+$/, '')
        .split(/[/:]/)
        .at(-1)!
        .replace(/\.git$/, '');
      const there = await daemon.call('files.stat', { path: folder }).then(
        () => true,
        () => false,
      );
      if (there) continue;
      await this.update(mission.id, { statusReason: `cloning ${url}` });
      const result = await daemon.exec('git', ['clone', '--', url], {
        timeoutMs: 15 * 60_000,
        env: { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C.UTF-8' },
      });
      if (result.code !== 0)
        throw new AppError(
          'unavailable',
          `git clone ${url} failed: ${result.stderr.trim().slice(-300) || `exit ${result.code}`}`,
        );
    }
  }

  // --- rows ---

  private async row(userId: string, id: string) {
    const [row] = await this.db
      .select({ mission: missions, workspace: workspaces })
      .from(missions)
      .leftJoin(workspaces, eq(workspaces.id, missions.workspaceId))
      .where(and(eq(missions.id, id), eq(missions.userId, userId)));
    if (!row) throw new AppError('not_found', `There is no mission ${id}.`);
    return row;
  }

  private async update(id: string, values: Partial<typeof missions.$inferInsert>) {
    const [row] = await this.db.update(missions).set(values).where(eq(missions.id, id)).returning();
    if (!row) throw new AppError('not_found', 'The mission was removed.');
    return row;
  }

  /**
   * The mission as the API shows it. A ready mission whose environment stopped on its own (idle,
   * lifetime, a crash) shows as stopped, with the workspace's reason.
   */
  private async view(
    row: MissionRow,
    workspaceStatus: string | null,
    workspaceReason: string | null,
  ): Promise<Mission> {
    let status = row.status as MissionStatus;
    let reason = row.statusReason;
    if (status === 'ready' && workspaceStatus !== 'running') {
      status = 'stopped';
      reason =
        workspaceStatus === null
          ? 'Its environment was removed.'
          : (workspaceReason ?? `Its environment is ${workspaceStatus}.`);
    }
    const runId = row.workerConversationId
      ? await this.deps.workers.activeRun(row.workerConversationId)
      : null;
    const latest = row.workerConversationId
      ? await this.deps.workers.latestRun(row.workerConversationId)
      : null;
    // A worker whose model failed leaves a ready environment: the mission says so, and why.
    const worker = !latest
      ? null
      : latest.running
        ? { state: 'working' as const, reason: null }
        : {
            state:
              latest.endCode === 'done'
                ? ('done' as const)
                : latest.endCode === 'stopped'
                  ? ('stopped' as const)
                  : ('failed' as const),
            reason: latest.endCode === 'done' ? null : latest.message,
          };
    return {
      id: row.id,
      requirement: row.requirement,
      template: row.template,
      desktop: row.desktop,
      status,
      statusReason: reason,
      workspace: row.workspaceName,
      workerConversationId: row.workerConversationId,
      workerRunId: runId,
      worker,
      expiresAt: status === 'ready' && !row.keep ? (row.expiresAt?.toISOString() ?? null) : null,
      keep: row.keep,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    } satisfies Mission;
  }
}

/**
 * Waits until the desktop is usable: its VNC server answers with its RFB banner through the
 * daemon's tunnel (the person can watch), and the session has put a window on the screen that
 * takes the keyboard (the worker's first click has something to land on; a click before the
 * template's terminal appeared sent the first keys nowhere).
 */
async function waitForDesktop(daemon: DaemonConnection): Promise<void> {
  const deadline = Date.now() + DESKTOP_TIMEOUT_MS;
  const pause = () => new Promise((resolve) => setTimeout(resolve, 200));
  while (!(await answersRfb(daemon))) {
    if (Date.now() > deadline)
      throw new AppError(
        'unavailable',
        `The desktop did not start within ${DESKTOP_TIMEOUT_MS / 1000} s (nothing answered on its VNC port). The workspace's log (studio ws logs) says why.`,
      );
    await pause();
  }
  // A session that opens no window of its own is ready once the window manager has had time.
  const windowsBy = Math.min(deadline, Date.now() + SESSION_WINDOWS_MS);
  while (Date.now() < windowsBy) {
    const { windows } = await daemon
      .call('desktop.windows', {})
      .catch(() => ({ windows: [] as Array<{ type: string }> }));
    if (windows.some((window) => window.type === 'normal')) return;
    await pause();
  }
}

async function answersRfb(daemon: DaemonConnection): Promise<boolean> {
  let tunnel;
  try {
    tunnel = await daemon.open('tunnel.open', { port: VNC_PORT });
  } catch {
    return false;
  }
  const opened = tunnel;
  return new Promise((resolve) => {
    const finish = (answer: boolean) => {
      clearTimeout(timer);
      opened.cancel();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(false), 2000);
    opened.onData((payload) => finish(Buffer.from(payload).toString('latin1').startsWith('RFB ')));
    opened.onEnd(() => finish(false));
  });
}
