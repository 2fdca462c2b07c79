import type { MissionStatus } from '@studio/protocol';

/** The steps of a deployment, in order; `failed` and `stopped` end it at any of them. */
export const MISSION_STEPS = ['queued', 'building', 'starting', 'ready'] as const;
export type MissionStep = (typeof MISSION_STEPS)[number];

/** How one step of the stepper shows. */
export type StepState = 'done' | 'current' | 'failed' | 'todo';

/** The step labels, in the person's words. */
export const STEP_LABELS: Record<MissionStep, string> = {
  queued: 'Queued',
  building: 'Building',
  starting: 'Starting',
  ready: 'Ready',
};

/** True for the statuses that are a step (not an end). */
export function isStep(status: MissionStatus): status is MissionStep {
  return (MISSION_STEPS as readonly string[]).includes(status);
}

/**
 * Each step's state. `reached` is the last step seen before a failure or a stop (the mission
 * itself does not say where it ended); `null` when the page never saw one.
 */
export function stepStates(
  status: MissionStatus,
  reached: MissionStep | null,
): { step: MissionStep; state: StepState }[] {
  const at = isStep(status) ? status : reached;
  const index = at === null ? -1 : MISSION_STEPS.indexOf(at);
  return MISSION_STEPS.map((step, i) => {
    let state: StepState = 'todo';
    if (i < index) state = 'done';
    else if (i === index) {
      if (status === 'failed') state = 'failed';
      else if (status === 'stopped' || step === 'ready') state = 'done';
      else state = 'current';
    }
    return { step, state };
  });
}

/** "1 h 05 min", "42 min", "4:05" (the last minutes to the second), or "any moment now". */
export function formatTimeLeft(ms: number): string {
  if (ms <= 0) return 'any moment now';
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 5 * 60) {
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  }
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

// The bounds of `updateMissionBodySchema.ttlMinutes`.
const MIN_TTL = 5;
const MAX_TTL = 7 * 24 * 60;

/** The `ttlMinutes` (counted from now) that adds `extra` minutes to what is left. */
export function extendedTtl(expiresAt: string | null, now: number, extra: number): number {
  const left = expiresAt === null ? 0 : Math.max(0, Date.parse(expiresAt) - now);
  const minutes = Math.ceil(left / 60_000) + extra;
  return Math.min(MAX_TTL, Math.max(MIN_TTL, minutes));
}

/** The first line of a requirement, for lists and titles. */
export function firstLine(text: string): string {
  return text.trim().split('\n', 1)[0] ?? '';
}
