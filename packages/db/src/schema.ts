import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date()),
};

/** People who can sign in. The column set is what better-auth expects, plus `role` and `disabled`. */
export const users = pgTable('users', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  email: text('email').notNull().unique(),
  emailVerified: boolean('email_verified').notNull().default(false),
  image: text('image'),
  role: text('role', { enum: ['admin', 'member'] })
    .notNull()
    .default('member'),
  disabled: boolean('disabled').notNull().default(false),
  ...timestamps,
});

/** Browser sessions (better-auth); the cookie carries the signed `token`. */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    token: text('token').notNull().unique(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    ipAddress: text('ip_address'),
    userAgent: text('user_agent'),
    ...timestamps,
  },
  (table) => [index('sessions_user_id_idx').on(table.userId)],
);

/** Sign-in methods of a user: the password (provider `credential`) or an OAuth/OIDC identity. */
export const accounts = pgTable(
  'accounts',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    accountId: text('account_id').notNull(),
    providerId: text('provider_id').notNull(),
    accessToken: text('access_token'),
    refreshToken: text('refresh_token'),
    idToken: text('id_token'),
    accessTokenExpiresAt: timestamp('access_token_expires_at', { withTimezone: true }),
    refreshTokenExpiresAt: timestamp('refresh_token_expires_at', { withTimezone: true }),
    scope: text('scope'),
    password: text('password'),
    ...timestamps,
  },
  (table) => [index('accounts_user_id_idx').on(table.userId)],
);

/** Short-lived values better-auth needs (OAuth state, verification codes). */
export const verifications = pgTable(
  'verifications',
  {
    id: text('id').primaryKey(),
    identifier: text('identifier').notNull(),
    value: text('value').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    ...timestamps,
  },
  (table) => [index('verifications_identifier_idx').on(table.identifier)],
);

/** API tokens: only a SHA-256 of the secret is kept; the secret is shown once at creation. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    secretHash: text('secret_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    /** `full`, `read` (GET only), `workspace` (one workspace) or `metrics` (`/metrics` only). */
    scope: text('scope').notNull().default('full'),
    workspaceId: text('workspace_id').references(() => workspaces.id, { onDelete: 'cascade' }),
  },
  (table) => [
    uniqueIndex('api_tokens_secret_hash_idx').on(table.secretHash),
    index('api_tokens_user_id_idx').on(table.userId),
  ],
);

/** One-time links that let an invited user choose a password. */
export const invites = pgTable('invites', {
  id: text('id').primaryKey(),
  userId: text('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  secretHash: text('secret_hash').notNull().unique(),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
});

/** Who did what, when: sign-ins, admin actions, and later every agent tool call. Append-only. */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actorId: text('actor_id').references(() => users.id, { onDelete: 'set null' }),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    workspaceId: text('workspace_id'),
    outcome: text('outcome', { enum: ['success', 'failure', 'denied'] })
      .notNull()
      .default('success'),
    data: jsonb('data')
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
  },
  (table) => [
    index('audit_events_at_idx').on(table.at),
    index('audit_events_actor_idx').on(table.actorId, table.at),
    index('audit_events_action_idx').on(table.action, table.at),
  ],
);

/**
 * Workspace templates: an image plus resources, env, start commands and ports. Templates from
 * `images/templates/*.json` are synced at start (`source = 'file'`); admins add more via the API.
 */
export const templates = pgTable('templates', {
  name: text('name').primaryKey(),
  definition: jsonb('definition').$type<Record<string, unknown>>().notNull(),
  source: text('source', { enum: ['file', 'api'] }).notNull(),
  /** A team's template (made by an admin): only the team's people (and admins) see and use it. */
  teamId: text('team_id').references(() => teams.id, { onDelete: 'cascade' }),
  /** How many started workspaces an admin keeps waiting; null: the template's own `warmPool`. */
  warmPool: integer('warm_pool'),
  ...timestamps,
});

