import type { MissionStatus } from '@studio/protocol';
import { useState } from 'react';
import { AlertIcon, CheckIcon } from '../../components/icons.tsx';
import { Spinner } from '../../components/Spinner.tsx';
import { isStep, STEP_LABELS, stepStates, type MissionStep } from './mission-status.ts';

const STATE_CLASSES = {
  done: 'border-success/40 bg-success-soft text-success',
  current: 'border-accent/50 bg-accent-soft text-accent',
  failed: 'border-danger/40 bg-danger-soft text-danger',
  todo: 'border-line text-muted',
} as const;

/**
 * Queued → building → starting → ready, the current step spinning. Mount it once per mission:
 * it remembers the last step it saw, to show where a failure or a stop happened.
 */
export function MissionSteps({ status }: { status: MissionStatus }) {
  const [reached, setReached] = useState<MissionStep | null>(isStep(status) ? status : null);
  if (isStep(status) && status !== reached) setReached(status);

  return (
    <ol
      data-testid="mission-status"
      data-status={status}
      aria-label="Deployment"
      className="flex flex-wrap items-center gap-1.5"
    >
      {stepStates(status, reached).map(({ step, state }, index) => (
        <li key={step} className="flex items-center gap-1.5">
          {index > 0 ? (
            <span
              aria-hidden="true"
              className={`h-px w-4 ${state === 'todo' ? 'bg-line' : 'bg-line-strong'}`}
            />
          ) : null}
          <span
            aria-current={state === 'current' ? 'step' : undefined}
            className={`inline-flex h-6 items-center gap-1 rounded-full border px-2 text-[12px] font-medium ${STATE_CLASSES[state]}`}
          >
            {state === 'current' ? <Spinner className="size-3" /> : null}
            {state === 'done' ? <CheckIcon className="size-3" /> : null}
            {state === 'failed' ? <AlertIcon className="size-3" /> : null}
            {STEP_LABELS[step]}
            {state === 'failed' ? <span className="sr-only"> (failed)</span> : null}
          </span>
        </li>
      ))}
    </ol>
  );
}
