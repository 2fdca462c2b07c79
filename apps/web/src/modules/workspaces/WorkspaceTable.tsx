import { roleAllows as mayDo, type Workspace } from '@studio/protocol';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { Link } from 'react-router';
import { downloadUrl, importArchive } from '../../api/files.ts';
import { terminalsQueryOptions } from '../../api/terminals.ts';
import {
  deleteWorkspace,
  startWorkspace,
  stopWorkspace,
  workspaceRef,
} from '../../api/workspaces.ts';
import { Button, buttonClasses } from '../../components/Button.tsx';
import { ConfirmDialog, ConfirmRemoval } from '../../components/ConfirmDialog.tsx';
import { draftPaths } from '../ide/editor/drafts.ts';
import { formatDate, formatDateTime, formatRelative } from '../../components/format-date.ts';
import { useToast } from '../../components/Toaster.tsx';
import { useNow } from '../../components/use-now.ts';
import { TableHead } from '../../components/TableHead.tsx';
import { clearWorkspaceProgress, removeWorkspace } from './workspace-events.ts';
import { stepLabel, useLatestProgress } from './WorkspaceProgressLog.tsx';
import { WorkspaceStatusBadge } from './WorkspaceStatusBadge.tsx';
import { WorkspaceUsage } from './WorkspaceUsage.tsx';

/** Under the badge: why it failed or stopped, or what it is doing right now. */
function StatusNote({ workspace }: { workspace: Workspace }) {
  const latest = useLatestProgress(workspace.name);
  if (workspace.status === 'error') {
    return (
      <p className="mt-1 max-w-xs text-[13px] break-words text-danger">
        {workspace.statusReason ?? 'Something went wrong; the server log has the details.'}
      </p>
    );
  }
  if (workspace.status === 'stopped' && workspace.statusReason) {
    return <p className="mt-1 max-w-xs text-[13px] text-muted">{workspace.statusReason}</p>;
  }
  if ((workspace.status === 'creating' || workspace.status === 'starting') && latest) {
    return (
      <p className="mt-1 max-w-xs truncate text-[13px] text-muted">
        {stepLabel(latest.step)}
        {latest.detail ? ` — ${latest.detail}` : ''}
      </p>
    );
  }
  return null;
}

/**
 * Workspaces with status and start, stop and delete, as far as the signed-in person's role on
 * each allows (one shared with them says by whom, and their role).
 */