/**
 * The warm pool: started workspaces nobody owns yet, made from a template with a `warmPool`, one
 * of which a create claims instead of starting one (Docker). `recipe` is a hash of what it was
 * made from; one made from an older version of its template is never claimed, and is replaced.
 */
export const warmWorkspaces = pgTable(
  'warm_workspaces',
  {
    id: text('id').primaryKey(),
    templateName: text('template_name').notNull(),
    recipe: text('recipe').notNull(),
    status: text('status', { enum: ['warming', 'ready'] })
      .notNull()
      .default('warming'),
    ...timestamps,
  },
  (table) => [index('warm_workspaces_template_idx').on(table.templateName, table.status)],
);

/**
 * Workspaces. `desiredState` is what the owner asked for; `status` is what the driver last
 * reported. The template is copied at creation so a later template edit never changes a
 * running workspace under its owner.
 */
export const workspaces = pgTable(
  'workspaces',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    templateName: text('template_name').notNull(),
    template: jsonb('template').$type<Record<string, unknown>>().notNull(),
    driver: text('driver').notNull(),
    repoUrl: text('repo_url'),
    desiredState: text('desired_state', { enum: ['running', 'stopped', 'deleted'] })
      .notNull()
      .default('running'),
    status: text('status').notNull().default('creating'),
    statusReason: text('status_reason'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    lastActiveAt: timestamp('last_active_at', { withTimezone: true }).notNull().defaultNow(),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('workspaces_owner_name_idx').on(table.ownerId, table.name),
    index('workspaces_status_idx').on(table.status),
  ],
);

/** The roles a person can have on someone else's workspace, least first. */
export const WORKSPACE_MEMBER_ROLES = ['viewer', 'editor', 'admin'] as const;

/**
 * The people a workspace is shared with, besides its owner, and what each may do there
 * (`viewer`, `editor`, `admin`). Removing the workspace or the person removes the row.
 */
export const workspaceMembers = pgTable(
  'workspace_members',
  {
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: WORKSPACE_MEMBER_ROLES }).notNull(),
    addedBy: text('added_by').references(() => users.id, { onDelete: 'set null' }),
    ...timestamps,
  },
  (table) => [
    primaryKey({ columns: [table.workspaceId, table.userId] }),
    index('workspace_members_user_idx').on(table.userId),
  ],
);

/** Groups of people an admin makes, to share workspaces (and later templates, providers) with. */
export const teams = pgTable(
  'teams',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    ...timestamps,
  },
  (table) => [uniqueIndex('teams_name_idx').on(table.name)],
);

/** Who is in which team. */
export const teamMembers = pgTable(
  'team_members',
  {
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    ...timestamps,
  },
  (table) => [
    primaryKey({ columns: [table.teamId, table.userId] }),
    index('team_members_user_idx').on(table.userId),
  ],
);

/** A team's role on a workspace: each of its people has that role there (or a higher own one). */
export const workspaceTeams = pgTable(
  'workspace_teams',
  {
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    role: text('role', { enum: WORKSPACE_MEMBER_ROLES }).notNull(),
    addedBy: text('added_by').references(() => users.id, { onDelete: 'set null' }),
    ...timestamps,
  },
  (table) => [
    primaryKey({ columns: [table.workspaceId, table.teamId] }),
    index('workspace_teams_team_idx').on(table.teamId),
  ],
);

/**
 * Limits an admin sets on a person or a team (one of `userId`, `teamId`); a null limit is none.
 * A team's limits cap the sum over its people's workspaces and AI spend.
 */
export const quotas = pgTable(
  'quotas',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').references(() => users.id, { onDelete: 'cascade' }),
    teamId: text('team_id').references(() => teams.id, { onDelete: 'cascade' }),
    runningWorkspaces: integer('running_workspaces'),
    cpus: doublePrecision('cpus'),
    memoryMiB: integer('memory_mib'),
    diskMiB: integer('disk_mib'),
    aiUsdPerMonth: doublePrecision('ai_usd_per_month'),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('quotas_user_idx').on(table.userId),
    uniqueIndex('quotas_team_idx').on(table.teamId),
  ],
);

