import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { workspaceProgressQueryOptions, type WorkspaceProgressStep } from '../../api/workspaces.ts';
import { CheckIcon } from '../../components/icons.tsx';
import { Spinner } from '../../components/Spinner.tsx';

/** "building" → "Building". */
export function stepLabel(step: string): string {
  return step.charAt(0).toUpperCase() + step.slice(1);
}

/** The latest step heard for a workspace, as one short line; `null` before the first one. */
export function useLatestProgress(name: string): WorkspaceProgressStep | null {
  const { data } = useQuery(workspaceProgressQueryOptions(name));
  return data?.at(-1) ?? null;
}

/** Every step the server reported while creating or starting `name`, newest last. */
export function WorkspaceProgressLog({ name, active }: { name: string; active: boolean }) {
  const { data: steps = [] } = useQuery(workspaceProgressQueryOptions(name));
  const listRef = useRef<HTMLOListElement>(null);

  // Follow the newest step, as a terminal would.
  useEffect(() => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [steps.length]);

  return (
    <ol
      ref={listRef}
      role="log"
      aria-label={`Progress of ${name}`}
      className="max-h-56 space-y-1.5 overflow-y-auto rounded-md border border-line bg-subtle px-3 py-2.5 text-[13px]"
    >
      {steps.map((entry, index) => {
        const current = active && index === steps.length - 1;
        return (
          // Steps only ever append, so the position is a stable key.
          <li key={index} className="flex items-start gap-2">
            {current ? (
              <Spinner className="mt-0.5 size-3.5 shrink-0 text-accent" />
            ) : (
              <CheckIcon className="mt-0.5 size-3.5 shrink-0 text-success" />
            )}
            <span className="min-w-0">
              <span className="font-medium text-fg">{stepLabel(entry.step)}</span>
              {entry.detail ? (
                <span className="ml-1.5 break-words text-muted">{entry.detail}</span>
              ) : null}
            </span>
          </li>
        );
      })}
      {steps.length === 0 && active ? (
        <li className="flex items-center gap-2 text-muted">
          <Spinner className="size-3.5 shrink-0" />
          Waiting for the server…
        </li>
      ) : null}
    </ol>
  );
}
