import { z } from 'zod';
import { oneLine } from './text.ts';
import { ptyInfoSchema } from './daemon.ts';

/** Workspace names: what a person types in a URL and a shell (`/w/my-app`, `studio ws shell my-app`). */
export const workspaceNameSchema = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/,
    'must be 1–40 lowercase letters, digits or hyphens, starting and ending with a letter or digit',
  );

/**
 * Git URLs a workspace may clone: https, http, ssh, or scp-like `git@host:path`. Local paths,
 * `file://` and `ext::` transports run commands or read the server's disk, so they are refused.
 */
export const gitUrlSchema = z
  .string()
  .max(2048)
  .refine(
    (value) =>
      /^(https?|ssh):\/\/[^\s/]+\/\S+$/.test(value) ||
      /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/.test(value),
    'must be an https://, http://, ssh:// or git@host:path repository URL',
  );

/** Where a workspace is in its life, as the API shows it. */
export const WORKSPACE_STATUSES = [
  'creating',
  'starting',
  'running',
  'stopping',
  'stopped',
  'error',
  'deleting',
] as const;
/** Where a workspace is in its life. */
export type WorkspaceStatusName = (typeof WORKSPACE_STATUSES)[number];

/** A workspace as the API shows it. */
/** What a person may do on a workspace: each role can do what the ones before it can. */
export const WORKSPACE_ROLES = ['viewer', 'editor', 'admin', 'owner'] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];

/** "a viewer", "an editor": a role as a sentence names it. */
export function aRole(role: WorkspaceRole): string {
  return `${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role}`;
}

/** Whether `role` may do what needs `needed` (each role can do what the ones before it can). */
export function roleAllows(role: WorkspaceRole, needed: WorkspaceRole): boolean {
  return WORKSPACE_ROLES.indexOf(role) >= WORKSPACE_ROLES.indexOf(needed);
}

/** One person who can reach a workspace, and their role (the owner is listed first). */
export const workspaceMemberSchema = z.object({
  userId: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(WORKSPACE_ROLES),
});
export type WorkspaceMember = z.infer<typeof workspaceMemberSchema>;

/** `PUT /api/workspaces/:name/members/:email`: the role to give (an owner's cannot change). */
export const workspaceMemberBodySchema = z.strictObject({
  role: z.enum(['viewer', 'editor', 'admin']),
});

/** A team: a name and its people. */
export const teamSchema = z.object({
  id: z.string(),
  name: z.string(),
  members: z.array(z.object({ userId: z.string(), email: z.string(), name: z.string() })),
});
export type Team = z.infer<typeof teamSchema>;

/** `POST /api/admin/teams`. */
export const createTeamBodySchema = z.strictObject({
  name: oneLine(1, 64).refine((name) => !name.includes('@'), 'must not contain @ (emails do)'),
});

/** A team's role on a workspace. */
export const workspaceTeamSchema = z.object({
  teamId: z.string(),
  name: z.string(),
  role: z.enum(['viewer', 'editor', 'admin']),
});
export type WorkspaceTeam = z.infer<typeof workspaceTeamSchema>;

export const workspaceSchema = z.object({
  id: z.string(),
  name: z.string(),
  ownerId: z.string(),
  /** The caller's role on it: `owner` for their own. */
  role: z.enum(WORKSPACE_ROLES),
  /** The owner's email, on a workspace shared with the caller. */
  ownerEmail: z.string().optional(),
  template: z.string(),
  /** Its template runs a desktop (Xvfb and VNC): the IDE shows the desktop viewer. */
  desktop: z.boolean(),
  status: z.enum(WORKSPACE_STATUSES),
  /** Why it stopped or failed, in words a person can act on. */
  statusReason: z.string().nullable(),
  driver: z.string(),
  /**
   * `none` means processes run unsandboxed on the server's machine (local driver without
   * bubblewrap); `sandboxed-kernel`, under gVisor's kernel rather than the host's.
   */
  isolation: z.enum(['container', 'sandboxed-kernel', 'bwrap', 'none']),
  repoUrl: z.string().nullable(),
  /** It runs its repository's dev container: the config's path and the extensions it recommends. */
  devcontainer: z.object({ config: z.string(), extensions: z.array(z.string()) }).optional(),
  /** Its template serves VS Code (code-server) on this port: the IDE opens it as a preview. */
  vscode: z.object({ port: z.number() }).optional(),
  /** Ports its template or dev container names (`forwardPorts`), listening or not yet. */
  ports: z
    .array(z.object({ port: z.number(), name: z.string(), label: z.string().optional() }))
    .optional(),
  resources: z.object({
    cpus: z.number(),
    memoryMiB: z.number(),
    pids: z.number(),
    diskMiB: z.number().optional(),
  }),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  lastActiveAt: z.string(),
});
/** A workspace as the API shows it. */
export type Workspace = z.infer<typeof workspaceSchema>;