export function WorkspaceTable({
  workspaces,
  caption = 'Your workspaces',
}: {
  workspaces: Workspace[];
  caption?: string;
}) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const now = useNow();
  const [deleting, setDeleting] = useState<Workspace | null>(null);
  /** A stop that would end terminals or leave unsaved edits behind, until the person confirms. */
  const [stopping, setStopping] = useState<{
    workspace: Workspace;
    drafts: string[];
    terminals: number;
  } | null>(null);

  const start = useMutation({
    mutationFn: (workspace: Workspace) => startWorkspace(workspaceRef(workspace)),
    // The log under the badge should show this start, not an earlier one.
    onMutate: (workspace) => clearWorkspaceProgress(queryClient, workspace.name),
    onError: (error, workspace) =>
      toast(`Could not start ${workspace.name}: ${error.message}`, 'error'),
  });

  const stop = useMutation({
    mutationFn: (workspace: Workspace) => stopWorkspace(workspaceRef(workspace)),
    onError: (error, workspace) =>
      toast(`Could not stop ${workspace.name}: ${error.message}`, 'error'),
  });

  /** Stop at once, or first ask when terminals would end or edits are unsaved. */
  const askStop = async (workspace: Workspace) => {
    const drafts = draftPaths(workspaceRef(workspace));
    const terminals = await queryClient
      .fetchQuery({ ...terminalsQueryOptions(workspaceRef(workspace)), staleTime: 0 })
      .then((list) => list.filter((terminal) => terminal.exited === null).length)
      .catch(() => 0);
    if (drafts.length === 0 && terminals === 0) stop.mutate(workspace);
    else setStopping({ workspace, drafts, terminals });
  };

  const remove = useMutation({
    mutationFn: (workspace: Workspace) => deleteWorkspace(workspaceRef(workspace)),
    onSuccess: (_, workspace) => {
      setDeleting(null);
      removeWorkspace(queryClient, workspace.id);
      toast(`Deleting workspace ${workspace.name}.`);
    },
  });

  const busy = (
    mutation: { isPending: boolean; variables: Workspace | undefined },
    workspace: Workspace,
  ) => mutation.isPending && mutation.variables?.id === workspace.id;

  return (
    <>
      <div className="overflow-x-auto rounded-lg border border-line bg-surface shadow-xs">
        <table className="w-full text-left text-sm">
          <caption className="sr-only">{caption}</caption>
          <TableHead columns={['Name', 'Template', 'Status', 'Usage', 'Created', 'Last active']} />
          <tbody className="divide-y divide-line">
            {workspaces.map((workspace) => {
              const { name, status, role } = workspace;
              const ref = workspaceRef(workspace);
              return (
                <tr key={workspace.id} className="align-top">
                  <td className="px-5 py-3">
                    <p className="font-medium text-fg">{name}</p>
                    {role !== 'owner' ? (
                      <p className="mt-0.5 text-[12px] text-muted">
                        {workspace.ownerEmail ?? 'Shared'} ·{' '}
                        <span className="font-medium">{role}</span>
                      </p>
                    ) : null}
                    {workspace.repoUrl ? (
                      <p
                        className="mt-0.5 max-w-56 truncate font-mono text-[12px] text-muted"
                        title={workspace.repoUrl}
                      >
                        {workspace.repoUrl}
                      </p>
                    ) : null}
                  </td>
                  <td className="px-5 py-3 text-muted">
                    {workspace.template}
                    {workspace.isolation === 'sandboxed-kernel' ? (
                      <span
                        className="block text-[12px]"
                        title="Runs under gVisor: its programs never talk to this machine's kernel directly"
                      >
                        sandboxed kernel
                      </span>
                    ) : null}
                  </td>
                  <td className="px-5 py-3">
                    <WorkspaceStatusBadge status={status} />
                    <StatusNote workspace={workspace} />
                  </td>
                  <td className="px-5 py-3">
                    {status === 'running' ? (
                      <WorkspaceUsage name={ref} cpus={workspace.resources.cpus} />
                    ) : (
                      <span className="text-[12px] text-muted">
                        {workspace.resources.cpus} CPU · {workspace.resources.memoryMiB} MiB
                      </span>
                    )}
                  </td>
                  <td className="px-5 py-3 text-muted" title={formatDateTime(workspace.createdAt)}>
                    {formatDate(workspace.createdAt)}
                  </td>
                  <td
                    className="px-5 py-3 text-muted"
                    title={formatDateTime(workspace.lastActiveAt)}
                  >
                    {formatRelative(workspace.lastActiveAt, now)}
                  </td>
                  <td className="px-5 py-2.5">
                    <div className="flex justify-end gap-2">
                      {(status === 'stopped' || status === 'error') && mayDo(role, 'editor') ? (
                        <Button
                          size="sm"
                          aria-label={`Start ${name}`}
                          pending={busy(start, workspace)}
                          onClick={() => start.mutate(workspace)}
                        >
                          Start
                        </Button>
                      ) : null}
                      {status === 'running' ? (
                        <Link
                          to={`/w/${encodeURIComponent(ref)}`}
                          aria-label={`Open ${name}`}
                          className={buttonClasses('primary', 'sm')}
                        >
                          Open
                        </Link>
                      ) : null}
                      {status === 'running' && mayDo(role, 'editor') ? (
                        <Button
                          size="sm"
                          aria-label={`Stop ${name}`}
                          pending={busy(stop, workspace)}
                          onClick={() => void askStop(workspace)}
                        >
                          Stop
                        </Button>
                      ) : null}
                      {status === 'running' ? (
                        <a
                          href={downloadUrl(ref, '.')}
                          download={`${name}.tar`}
                          aria-label={`Export the files of ${name}`}
                          title="Download every file of the workspace as a .tar"
                          className={buttonClasses('secondary', 'sm')}
                        >
                          Export
                        </a>
                      ) : null}
                      {status === 'running' && mayDo(role, 'editor') ? (
                        <ImportButton workspace={ref} name={name} />
                      ) : null}
                      {mayDo(role, 'admin') ? (
                        <Button
                          size="sm"
                          variant="danger"
                          aria-label={`Delete ${name}`}
                          onClick={() => setDeleting(workspace)}
                        >
                          Delete
                        </Button>
                      ) : null}
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      <ConfirmDialog
        open={stopping !== null}
        title={`Stop ${stopping?.workspace.name ?? ''}?`}
        description={stopping ? stopWarning(stopping.drafts, stopping.terminals) : ''}
        confirmLabel="Stop"
        onConfirm={() => {
          if (stopping) stop.mutate(stopping.workspace);
          setStopping(null);
        }}
        onClose={() => setStopping(null)}
      />
      <ConfirmRemoval
        item={deleting}
        mutation={remove}
        title={(workspace) => `Delete workspace ${workspace.name} and all its files?`}
        description="Its files, running processes and terminals are removed for good. This cannot be undone."
        confirmLabel="Delete"
        onClose={() => setDeleting(null)}
      />
    </>
  );
}

/** What a stop ends and what it keeps, in a sentence or two. */
function stopWarning(drafts: string[], terminals: number): string {
  const parts: string[] = [];
  if (terminals > 0)
    parts.push(
      `${terminals === 1 ? '1 terminal is' : `${terminals} terminals are`} open; ${terminals === 1 ? 'its programs end' : 'their programs end'}.`,
    );
  if (drafts.length > 0) {
    const named = drafts.length <= 3 ? `: ${drafts.join(', ')}` : '';
    parts.push(
      `${drafts.length === 1 ? '1 file has' : `${drafts.length} files have`} unsaved changes${named}. They stay in this browser and can be saved once it runs again.`,
    );
  }
  return parts.join(' ');
}

/** Unpacks a .tar (an export of this or another workspace) into the workspace's home. */
function ImportButton({ workspace, name }: { workspace: string; name: string }) {
  const input = useRef<HTMLInputElement>(null);
  const toast = useToast();
  const upload = useMutation({
    mutationFn: (file: File) => importArchive(workspace, '.', file),
    onSuccess: (_, file) => toast(`Unpacked ${file.name} into ${name}.`),
    onError: (error) => toast(`Could not import into ${name}: ${error.message}`),
  });
  return (
    <>
      <Button
        size="sm"
        aria-label={`Import files into ${name}`}
        title="Unpack a .tar (an export) into the workspace; files with the same names are replaced"
        pending={upload.isPending}
        onClick={() => input.current?.click()}
      >
        Import
      </Button>
      <input
        ref={input}
        type="file"
        accept=".tar,application/x-tar"
        hidden
        aria-label={`Archive to import into ${name}`}
        onChange={(event) => {
          const file = event.target.files?.[0];
          event.target.value = '';
          if (file) upload.mutate(file);
        }}
      />
    </>
  );
}
