import {
  listedTemplateSchema,
  workspaceSchema,
  workspaceStatsSchema,
  type CreateWorkspaceBody,
  type Workspace,
} from '@studio/protocol';
import { queryOptions, skipToken } from '@tanstack/react-query';
import { requestJson, requestVoid } from './http.ts';
import { queryKeys } from './query-keys.ts';

const runtimeSchema = workspaceSchema.pick({ driver: true, isolation: true });
const templateListSchema = listedTemplateSchema.array();
const workspaceListSchema = workspaceSchema.array();

/**
 * How the API and the IDE's URL name a workspace: its owner by its name, anyone it is shared with
 * by its id (names are unique per owner only).
 */
export function workspaceRef(workspace: Pick<Workspace, 'role' | 'name' | 'id'>): string {
  return workspace.role === 'owner' ? workspace.name : workspace.id;
}

/** How this server runs workspaces. */
export type RuntimeInfo = Pick<Workspace, 'driver' | 'isolation'>;

/** One step a workspace reported while being created or started (from `/api/events`). */
export interface WorkspaceProgressStep {
  step: string;
  detail?: string;
}

/** `GET /api/runtime`: the driver, and whether workspaces are sandboxed. */
export function runtimeQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.runtime(),
    queryFn: (): Promise<RuntimeInfo> => requestJson('GET', '/api/runtime', runtimeSchema),
    // Fixed for the life of the server process.
    staleTime: Infinity,
  });
}

/** `GET /api/templates`: what a workspace can be created from. */
export function templatesQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.templates(),
    queryFn: () => requestJson('GET', '/api/templates', templateListSchema),
    staleTime: 60_000,
  });
}

/** `GET /api/workspaces`: the signed-in user's workspaces; `/api/events` keeps the cache current. */
export function workspacesQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.workspaces(),
    queryFn: () => requestJson('GET', '/api/workspaces', workspaceListSchema),
  });
}

/** The progress steps heard for a workspace: no endpoint has them, only `/api/events` fills them. */
export function workspaceProgressQueryOptions(name: string) {
  return queryOptions<WorkspaceProgressStep[]>({
    queryKey: queryKeys.workspaceProgress(name),
    queryFn: skipToken,
  });
}

/** `POST /api/workspaces`: answers at once with status `creating`; the rest arrives as events. */
export function createWorkspace(body: CreateWorkspaceBody): Promise<Workspace> {
  return requestJson('POST', '/api/workspaces', workspaceSchema, body);
}

function workspacePath(name: string): string {
  return `/api/workspaces/${encodeURIComponent(name)}`;
}

/** `POST /api/workspaces/:name/start`: accepted; status changes arrive as events. */
export function startWorkspace(name: string): Promise<Workspace> {
  return requestJson('POST', `${workspacePath(name)}/start`, workspaceSchema);
}

/** `POST /api/workspaces/:name/stop`: accepted; status changes arrive as events. */
export function stopWorkspace(name: string): Promise<Workspace> {
  return requestJson('POST', `${workspacePath(name)}/stop`, workspaceSchema);
}

/** `DELETE /api/workspaces/:name`: the workspace and its files go; `workspace.deleted` follows. */
export function deleteWorkspace(name: string): Promise<void> {
  return requestVoid('DELETE', workspacePath(name));
}

/** `GET /api/workspaces/:name/stats`: CPU and memory of a running workspace, polled. */
export function workspaceStatsQueryOptions(name: string) {
  return queryOptions({
    queryKey: [...queryKeys.workspaces(), name, 'stats'] as const,
    queryFn: () => requestJson('GET', `${workspacePath(name)}/stats`, workspaceStatsSchema),
    refetchInterval: 5_000,
    refetchIntervalInBackground: false,
    retry: false,
  });
}