/**
 * What each person and team used, sampled every few minutes (one row per subject and time
 * bucket, whichever replica writes it first), for the admins' usage chart. Kept 30 days.
 */
export const usageSamples = pgTable(
  'usage_samples',
  {
    subjectKind: text('subject_kind', { enum: ['user', 'team'] }).notNull(),
    subjectId: text('subject_id').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    runningWorkspaces: integer('running_workspaces').notNull(),
    cpus: doublePrecision('cpus').notNull(),
    memoryMiB: integer('memory_mib').notNull(),
    diskMiB: integer('disk_mib').notNull(),
    aiUsd: doublePrecision('ai_usd').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.subjectKind, table.subjectId, table.at] }),
    index('usage_samples_at_idx').on(table.at),
  ],
);

/**
 * Links that open one port's preview without a role on the workspace: `public` (anyone with the
 * link) or `team` (anyone signed in here). Only a hash of the token is kept; a link ends when it
 * expires or is revoked.
 */
export const previewLinks = pgTable(
  'preview_links',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    port: integer('port').notNull(),
    audience: text('audience', { enum: ['team', 'public'] }).notNull(),
    tokenHash: text('token_hash').notNull(),
    createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('preview_links_token_idx').on(table.tokenHash),
    index('preview_links_workspace_idx').on(table.workspaceId),
  ],
);

/**
 * Who has a workspace open in the IDE right now, on any replica: a heartbeat of each person's open
 * file watch. A row older than a few heartbeats means they left.
 */
export const workspacePresence = pgTable(
  'workspace_presence',
  {
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    seenAt: timestamp('seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.workspaceId, table.userId] })],
);

/**
 * Tokens people keep for git hosts, one per user and host (`github.com`, `git.example.com:8443`).
 * `secret` is the token sealed with AES-256-GCM under a key derived from the server's secret;
 * the server hands it to git in the owner's workspace only when git asks for that host.
 */
export const gitCredentials = pgTable(
  'git_credentials',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    host: text('host').notNull(),
    username: text('username').notNull(),
    secret: text('secret').notNull(),
    ...timestamps,
  },
  (table) => [primaryKey({ columns: [table.userId, table.host] })],
);

/**
 * Model providers (OpenAI, Anthropic, Google, any OpenAI-compatible endpoint). `ownerId` null
 * means the whole organisation's (admins edit those). `secret` is the API key sealed like git
 * tokens; `keyHint` is its last four characters, so people can tell keys apart.
 */
export const aiProviders = pgTable(
  'ai_providers',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').references(() => users.id, { onDelete: 'cascade' }),
    /** A team's provider (made by an admin), usable by the team's people; with no owner. */
    teamId: text('team_id').references(() => teams.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    kind: text('kind', {
      enum: ['openai', 'anthropic', 'google', 'openai-compatible'],
    }).notNull(),
    baseUrl: text('base_url'),
    secret: text('secret'),
    keyHint: text('key_hint'),
    models: jsonb('models')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    ...timestamps,
  },
  (table) => [
    index('ai_providers_owner_idx').on(table.ownerId),
    index('ai_providers_team_idx').on(table.teamId),
  ],
);

/** Which provider and model serve a role (chat, agent, completion), per person or (`scope` '*') for everyone. */
export const aiModelRoles = pgTable(
  'ai_model_roles',
  {
    /** A user id, or '*' for the organisation's default. */
    scope: text('scope').notNull(),
    role: text('role', { enum: ['chat', 'agent', 'completion'] }).notNull(),
    providerId: text('provider_id')
      .notNull()
      .references(() => aiProviders.id, { onDelete: 'cascade' }),
    model: text('model').notNull(),
    ...timestamps,
  },
  (table) => [primaryKey({ columns: [table.scope, table.role] })],
);

/** Assistant conversations, per person and workspace. */
export const aiConversations = pgTable(
  'ai_conversations',
  {
    id: text('id').primaryKey(),
    /** Null for Mission Control's conversations with the main agent, which no workspace holds. */
    workspaceId: text('workspace_id').references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    ...timestamps,
  },
  (table) => [index('ai_conversations_workspace_idx').on(table.workspaceId, table.userId)],
);

/** The messages of a conversation: the person's, and the assistant's parts (text, tool calls, notices). */
export const aiMessages = pgTable(
  'ai_messages',
  {
    id: text('id').primaryKey(),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => aiConversations.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['user', 'assistant'] }).notNull(),
    mode: text('mode', { enum: ['chat', 'agent'] }).notNull(),
    parts: jsonb('parts').$type<unknown[]>().notNull(),
    context: jsonb('context')
      .$type<unknown[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('ai_messages_conversation_idx').on(table.conversationId, table.createdAt)],
);

