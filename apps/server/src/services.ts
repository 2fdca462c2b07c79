// The composition root's other half: every service of the server, built once, in one place, and
// handed to the routes (which never construct stores) — with their background work started and
// stopped in the order it needs.
import { randomBytes, randomUUID } from 'node:crypto';
import type { DatabaseHandle } from '@studio/db';
import type { WorkspaceRuntime } from '@studio/runtime';
import type { FastifyBaseLogger } from 'fastify';
import { AssistantService, titleFrom } from './ai/assistant.ts';
import { ConversationStore } from './ai/conversation-store.ts';
import { McpServerStore } from './ai/mcp-store.ts';
import { McpToolSource } from './ai/mcp-tools.ts';
import { PolicyStore } from './ai/policy-store.ts';
import { AiProviderStore } from './ai/provider-store.ts';
import { RunService } from './ai/runs.ts';
import { UsageLedger } from './ai/usage.ts';
import { AuditLog } from './audit-log.ts';
import { createAuth, type Auth } from './auth/auth.ts';
import { Authenticator } from './auth/authenticator.ts';
import { PrincipalCache } from './auth/principal-cache.ts';
import { RateLimiter } from './auth/rate-limiter.ts';
import { TokenService, type ResolvedToken } from './auth/tokens.ts';
import { UserService } from './auth/user-service.ts';
import type { Config } from './config.ts';
import { GitCredentialBroker } from './git/credential-broker.ts';
import { GitCredentialStore } from './git/credential-store.ts';
import { createMetrics, type Metrics } from './http/metrics.ts';
import { SocketRegistry } from './http/sockets.ts';
import { JobQueue } from './jobs/job-queue.ts';
import { BackupSchedule } from './backup/schedule.ts';
import { mainAgent, workerBrief } from './missions/main-agent.ts';
import { MissionService } from './missions/mission-service.ts';
import { TemplateStore } from './workspaces/templates.ts';
import { WorkspaceMembers } from './workspaces/members.ts';
import { PreviewLinks } from './previews/links.ts';
import { Quotas } from './workspaces/quotas.ts';
import { Teams } from './workspaces/teams.ts';
import { WorkspaceService, type ImageBuilder } from './workspaces/workspace-service.ts';
import { ImagePrebuilds } from './workspaces/image-prebuilds.ts';
import { WarmPool } from './workspaces/warm-pool.ts';

/** Everything the routes share; built once per app. */
export interface Services {
  config: Config;
  database: DatabaseHandle;
  auth: Auth;
  users: UserService;
  tokens: TokenService;
  /** Resolved API tokens, forgotten on every replica when they or their person change. */
  principals: PrincipalCache<ResolvedToken>;
  authenticator: Authenticator;
  sockets: SocketRegistry;
  audit: AuditLog;
  metrics: Metrics;
  limits: { ip: RateLimiter; account: RateLimiter };
  templates: TemplateStore;
  workspaces: WorkspaceService;
  /** Who a workspace is shared with, and the one place a caller's role on it is resolved. */
  members: WorkspaceMembers;
  /** Groups of people, given roles on workspaces as one. */
  teams: Teams;
  quotas: Quotas;
  previewLinks: PreviewLinks;
  /** Long work in the database, claimed under leases (lifecycle steps, deployments). */
  jobs: JobQueue;
  backups: BackupSchedule;
  /** Agent runs, in the database; this server drives some of them. */
  runs: RunService;
  providers: AiProviderStore;
  conversations: ConversationStore;
  policies: PolicyStore;
  mcpServers: McpServerStore;
  assistant: AssistantService;
  missions: MissionService;
  gitCredentials: GitCredentialStore;
  gitBroker: GitCredentialBroker;
  images: ImageBuilder | undefined;
  /** Outdated images built again in the background (Docker); their states for Admin → Templates. */
  prebuilds: ImagePrebuilds | undefined;
  /** The one-time token in the first-run setup link. */
  setupToken: string;
}

/**
 * How long a resolved API token is trusted without asking the database. Revocations reach every
 * replica through the bus within milliseconds; this only bounds a row changed behind our back.
 */
const PRINCIPAL_TTL_MS = 30_000;

/** What the services are built from. */
export interface ServiceDeps {
  config: Config;
  database: DatabaseHandle;
  logger: FastifyBaseLogger;
  now: () => Date;
  runtime: WorkspaceRuntime;
  images?: ImageBuilder | undefined;
  /** Folder of template files to sync at start (`images/templates`). */
  templatesDir?: string | undefined;
  /** How long a replica's hold on a run or a job lasts unrenewed. */
  leaseMs: number;
}

