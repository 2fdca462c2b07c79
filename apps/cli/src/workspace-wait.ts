import { serverEventSchema, workspaceSchema, type Workspace } from '@studio/protocol';
import type { ApiClient } from './api-client.ts';
import { ApiError, CliError } from './errors.ts';
import type { LiveEvents } from './live-events.ts';

/** What a command waits for after asking the server to change a workspace. */
export type WaitGoal =
  /** `fresh`: the status must be reached again after a change (restart: running → … → running). */
  { status: 'running' | 'stopped'; fresh?: boolean } | { status: 'deleted' };

/** Everything a wait needs; `events` is null when the live stream could not be opened. */
export interface WaitOptions {
  api: ApiClient;
  token: string;
  events: LiveEvents | null;
  /** The workspace as the server answered the request that started the change. */
  initial: Workspace;
  goal: WaitGoal;
  /** Where progress lines go (stderr): stdout stays for the result. */
  progress: (line: string) => void;
  pollMs?: number;
  timeoutMs?: number;
}

// The live stream is the fast path; polling once a second is the fallback when it is missing or drops.
const POLL_MS = 1_000;
// Creating may build an image first; beyond this something is stuck and a script should hear about it.
const WAIT_TIMEOUT_MS = 30 * 60_000;

/**
 * Waits until the workspace reaches the goal, printing its progress steps and status changes.
 * Resolves to the final workspace (null once deleted); a workspace that ends in `error` rejects
 * with its statusReason.
 */
export function waitForWorkspace(options: WaitOptions): Promise<Workspace | null> {
  const { api, token, events, initial, goal, progress } = options;
  const path = `/api/workspaces/${encodeURIComponent(initial.name)}`;
  let lastStatus = initial.status;
  let changed = false;
  progress(describeStatus(initial));

  return new Promise<Workspace | null>((resolve, reject) => {
    let done = false;
    let pollTimer: NodeJS.Timeout | undefined;
    let unsubscribe = () => {};
    const finish = (error: Error | null, value: Workspace | null = null) => {
      if (done) return;
      done = true;
      clearTimeout(pollTimer);
      clearTimeout(deadline);
      unsubscribe();
      if (error) reject(error);
      else resolve(value);
    };

    const observe = (workspace: Workspace) => {
      if (done) return;
      if (
        workspace.status !== initial.status ||
        workspace.startedAt !== initial.startedAt ||
        workspace.statusReason !== initial.statusReason
      ) {
        changed = true;
      }
      if (workspace.status !== lastStatus) {
        lastStatus = workspace.status;
        progress(describeStatus(workspace));
      }
      if (goal.status !== 'deleted' && workspace.status === goal.status) {
        if (!goal.fresh || changed) finish(null, workspace);
        return;
      }
      // An `error` the workspace was already in before this command is not this command's failure.
      if (workspace.status === 'error' && (changed || initial.status !== 'error')) {
        const reason = workspace.statusReason ?? 'no reason given; see `studio ws logs`';
        finish(new CliError('workspace_failed', `workspace ${workspace.name} failed: ${reason}`));
      }
    };

    const gone = (from: 'event' | 'poll', notFound?: ApiError) => {
      if (done) return;
      if (goal.status === 'deleted') {
        // While the row is being deleted the API already answers 404; only the `workspace.deleted`
        // event says the files are gone, so a 404 counts only when there is no live stream.
        if (from === 'event' || !events?.live) {
          progress(`${initial.name}: deleted`);
          finish(null);
        }
        return;
      }
      finish(
        notFound ??
          new CliError('workspace_failed', `workspace ${initial.name} was deleted meanwhile`),
      );
    };

    const onEvent = (raw: unknown) => {
      const parsed = serverEventSchema.safeParse(raw);
      // Event types newer than this CLI are skipped rather than fatal.
      if (!parsed.success) return;
      const event = parsed.data;
      if (event.type === 'workspace' && event.workspace.id === initial.id) {
        observe(event.workspace);
      } else if (event.type === 'workspace.progress' && event.id === initial.id) {
        progress(`${event.name}: ${event.step}${event.detail ? ` (${event.detail})` : ''}`);
      } else if (event.type === 'workspace.deleted' && event.id === initial.id) {
        gone('event');
      }
    };

    const poll = async () => {
      try {
        observe(await api.call(path, workspaceSchema, { auth: { bearer: token } }));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) gone('poll', error);
        else finish(error instanceof Error ? error : new Error(String(error)));
      }
      if (!done) pollTimer = setTimeout(() => void poll(), options.pollMs ?? POLL_MS);
    };

    const timeoutMs = options.timeoutMs ?? WAIT_TIMEOUT_MS;
    const deadline = setTimeout(() => {
      finish(
        new CliError(
          'wait_timeout',
          `gave up waiting after ${Math.round(timeoutMs / 60_000)} minutes; workspace ${initial.name} is ${lastStatus}`,
        ),
      );
    }, timeoutMs);

    // The initial state first: kept events that follow it must not be shown out of order.
    observe(initial);
    if (done) return;
    if (events) unsubscribe = events.subscribe(onEvent);
    if (!done) void poll();
  });
}

/** `demo: running`, with the reason when there is one. */
function describeStatus(workspace: Workspace): string {
  const reason = workspace.statusReason ? ` (${workspace.statusReason})` : '';
  return `${workspace.name}: ${workspace.status}${reason}`;
}