/**
 * Agent runs, driven by one server at a time under a lease (`holder` until `leaseUntil`): when
 * the holder dies another takes the lease and resumes from `checkpoint`: how many of the run's
 * model messages (`ai_run_messages`) the model saw at the start of the last step, the usage so
 * far and the last event written before it.
 */
export const aiRuns = pgTable(
  'ai_runs',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    conversationId: text('conversation_id')
      .notNull()
      .references(() => aiConversations.id, { onDelete: 'cascade' }),
    /** Null for the main agent's runs. */
    workspaceId: text('workspace_id').references(() => workspaces.id, { onDelete: 'cascade' }),
    mode: text('mode', { enum: ['chat', 'agent'] }).notNull(),
    state: text('state', { enum: ['running', 'ended'] }).notNull(),
    holder: text('holder'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    paused: boolean('paused').notNull().default(false),
    stopRequested: boolean('stop_requested').notNull().default(false),
    /** What the run was started with: its brief, extra rules, the model's first messages. */
    start: jsonb('start').$type<Record<string, unknown>>().notNull(),
    checkpoint: jsonb('checkpoint').$type<Record<string, unknown>>(),
    endCode: text('end_code'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (table) => [
    // One running run per conversation, across every replica.
    uniqueIndex('ai_runs_one_running_idx')
      .on(table.conversationId)
      .where(sql`state = 'running'`),
    index('ai_runs_lease_idx').on(table.state, table.leaseUntil),
  ],
);

/** A run's events in order; followers read them by `seq` from any replica. */
export const aiRunEvents = pgTable(
  'ai_run_events',
  {
    runId: text('run_id')
      .notNull()
      .references(() => aiRuns.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    event: jsonb('event').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.runId, table.seq] })],
);

/**
 * The conversation as a run's model sees it, one message per row in order: each step's
 * checkpoint adds only the messages after the last, so a long run writes each message once.
 */
export const aiRunMessages = pgTable(
  'ai_run_messages',
  {
    runId: text('run_id')
      .notNull()
      .references(() => aiRuns.id, { onDelete: 'cascade' }),
    idx: integer('idx').notNull(),
    message: jsonb('message').$type<Record<string, unknown>>().notNull(),
  },
  (table) => [primaryKey({ columns: [table.runId, table.idx] })],
);

/** What people send a running run: messages for the model, and answers to approval cards. */
export const aiRunInputs = pgTable(
  'ai_run_inputs',
  {
    id: serial('id').primaryKey(),
    runId: text('run_id')
      .notNull()
      .references(() => aiRuns.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['note', 'answer'] }).notNull(),
    /** The approval card an answer is for. */
    callId: text('call_id'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    takenAt: timestamp('taken_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('ai_run_inputs_run_idx').on(table.runId, table.kind)],
);

/** A person's agent permission rules (allow / ask / deny per tool and pattern). */
export const aiPolicies = pgTable('ai_policies', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  rules: jsonb('rules').$type<unknown[]>().notNull(),
  ...timestamps,
});

/** Tokens and cost per person and calendar month (UTC), for the monthly budget. */
export const aiUsage = pgTable(
  'ai_usage',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** `2026-11` */
    month: text('month').notNull(),
    inputTokens: bigint('input_tokens', { mode: 'number' }).notNull().default(0),
    outputTokens: bigint('output_tokens', { mode: 'number' }).notNull().default(0),
    costUsd: doublePrecision('cost_usd').notNull().default(0),
    runs: bigint('runs', { mode: 'number' }).notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.userId, table.month] })],
);