/** Resources a person may pick at creation instead of the template's; the server caps them. */
export const workspaceResourcesBodySchema = z.strictObject({
  cpus: z.number().min(0.25).max(64).optional(),
  memoryMiB: z.number().int().min(256).max(262_144).optional(),
  diskMiB: z.number().int().min(1024).max(4_194_304).optional(),
});

/** `POST /api/workspaces`. */
export const createWorkspaceBodySchema = z.strictObject({
  name: workspaceNameSchema,
  template: z.string().min(1).max(64).default('base'),
  repoUrl: gitUrlSchema.optional(),
  resources: workspaceResourcesBodySchema.optional(),
});
/** Body of `POST /api/workspaces`. */
export type CreateWorkspaceBody = z.input<typeof createWorkspaceBodySchema>;

/** `GET /api/workspaces/:name/stats`. */
export const workspaceStatsSchema = z.object({
  cpuPercent: z.number(),
  memoryBytes: z.number(),
  memoryLimitBytes: z.number().nullable(),
  pids: z.number(),
});
/** Resource use of a running workspace. */
export type WorkspaceStatsBody = z.infer<typeof workspaceStatsSchema>;

/** `POST /api/workspaces/:name/terminals`: open a shell in a PTY. */
export const createTerminalBodySchema = z.strictObject({
  cols: z.number().int().min(1).max(1000).default(80),
  rows: z.number().int().min(1).max(1000).default(24),
  cwd: z.string().max(4096).optional(),
  title: oneLine(1, 200).optional(),
});
/** `PATCH /api/workspaces/:name/terminals/:id`: rename a terminal. */
export const renameTerminalBodySchema = z.strictObject({
  title: oneLine(1, 200),
});

/** Body of `POST /api/workspaces/:name/terminals`. */
export type CreateTerminalBody = z.input<typeof createTerminalBodySchema>;

/** A terminal (a daemon PTY) as the API shows it. */
export const terminalSchema = ptyInfoSchema;
/** A terminal. */
export type Terminal = z.infer<typeof terminalSchema>;

/**
 * Control messages on a terminal WebSocket (`/api/workspaces/:name/terminals/:id/attach`).
 * Binary frames are raw terminal bytes in both directions; text frames are these.
 */
export const terminalClientMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('resize'),
    cols: z.number().int().min(1).max(1000),
    rows: z.number().int().min(1).max(1000),
  }),
]);
/** A control message from a terminal client. */
export type TerminalClientMessage = z.infer<typeof terminalClientMessageSchema>;

/** Text frames the server sends on a terminal WebSocket. */
export const terminalServerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('exit'), code: z.number().nullable(), signal: z.string().nullable() }),
  /** The program in the terminal's foreground, as its tab shows it ("bash", then "python3"). */
  z.object({ type: z.literal('process'), name: z.string() }),
  /** Someone else with the terminal open typed into it: "typing: Ada". */
  z.object({ type: z.literal('typing'), name: z.string() }),
]);
/** A control message from the server on a terminal WebSocket. */
export type TerminalServerMessage = z.infer<typeof terminalServerMessageSchema>;

/** `POST /api/workspaces/:name/exec`: run a command; the response streams NDJSON `ExecEvent`s. */
export const execBodySchema = z.strictObject({
  command: z.string().min(1).max(4096),
  args: z.array(z.string().max(131_072)).max(4096).default([]),
  cwd: z.string().max(4096).optional(),
  env: z.record(z.string(), z.string()).default({}),
  timeoutMs: z
    .number()
    .int()
    .positive()
    .max(24 * 3600_000)
    .optional(),
  stdin: z
    .string()
    .max(1024 * 1024)
    .optional(),
});
/** Body of `POST /api/workspaces/:name/exec`. */
export type ExecBody = z.input<typeof execBodySchema>;

/** One line of an exec response stream. */
export const execEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stdout'), data: z.string() }),
  z.object({ type: z.literal('stderr'), data: z.string() }),
  z.object({
    type: z.literal('exit'),
    code: z.number().nullable(),
    signal: z.string().nullable(),
    timedOut: z.boolean(),
    truncated: z.boolean(),
  }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
/** One line of an exec response stream. */
export type ExecEvent = z.infer<typeof execEventSchema>;