/** Builds every service; nothing runs in the background until `startServices`. */
export async function buildServices(deps: ServiceDeps): Promise<Services> {
  const { config, database, logger, now, leaseMs } = deps;
  const { db, bus } = database;
  const metrics = createMetrics();
  const auth = createAuth(db, config);
  const principals = new PrincipalCache<ResolvedToken>(bus, {
    ttlMs: PRINCIPAL_TTL_MS,
    maxEntries: 10_000,
  });
  const users = new UserService(db, auth, (userId) => principals.forget({ userId }), now);
  const tokens = new TokenService(db, principals, now);
  const templates = new TemplateStore(db);
  if (deps.templatesDir) await templates.syncFiles(deps.templatesDir);
  // This server among the replicas sharing the database: it holds leases under this name.
  const replicaId = randomUUID();
  const jobs = new JobQueue({ db, bus, logger, replicaId, leaseMs });
  const runs = new RunService({ db, bus, logger, replicaId, leaseMs });
  const audit = new AuditLog(db, (error) => logger.error({ err: error }, 'audit write failed'));
  const quotas = new Quotas(db, logger, now);
  // Warm workspaces ahead of creates, where a create can take one over (Docker).
  const pool =
    deps.runtime.kind === 'docker'
      ? new WarmPool({ db, runtime: deps.runtime, templates, images: deps.images, logger })
      : undefined;
  const prebuilds = deps.images
    ? new ImagePrebuilds({ db, jobs, images: deps.images, templates, logger })
    : undefined;
  const workspaces = new WorkspaceService({
    jobs,
    quotas,
    pool,
    db,
    runtime: deps.runtime,
    templates,
    images: deps.images,
    logger,
    now,
    bus,
  });
  const providers = new AiProviderStore(db, config.secret);
  const conversations = new ConversationStore(db);
  const policies = new PolicyStore(db);
  const mcpServers = new McpServerStore(db, config.secret);
  // The assistant starts workers for missions, and the main agent deploys missions: each is
  // handed the other through a late binding, built in this one place.
  let assistant: AssistantService | null = null;
  const missions = new MissionService({
    db,
    workspaces,
    templates,
    audit,
    logger,
    allowAddresses: config.ai.fetchAllow,
    jobs,
    users,
    workers: {
      async start(owner, workspace, mission) {
        const conversation = await conversations.create(
          owner.id,
          workspace.id,
          titleFrom(mission.requirement),
        );
        await assistant!.send(
          owner,
          workspace,
          conversation,
          { text: mission.requirement, mode: 'agent', context: [] },
          {
            brief: workerBrief(mission.desktop),
            // The person approved a deployment whose card said so: the desktop is the worker's.
            rules: mission.desktop
              ? [{ tool: 'computer', decision: 'allow', workspace: workspace.name }]
              : [],
          },
        );
        return { conversationId: conversation.id };
      },
      activeRun: async (conversationId) =>
        (await runs.activeIn([conversationId])).get(conversationId) ?? null,
      latestRun: (conversationId) => runs.latestIn(conversationId),
      stop: (conversationId) => runs.stopIn(conversationId),
    },
  });
  assistant = new AssistantService({
    db,
    providers,
    conversations,
    policies,
    usage: new UsageLedger(db, now),
    quotas,
    runs,
    users,
    workspaces,
    audit,
    config,
    logger,
    extraTools: new McpToolSource(mcpServers, logger),
    mainAgent: mainAgent(missions, templates),
  });
  const gitCredentials = new GitCredentialStore(db, config.secret);
  const gitBroker = new GitCredentialBroker(gitCredentials, logger);
  // Every daemon connection serves credentials: git in terminals and in the clone at creation too.
  workspaces.onConnect((row, daemon) => gitBroker.attach(row.ownerId, row.id, daemon));
  return {
    config,
    database,
    auth,
    users,
    tokens,
    principals,
    authenticator: new Authenticator(auth, tokens),
    sockets: new SocketRegistry((count) => metrics.openWebSockets.set(count)),
    audit,
    metrics,
    // Per IP: generous enough for a shared office NAT; per account: slows password guessing to a crawl.
    limits: {
      ip: new RateLimiter(db, 'ip', 30, 5 * 60_000),
      account: new RateLimiter(db, 'account', 10, 15 * 60_000),
    },
    setupToken: randomBytes(24).toString('base64url'),
    templates,
    workspaces,
    members: new WorkspaceMembers(db),
    teams: new Teams(db),
    quotas,
    previewLinks: new PreviewLinks(db, now),
    jobs,
    backups: new BackupSchedule({ config, db, jobs, workspaces, audit, logger }),
    runs,
    providers,
    conversations,
    policies,
    mcpServers,
    assistant,
    missions,
    gitCredentials,
    gitBroker,
    images: deps.images,
    prebuilds,
  };
}

/** Starts the background work that the server's readiness waits on (runs, missions). */
export async function startServices(services: Services): Promise<void> {
  await services.principals.start();
  await services.runs.startBackground((row) => services.assistant.takeOver(row));
  await services.missions.startBackground(services.config.missionSweepMs);
  services.quotas.startSampling();
  services.backups.start();
  if (services.config.workspaces.rebuildOutdatedImages) services.prebuilds?.start();
}

/**
 * First thing on shutdown, before workspace connections close under running tools: runs are not
 * ended, their leases lapse at once and a server that is up resumes them.
 */
export async function releaseRuns(services: Services): Promise<void> {
  await services.runs.close();
}

/** Last on shutdown: background work, then jobs (given a while to finish), then connections. */
export async function stopServices(services: Services): Promise<void> {
  services.sockets.closeAll();
  services.quotas.stopSampling();
  services.backups.stop();
  await services.missions.close();
  await services.jobs.close();
  await services.workspaces.close();
  await services.principals.close();
}
