import type { AdminWorkspace } from '@studio/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import {
  adminWorkspacesQueryOptions,
  deleteAnyWorkspace,
  stopAnyWorkspace,
} from '../../api/admin-users.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button } from '../../components/Button.tsx';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { formatDate, formatDateTime } from '../../components/format-date.ts';
import { Loading } from '../../components/Spinner.tsx';
import { TableHead } from '../../components/TableHead.tsx';
import { useToast } from '../../components/Toaster.tsx';
import { WorkspaceStatusBadge } from '../../modules/workspaces/WorkspaceStatusBadge.tsx';

type Action = { kind: 'stop' | 'delete'; workspace: AdminWorkspace };

/** Every workspace on the server with its owner; an admin can stop or delete any (audited). */
export function AllWorkspacesTable() {
  const queryClient = useQueryClient();
  const toast = useToast();
  const workspaces = useQuery({ ...adminWorkspacesQueryOptions(), refetchInterval: 5_000 });
  const [action, setAction] = useState<Action | null>(null);
  const act = useMutation({
    mutationFn: ({ kind, workspace }: Action) =>
      kind === 'stop' ? stopAnyWorkspace(workspace.id) : deleteAnyWorkspace(workspace.id),
    onSuccess: (_, { kind, workspace }) => {
      setAction(null);
      toast(
        kind === 'stop'
          ? `Stopping ${workspace.owner.name}’s workspace ${workspace.name}.`
          : `Deleting ${workspace.owner.name}’s workspace ${workspace.name}.`,
      );
      void queryClient.invalidateQueries({ queryKey: queryKeys.adminWorkspaces() });
    },
  });

  if (workspaces.isPending) return <Loading label="Loading workspaces…" />;
  if (workspaces.isError) return <Alert tone="error">{workspaces.error.message}</Alert>;
  if (workspaces.data.length === 0)
    return (
      <p className="rounded-md border border-dashed border-line-strong px-4 py-6 text-center text-sm text-muted">
        Nobody has a workspace yet.
      </p>
    );
  return (
    <>
      <div className="overflow-x-auto rounded-lg border border-line bg-surface shadow-xs">
        <table className="w-full text-left text-sm">
          <caption className="sr-only">Every workspace on this server</caption>
          <TableHead columns={['Workspace', 'Owner', 'Status', 'Created']} />
          <tbody className="divide-y divide-line">
            {workspaces.data.map((workspace) => (
              <tr key={workspace.id}>
                <td className="px-5 py-3">
                  <div className="font-medium text-fg">{workspace.name}</div>
                  <div className="text-[13px] text-muted">{workspace.template}</div>
                </td>
                <td className="px-5 py-3">
                  <div className="text-fg">{workspace.owner.name}</div>
                  <div className="text-[13px] text-muted">{workspace.owner.email}</div>
                </td>
                <td className="px-5 py-3">
                  <WorkspaceStatusBadge status={workspace.status} />
                </td>
                <td className="px-5 py-3 text-muted" title={formatDateTime(workspace.createdAt)}>
                  {formatDate(workspace.createdAt)}
                </td>
                <td className="space-x-2 px-5 py-3 text-right whitespace-nowrap">
                  <Button
                    size="sm"
                    disabled={workspace.status !== 'running'}
                    onClick={() => setAction({ kind: 'stop', workspace })}
                  >
                    Stop
                  </Button>
                  <Button
                    size="sm"
                    variant="danger"
                    onClick={() => setAction({ kind: 'delete', workspace })}
                  >
                    Delete
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ConfirmDialog
        open={action !== null}
        destructive
        title={
          action?.kind === 'delete'
            ? `Delete ${action.workspace.owner.name}’s workspace ${action.workspace.name}?`
            : `Stop ${action?.workspace.owner.name ?? ''}’s workspace ${action?.workspace.name ?? ''}?`
        }
        description={
          action?.kind === 'delete'
            ? 'Its files are deleted with it and cannot be brought back. The audit log records that you did it.'
            : 'Its terminals and programs end; its files stay. The audit log records that you did it.'
        }
        confirmLabel={action?.kind === 'delete' ? 'Delete workspace' : 'Stop workspace'}
        pending={act.isPending}
        error={act.error?.message ?? null}
        onConfirm={() => {
          if (action) act.mutate(action);
        }}
        onClose={() => {
          setAction(null);
          act.reset();
        }}
      />
    </>
  );
}
