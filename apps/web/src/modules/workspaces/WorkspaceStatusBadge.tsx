import type { WorkspaceStatusName } from '@studio/protocol';
import { Badge, type BadgeTone } from '../../components/Badge.tsx';
import { Spinner } from '../../components/Spinner.tsx';

const STATUS: Record<WorkspaceStatusName, { label: string; tone: BadgeTone; busy: boolean }> = {
  creating: { label: 'Creating', tone: 'accent', busy: true },
  starting: { label: 'Starting', tone: 'accent', busy: true },
  running: { label: 'Running', tone: 'success', busy: false },
  stopping: { label: 'Stopping', tone: 'warning', busy: true },
  stopped: { label: 'Stopped', tone: 'neutral', busy: false },
  error: { label: 'Error', tone: 'danger', busy: false },
  deleting: { label: 'Deleting', tone: 'neutral', busy: true },
};

/** True while the workspace is on its way from one state to another. */
export function isTransitioning(status: WorkspaceStatusName): boolean {
  return STATUS[status].busy;
}

/** A workspace's status as a coloured label; a spinner while it changes. */
export function WorkspaceStatusBadge({ status }: { status: WorkspaceStatusName }) {
  const { label, tone, busy } = STATUS[status];
  return (
    <Badge tone={tone}>
      {busy ? <Spinner className="mr-1 size-3" /> : null}
      {label}
    </Badge>
  );
}
