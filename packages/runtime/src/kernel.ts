// What every driver does the same way, written once: checking a workspace id, the status of a
// workspace the driver has no trace of, and waiting for a starting workspace's daemon to answer.
// Time comes from a `Clock`, so the wait is tested without waiting.
import { setTimeout as sleep } from 'node:timers/promises';
import { RuntimeError, type Isolation, type WorkspaceStatus } from './runtime.ts';

/** Time as a driver sees it; tests hand in one they move themselves. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

/** `bad_request` naming the rule, when `id` does not fit the driver's names. */
export function checkId(id: string, pattern: RegExp, rule: string): void {
  if (!pattern.test(id)) {
    throw new RuntimeError('bad_request', `Workspace id "${id}" must be ${rule}.`);
  }
}

export function notFound(id: string): RuntimeError {
  return new RuntimeError('not_found', `Workspace ${id} does not exist.`);
}

/** The status of a workspace the driver has nothing of (stopping or inspecting it is no error). */
export function missingStatus(id: string, isolation: Isolation): WorkspaceStatus {
  return { id, state: 'missing', isolation, startedAt: null, reason: null, labels: {} };
}

/** Codes that no amount of waiting changes: the wait ends with them at once. */
const FINAL = new Set(['protocol_mismatch', 'image_missing', 'not_found']);

export interface UntilDaemonOptions<T> {
  id: string;
  timeoutMs: number;
  clock?: Clock;
  /** The pause between tries; a function when it depends on how far the workspace got. */
  pollMs: number | (() => number);
  /**
   * Throws when the workspace can no longer come up (its process or container ended, its pod
   * failed); called before the first try and then at most once per `checkEveryMs`.
   */
  check?: () => Promise<void>;
  checkEveryMs?: number;
  /** One try: what answered, or null when nothing can be tried yet. A throw is kept as the reason. */
  attempt: () => Promise<T | null>;
  /** What the timeout adds after the reason: why it is still waiting, the last log lines. */
  explain?: () => Promise<string>;
}

/**
 * Try until the daemon answers, the workspace can no longer start (`check` throws), or the time
 * is up: then `timeout` on every driver, saying how long it waited and the last failure.
 */
export async function untilDaemon<T>(options: UntilDaemonOptions<T>): Promise<T> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  let checkedAt = -Infinity;
  let lastError: unknown;
  for (;;) {
    if (options.check && clock.now() - checkedAt >= (options.checkEveryMs ?? 0)) {
      checkedAt = clock.now();
      await options.check();
    }
    try {
      const answered = await options.attempt();
      if (answered !== null) return answered;
    } catch (error) {
      if (error instanceof RuntimeError && FINAL.has(error.code)) throw error;
      lastError = error;
    }
    if (clock.now() >= deadline) break;
    await clock.sleep(typeof options.pollMs === 'function' ? options.pollMs() : options.pollMs);
  }
  const reason =
    lastError === undefined
      ? 'it is not listening yet'
      : lastError instanceof Error
        ? lastError.message
        : String(lastError);
  const more = (await options.explain?.().catch(() => '')) ?? '';
  throw new RuntimeError(
    'timeout',
    `The daemon of workspace ${options.id} did not answer within ${Number((options.timeoutMs / 1000).toFixed(1))} s (${reason}).${more ? ` ${more}` : ''}`,
    undefined,
    lastError === undefined ? undefined : { cause: lastError },
  );
}
