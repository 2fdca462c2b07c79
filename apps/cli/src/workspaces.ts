import { createInterface } from 'node:readline/promises';
import type { CreateWorkspaceBody, Workspace } from '@studio/protocol';
import { ApiClient, type CallOptions } from './api-client.ts';
import { connect, withLoginHint, type OutputFlags } from './connection.ts';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';
import { LiveEvents } from './live-events.ts';
import { resolveTail, type Connection, type TailFlags } from './options.ts';
import { formatJson, formatTable, formatTime } from './output.ts';
import type { WaitGoal } from './workspace-wait.ts';

/**
 * The protocol's schemas: most of a workspace command's code (zod), so loaded only when needed —
 * by a command that changes a workspace, once the server has answered, while it does the work.
 */
const protocol = () => import('@studio/protocol');

/** Flags of workspace commands that change a workspace and can wait for it. */
export interface WaitFlags extends OutputFlags {
  /** False with `--no-wait`. */
  wait?: boolean;
}

/** Flags of `studio ws create`. */
export interface CreateFlags extends WaitFlags {
  template?: string;
  repo?: string;
}

/** Flags of `studio ws rm`. */
export interface RemoveFlags extends WaitFlags {
  yes?: boolean;
}

/** Flags of `studio ws logs`. */
export interface LogsFlags extends OutputFlags, TailFlags {}

/** A connection plus a client for it: what every workspace command starts from. */
export interface Session {
  connection: Connection;
  api: ApiClient;
  auth: { bearer: string };
}

/** Resolves the server and token from flags, environment and the credentials file. */
export async function openSession(flags: OutputFlags, ctx: CliContext): Promise<Session> {
  const connection = await connect(flags, ctx);
  return {
    connection,
    api: new ApiClient(connection.url),
    auth: { bearer: connection.token },
  };
}

/** The API path of a workspace (names are validated by the server; encode anyway). */
export function workspacePath(name: string, rest = ''): string {
  return `/api/workspaces/${encodeURIComponent(name)}${rest}`;
}

/** `studio ws create NAME`: create a workspace and, unless --no-wait, wait until it runs. */
export async function createWorkspace(
  name: string,
  flags: CreateFlags,
  ctx: CliContext,
): Promise<void> {
  const session = await openSession(flags, ctx);
  const body: CreateWorkspaceBody = {
    name,
    ...(flags.template ? { template: flags.template } : {}),
    ...(flags.repo ? { repoUrl: flags.repo } : {}),
  };
  await change(session, flags, ctx, { status: 'running' }, async () => {
    const workspace = await requestWorkspace(session.api, '/api/workspaces', {
      method: 'POST',
      auth: session.auth,
      body,
    });
    if (!flags.json) await printQuotaLeft(session, ctx);
    return workspace;
  });
}

/** Sends a request the server answers with a workspace; reads the answer once the schemas load. */
async function requestWorkspace(
  api: ApiClient,
  path: string,
  options: CallOptions,
): Promise<Workspace> {
  const response = await api.send(path, options);
  const { workspaceSchema } = await protocol();
  return api.read(path, workspaceSchema, response);
}

/** "Your quota leaves …" on stderr, when the person has limits. */
async function printQuotaLeft(session: Session, ctx: CliContext): Promise<void> {
  const { describeQuotaLeft, myQuotaSchema } = await protocol();
  const quota = await session.api.call('/api/me/quota', myQuotaSchema, { auth: session.auth });
  const left = describeQuotaLeft(quota.left);
  if (left) ctx.stderr.write(`Your quota leaves ${left}.\n`);
}

/** `studio ws start|stop|restart NAME`: ask for the change and, unless --no-wait, wait for it. */
export async function changeWorkspace(
  action: 'start' | 'stop' | 'restart',
  name: string,
  flags: WaitFlags,
  ctx: CliContext,
): Promise<void> {
  const session = await openSession(flags, ctx);
  const goal: WaitGoal =
    action === 'stop' ? { status: 'stopped' } : { status: 'running', fresh: action === 'restart' };
  await change(session, flags, ctx, goal, () =>
    requestWorkspace(session.api, workspacePath(name, `/${action}`), {
      method: 'POST',
      auth: session.auth,
    }),
  );
}

