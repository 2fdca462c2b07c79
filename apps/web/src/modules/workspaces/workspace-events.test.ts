import type { Workspace } from '@studio/protocol';
import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { queryKeys } from '../../api/query-keys.ts';
import { addWorkspaceIfMissing, applyWorkspaceEvent } from './workspace-events.ts';

function workspace(name: string, status: Workspace['status'] = 'running'): Workspace {
  return {
    id: `id-${name}`,
    name,
    ownerId: 'u1',
    role: 'owner',
    template: 'base',
    desktop: false,
    status,
    statusReason: null,
    driver: 'local',
    isolation: 'bwrap',
    repoUrl: null,
    resources: { cpus: 2, memoryMiB: 2048, pids: 512 },
    createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: null,
    lastActiveAt: '2026-01-01T00:00:00.000Z',
  };
}

function clientWith(list: Workspace[]): QueryClient {
  const client = new QueryClient();
  client.setQueryData(queryKeys.workspaces(), list);
  return client;
}

const names = (client: QueryClient) =>
  client.getQueryData<Workspace[]>(queryKeys.workspaces())?.map((item) => item.name);

describe('applyWorkspaceEvent', () => {
  it('adds and replaces workspaces in name order, and drops deleting ones', () => {
    const client = clientWith([workspace('b')]);
    applyWorkspaceEvent(client, { type: 'workspace', workspace: workspace('a', 'creating') });
    expect(names(client)).toEqual(['a', 'b']);
    applyWorkspaceEvent(client, { type: 'workspace', workspace: workspace('a', 'running') });
    expect(client.getQueryData<Workspace[]>(queryKeys.workspaces())?.[0]?.status).toBe('running');
    applyWorkspaceEvent(client, { type: 'workspace', workspace: workspace('b', 'deleting') });
    expect(names(client)).toEqual(['a']);
    applyWorkspaceEvent(client, { type: 'workspace.deleted', id: 'id-a', name: 'a' });
    expect(names(client)).toEqual([]);
  });

  it('collects progress steps per workspace name', () => {
    const client = clientWith([]);
    applyWorkspaceEvent(client, {
      type: 'workspace.progress',
      id: 'x',
      name: 'a',
      step: 'building',
    });
    applyWorkspaceEvent(client, {
      type: 'workspace.progress',
      id: 'x',
      name: 'a',
      step: 'starting',
      detail: 'starting the workspace daemon',
    });
    expect(client.getQueryData(queryKeys.workspaceProgress('a'))).toEqual([
      { step: 'building', detail: undefined },
      { step: 'starting', detail: 'starting the workspace daemon' },
    ]);
    applyWorkspaceEvent(client, { type: 'workspace.deleted', id: 'x', name: 'a' });
    expect(client.getQueryData(queryKeys.workspaceProgress('a'))).toBeUndefined();
  });

  it('marks the list stale when the socket (re)connects', () => {
    const client = clientWith([]);
    applyWorkspaceEvent(client, { type: 'hello', userId: 'u1' });
    expect(client.getQueryState(queryKeys.workspaces())?.isInvalidated).toBe(true);
  });
});

describe('addWorkspaceIfMissing', () => {
  it('never replaces a newer copy that events already brought', () => {
    const client = clientWith([workspace('a', 'running')]);
    addWorkspaceIfMissing(client, workspace('a', 'creating'));
    expect(client.getQueryData<Workspace[]>(queryKeys.workspaces())?.[0]?.status).toBe('running');
    addWorkspaceIfMissing(client, workspace('b', 'creating'));
    expect(names(client)).toEqual(['a', 'b']);
  });
});
