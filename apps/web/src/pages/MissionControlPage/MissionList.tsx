import type { Mission, MissionStatus } from '@studio/protocol';
import { useState } from 'react';
import { Link } from 'react-router';
import { isDeploying } from '../../api/missions.ts';
import { formatDateTime, formatRelative } from '../../components/format-date.ts';
import { ChevronDownIcon } from '../../components/icons.tsx';
import { useNow } from '../../components/use-now.ts';
import { firstLine } from './mission-status.ts';

const DOT: Record<MissionStatus, string> = {
  queued: 'bg-warning animate-pulse',
  building: 'bg-warning animate-pulse',
  starting: 'bg-warning animate-pulse',
  ready: 'bg-success',
  failed: 'bg-danger',
  stopped: 'bg-muted',
};

/** A mission's status as a coloured dot, named for screen readers. */
export function MissionDot({ status }: { status: MissionStatus }) {
  return (
    <span
      role="img"
      aria-label={status}
      className={`inline-block size-2 shrink-0 rounded-full ${DOT[status]}`}
    />
  );
}

/** The person's missions, newest first, under a header that folds them away. */
export function MissionList({
  missions,
  selected,
}: {
  missions: Mission[];
  selected: string | null;
}) {
  const [open, setOpen] = useState(true);
  const now = useNow();
  const deploying = missions.filter((mission) => isDeploying(mission.status)).length;

  return (
    <div className="shrink-0 border-b border-line">
      <button
        type="button"
        aria-expanded={open}
        onClick={() => setOpen((value) => !value)}
        className="flex h-9 w-full items-center gap-1.5 bg-subtle/60 px-3 text-left text-[13px] font-medium text-fg hover:bg-line/60"
      >
        <span>Missions</span>
        <span className="text-muted">
          {missions.length}
          {deploying > 0 ? ` · ${deploying} deploying` : ''}
        </span>
        <ChevronDownIcon
          className={`ml-auto size-3.5 shrink-0 text-muted ${open ? 'rotate-180' : ''}`}
        />
      </button>
      {open ? (
        missions.length === 0 ? (
          <p className="px-3 py-2 text-[12px] text-muted">
            None yet: tell the main agent what you need.
          </p>
        ) : (
          <ul aria-label="Missions" className="max-h-56 divide-y divide-line overflow-auto">
            {missions.map((mission) => (
              <li key={mission.id}>
                <Link
                  to={`/missions/${encodeURIComponent(mission.id)}`}
                  aria-current={mission.id === selected ? 'page' : undefined}
                  className="flex items-center gap-2 px-3 py-1.5 hover:bg-subtle aria-[current=page]:bg-accent-soft/60"
                >
                  <MissionDot status={mission.status} />
                  <span className="min-w-0 flex-1 truncate text-[13px] text-fg">
                    {firstLine(mission.requirement)}
                  </span>
                  <time
                    dateTime={mission.createdAt}
                    title={formatDateTime(mission.createdAt)}
                    className="shrink-0 text-[11px] text-muted"
                  >
                    {formatRelative(mission.createdAt, now)}
                  </time>
                </Link>
              </li>
            ))}
          </ul>
        )
      ) : null}
    </div>
  );
}