/** `studio ws ls`: the caller's workspaces. */
export async function listWorkspaces(flags: OutputFlags, ctx: CliContext): Promise<void> {
  const { connection, api, auth } = await openSession(flags, ctx);
  const { workspaceSchema } = await protocol();
  const workspaces = await withLoginHint(connection, () =>
    api.call('/api/workspaces', workspaceSchema.array(), { auth }),
  );
  if (flags.json) {
    ctx.stdout.write(formatJson(workspaces));
    return;
  }
  if (workspaces.length === 0) {
    ctx.stderr.write('No workspaces yet; create one with `studio ws create NAME`.\n');
    return;
  }
  const withReason = workspaces.some((workspace) => workspace.statusReason);
  // Workspaces shared with you are named by their id in commands (names are unique per owner).
  const withShared = workspaces.some((workspace) => workspace.role !== 'owner');
  const header = [
    'NAME',
    'STATUS',
    'TEMPLATE',
    'ISOLATION',
    'CREATED',
    ...(withShared ? ['ROLE', 'OWNER', 'REF'] : []),
  ];
  const rows = workspaces.map((workspace) => {
    const row = [
      workspace.name,
      workspace.status,
      workspace.template,
      workspace.isolation,
      formatTime(workspace.createdAt),
      ...(withShared
        ? workspace.role === 'owner'
          ? ['owner', 'you', workspace.name]
          : [workspace.role, workspace.ownerEmail ?? '', workspace.id]
        : []),
    ];
    // Reasons can quote a log over several lines; a table row must stay one line.
    return withReason ? [...row, (workspace.statusReason ?? '').replace(/\s+/g, ' ')] : row;
  });
  ctx.stdout.write(formatTable(withReason ? [...header, 'REASON'] : header, rows));
}

/** `studio ws rm NAME`: delete a workspace and its files, after confirming. */
export async function removeWorkspace(
  name: string,
  flags: RemoveFlags,
  ctx: CliContext,
): Promise<number> {
  const session = await openSession(flags, ctx);
  const { connection, api, auth } = session;
  const { workspaceSchema } = await protocol();
  // Look it up first: an unknown name is reported before asking anything.
  const workspace = await withLoginHint(connection, () =>
    api.call(workspacePath(name), workspaceSchema, { auth }),
  );
  if (!flags.yes) {
    if (!ctx.stdin.isTTY) {
      throw new CliError(
        'not_confirmed',
        `refusing to delete workspace ${name} without --yes: standard input is not a terminal, so there is no one to ask`,
      );
    }
    if (!(await confirm(ctx, `Delete workspace ${name} and all its files? [y/N] `))) {
      ctx.stderr.write('Not deleted.\n');
      return 1;
    }
  }
  await change(session, flags, ctx, { status: 'deleted' }, async () => {
    await api.send(workspacePath(name), { method: 'DELETE', auth });
    return workspace;
  });
  return 0;
}

/** `studio ws logs NAME`: the workspace's own log (start commands, daemon). */
export async function workspaceLogs(name: string, flags: LogsFlags, ctx: CliContext) {
  const tail = resolveTail(flags);
  const { connection, api, auth } = await openSession(flags, ctx);
  const query = tail === undefined ? '' : `?tail=${tail}`;
  const { logs } = await withLoginHint(connection, () =>
    api.call(workspacePath(name, `/logs${query}`), logsSchema, { auth }),
  );
  if (flags.json) {
    ctx.stdout.write(formatJson({ logs }));
    return;
  }
  ctx.stdout.write(logs && !logs.endsWith('\n') ? `${logs}\n` : logs);
}

/**
 * Sends the request that changes a workspace and waits for the goal (unless --no-wait), with the
 * live event stream opened first so the earliest progress steps are not missed.
 */
async function change(
  { connection, api, auth }: Session,
  flags: WaitFlags,
  ctx: CliContext,
  goal: WaitGoal,
  request: () => Promise<Workspace>,
): Promise<void> {
  const wait = flags.wait !== false;
  const events = wait ? await LiveEvents.connect(api, auth.bearer) : null;
  try {
    const initial = await withLoginHint(connection, request);
    const { waitForWorkspace } = await import('./workspace-wait.ts');
    const final = wait
      ? await waitForWorkspace({
          api,
          token: auth.bearer,
          events,
          initial,
          goal,
          progress: (line) => ctx.stderr.write(`${line}\n`),
        })
      : initial;
    if (goal.status === 'deleted') {
      ctx.stdout.write(
        wait ? `Workspace ${initial.name} deleted.\n` : `Deleting workspace ${initial.name}.\n`,
      );
      return;
    }
    if (!final) return;
    if (flags.json) ctx.stdout.write(formatJson(final));
    else ctx.stdout.write(`Workspace ${final.name} is ${final.status}.\n`);
    if (final.isolation === 'none' && final.status === 'running') {
      ctx.stderr.write(
        `warning: ${final.name} runs unsandboxed on the server's machine (no bubblewrap or container engine there)\n`,
      );
    }
  } finally {
    events?.close();
  }
}

/** Asks a yes/no question on the terminal; anything but y/yes is no. */
async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.stdin, output: ctx.stderr });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

// `GET /api/workspaces/:name/logs` has no schema of its own in the protocol.
const logsSchema = {
  parse(value: unknown): { logs: string } {
    const logs = (value as { logs?: unknown } | null)?.logs;
    if (typeof logs !== 'string') throw new TypeError('logs: expected a string');
    return { logs };
  },
};
