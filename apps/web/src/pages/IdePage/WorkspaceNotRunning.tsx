import type { Workspace } from '@studio/protocol';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { startWorkspace, workspaceRef } from '../../api/workspaces.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { clearWorkspaceProgress } from '../../modules/workspaces/workspace-events.ts';
import { WorkspaceProgressLog } from '../../modules/workspaces/WorkspaceProgressLog.tsx';
import { isTransitioning } from '../../modules/workspaces/WorkspaceStatusBadge.tsx';

/** In place of the IDE while the workspace is not running: why, a Start button, and progress. */
export function WorkspaceNotRunning({ workspace }: { workspace: Workspace }) {
  const queryClient = useQueryClient();
  const start = useMutation({
    mutationFn: () => startWorkspace(workspaceRef(workspace)),
    onMutate: () => clearWorkspaceProgress(queryClient, workspace.name),
  });
  const busy = isTransitioning(workspace.status) || start.isPending;
  const title = busy
    ? `Starting ${workspace.name}…`
    : workspace.status === 'error'
      ? `${workspace.name} failed`
      : `${workspace.name} is stopped`;

  return (
    <div className="flex h-full items-center justify-center bg-canvas px-6">
      <div className="w-full max-w-md space-y-4 rounded-xl border border-line bg-surface p-6 shadow-sm">
        <div className="space-y-1">
          <h2 className="text-lg font-semibold text-fg">{title}</h2>
          <p className="text-sm text-muted">
            {busy
              ? 'The editor and terminals open as soon as the workspace runs.'
              : 'Start the workspace to edit its files and open terminals.'}
          </p>
        </div>
        {workspace.status === 'error' && workspace.statusReason ? (
          <Alert tone="error">{workspace.statusReason}</Alert>
        ) : null}
        {start.isError ? <Alert tone="error">{start.error.message}</Alert> : null}
        {busy ? <WorkspaceProgressLog name={workspace.name} active /> : null}
        {workspace.status === 'stopped' || workspace.status === 'error' ? (
          <Button variant="primary" pending={start.isPending} onClick={() => start.mutate()}>
            Start workspace
          </Button>
        ) : null}
      </div>
    </div>
  );
}