/** A person's Model Context Protocol servers, offered to their agent runs as tools. */
export const aiMcpServers = pgTable(
  'ai_mcp_servers',
  {
    id: text('id').primaryKey(),
    /** One person's server; null for a team's. */
    ownerId: text('owner_id').references(() => users.id, { onDelete: 'cascade' }),
    /** A team's server (made by an admin), offered to the agent runs of the team's people. */
    teamId: text('team_id').references(() => teams.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    transport: text('transport', { enum: ['stdio', 'http'] }).notNull(),
    /** stdio: run inside the workspace through its daemon, never on the server host. */
    command: text('command'),
    args: jsonb('args')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    url: text('url'),
    /** http: the headers as sealed JSON (they often carry a token); their names stay readable. */
    headers: text('headers'),
    headerNames: jsonb('header_names')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    enabled: boolean('enabled').notNull().default(true),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('ai_mcp_servers_owner_name_idx').on(table.ownerId, table.name),
    uniqueIndex('ai_mcp_servers_team_name_idx').on(table.teamId, table.name),
    check('ai_mcp_servers_one_owner', sql`(${table.ownerId} is null) <> (${table.teamId} is null)`),
  ],
);

/**
 * A job handed to a worker agent in an environment deployed for it: the requirement, the
 * environment's workspace, how far its deployment got, and when it stops unless kept.
 */
export const missions = pgTable(
  'missions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Null once the workspace is deleted; the mission stays as a record. */
    workspaceId: text('workspace_id').references(() => workspaces.id, { onDelete: 'set null' }),
    workspaceName: text('workspace_name').notNull(),
    template: text('template').notNull(),
    desktop: boolean('desktop').notNull(),
    requirement: text('requirement').notNull(),
    /** The deploy request as given (files, repositories, resources), for seeding and for the record. */
    request: jsonb('request').$type<Record<string, unknown>>().notNull(),
    status: text('status', {
      enum: ['queued', 'building', 'starting', 'ready', 'failed', 'stopped'],
    }).notNull(),
    statusReason: text('status_reason'),
    workerConversationId: text('worker_conversation_id'),
    ttlMinutes: bigint('ttl_minutes', { mode: 'number' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    keep: boolean('keep').notNull().default(false),
    ...timestamps,
  },
  (table) => [
    index('missions_user_idx').on(table.userId, table.createdAt),
    index('missions_expiry_idx').on(table.status, table.expiresAt),
  ],
);

/**
 * Long work that must outlive the server doing it (workspace lifecycle steps, mission
 * deployments): claimed under a lease by one replica at a time, re-run by another when the lease
 * lapses. At most one job runs per subject (a workspace, a mission) across every replica.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    subject: text('subject').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    state: text('state', { enum: ['queued', 'running', 'done', 'failed'] }).notNull(),
    holder: text('holder'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    /** The latest step of a running job, for people watching it (an image build's line). */
    progress: text('progress'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('jobs_one_running_idx')
      .on(table.subject)
      .where(sql`state = 'running'`),
    index('jobs_state_idx').on(table.state, table.id),
    index('jobs_subject_idx').on(table.subject, table.state),
  ],
);

/**
 * Fixed-window counters of attempts (sign-ins, invites, agent runs), shared by every replica:
 * a limit per person or address holds however many servers answer.
 */
export const rateLimits = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  count: integer('count').notNull(),
  resetAt: timestamp('reset_at', { withTimezone: true }).notNull(),
});
