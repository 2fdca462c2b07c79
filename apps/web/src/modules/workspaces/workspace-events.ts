import type { ServerEvent, Workspace } from '@studio/protocol';
import type { QueryClient } from '@tanstack/react-query';
import { queryKeys } from '../../api/query-keys.ts';
import type { WorkspaceProgressStep } from '../../api/workspaces.ts';

// A build can print hundreds of lines; the dialog only needs the recent ones.
const MAX_PROGRESS_STEPS = 200;

function byName(a: Workspace, b: Workspace): number {
  return a.name.localeCompare(b.name);
}

/** Put a workspace into the cached list (or take it out once it is being deleted). */
export function upsertWorkspace(queryClient: QueryClient, workspace: Workspace): void {
  queryClient.setQueryData<Workspace[]>(queryKeys.workspaces(), (list) => {
    if (!list) return list;
    const others = list.filter((item) => item.id !== workspace.id);
    // The API leaves deleting workspaces out of the list; so do we.
    if (workspace.status === 'deleting') return others;
    return [...others, workspace].sort(byName);
  });
}

/**
 * Add a workspace an HTTP answer returned, unless events already brought it: events are newer
 * than the answer, which can arrive after them.
 */
export function addWorkspaceIfMissing(queryClient: QueryClient, workspace: Workspace): void {
  queryClient.setQueryData<Workspace[]>(queryKeys.workspaces(), (list) =>
    !list || list.some((item) => item.id === workspace.id)
      ? list
      : [...list, workspace].sort(byName),
  );
}

/** Take a workspace out of the cached list. */
export function removeWorkspace(queryClient: QueryClient, id: string): void {
  queryClient.setQueryData<Workspace[]>(queryKeys.workspaces(), (list) =>
    list?.filter((item) => item.id !== id),
  );
}

/** Forget the progress heard for a workspace name, before a new create or start. */
export function clearWorkspaceProgress(queryClient: QueryClient, name: string): void {
  queryClient.setQueryData<WorkspaceProgressStep[]>(queryKeys.workspaceProgress(name), []);
}

/** Keep the workspace list and progress logs in the query cache in step with `/api/events`. */
export function applyWorkspaceEvent(queryClient: QueryClient, event: ServerEvent): void {
  switch (event.type) {
    case 'hello':
      // A new connection: whatever changed while the socket was down was never heard; ask again.
      void queryClient.invalidateQueries({ queryKey: queryKeys.workspaces() });
      return;
    case 'workspace':
      upsertWorkspace(queryClient, event.workspace);
      break;
    case 'workspace.deleted':
      removeWorkspace(queryClient, event.id);
      queryClient.removeQueries({ queryKey: queryKeys.workspaceProgress(event.name) });
      break;
    case 'workspace.progress': {
      const step: WorkspaceProgressStep = { step: event.step, detail: event.detail };
      queryClient.setQueryData<WorkspaceProgressStep[]>(
        queryKeys.workspaceProgress(event.name),
        (steps = []) => [...steps, step].slice(-MAX_PROGRESS_STEPS),
      );
      return;
    }
    default:
      return;
  }
  // A list fetch already on its way may have been read before this change and would undo it when
  // it lands; replace it with one that starts now.
  if (queryClient.isFetching({ queryKey: queryKeys.workspaces() }) > 0) {
    void queryClient.invalidateQueries({ queryKey: queryKeys.workspaces() });
  }
}
