import {
  gitBranchListSchema,
  gitCommitSchema,
  gitCredentialListSchema,
  gitCredentialSchema,
  gitDiffSchema,
  gitRemoteOutputSchema,
  gitRepoListSchema,
  gitStatusSchema,
  type GitFileStatus,
  type GitStatus,
  type PutGitCredentialBody,
} from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson, requestVoid } from './http.ts';

export type { GitStatus };
/** One changed path of a repository. */
export type GitFile = GitFileStatus;

function gitPath(name: string, rest: string): string {
  return `/api/workspaces/${encodeURIComponent(name)}/git/${rest}`;
}

/** Query keys of the Source Control panel, under one root per workspace. */
export const gitQueryKeys = {
  all: (name: string) => ['workspace-git', name] as const,
  repos: (name: string) => ['workspace-git', name, 'repos'] as const,
  status: (name: string, repo: string) => ['workspace-git', name, 'status', repo] as const,
  branches: (name: string, repo: string) => ['workspace-git', name, 'branches', repo] as const,
  diff: (name: string, repo: string, path: string, staged: boolean) =>
    ['workspace-git', name, 'diff', repo, path, staged] as const,
};

/** Repositories at the workspace home or up to two folders below it. */
export function gitReposQueryOptions(name: string) {
  return queryOptions({
    queryKey: gitQueryKeys.repos(name),
    queryFn: async () =>
      (await requestJson('GET', gitPath(name, 'repos'), gitRepoListSchema)).repos,
    staleTime: 10_000,
  });
}

/** A repository's branch, sync state and changed files; polled while the panel is shown. */
export function gitStatusQueryOptions(name: string, repo: string) {
  return queryOptions({
    queryKey: gitQueryKeys.status(name, repo),
    queryFn: () =>
      requestJson(
        'GET',
        `${gitPath(name, 'status')}?${new URLSearchParams({ repo })}`,
        gitStatusSchema,
      ),
    // The file watch refreshes it on every change (useFileWatch); this is a safety net.
    refetchInterval: 30_000,
    refetchIntervalInBackground: false,
  });
}

/** Local and remote branches. */
export function gitBranchesQueryOptions(name: string, repo: string) {
  return queryOptions({
    queryKey: gitQueryKeys.branches(name, repo),
    queryFn: () =>
      requestJson(
        'GET',
        `${gitPath(name, 'branches')}?${new URLSearchParams({ repo })}`,
        gitBranchListSchema,
      ),
  });
}

/** Staged: HEAD against the index. Unstaged: the index against the working file. */
export function gitDiffQueryOptions(name: string, repo: string, path: string, staged: boolean) {
  return queryOptions({
    queryKey: gitQueryKeys.diff(name, repo, path, staged),
    queryFn: () =>
      requestJson(
        'GET',
        `${gitPath(name, 'diff')}?${new URLSearchParams({ repo, path, staged: String(staged) })}`,
        gitDiffSchema,
      ),
  });
}

/** Make a folder (`''`: the home) a repository; answers the repositories now found. */
export async function initRepository(name: string, repo: string) {
  return (await requestJson('POST', gitPath(name, 'init'), gitRepoListSchema, { repo })).repos;
}

/** Stage, unstage or discard paths; answers the new status. */
export function changePaths(
  name: string,
  action: 'stage' | 'unstage' | 'discard',
  repo: string,
  paths: string[],
): Promise<GitStatus> {
  return requestJson('POST', gitPath(name, action), gitStatusSchema, { repo, paths });
}

/** Commit what is staged. */
export function commit(name: string, repo: string, message: string) {
  return requestJson('POST', gitPath(name, 'commit'), gitCommitSchema, { repo, message });
}

/** Push (setting the upstream when the branch has none), pull or fetch. */
export function sync(
  name: string,
  action: 'push' | 'pull' | 'fetch',
  repo: string,
  setUpstream = false,
) {
  return requestJson(
    'POST',
    gitPath(name, action),
    gitRemoteOutputSchema,
    action === 'push' ? { repo, setUpstream } : { repo },
  );
}

/** Create a branch (and switch to it), or switch to an existing one. */
export function createBranch(name: string, repo: string, branch: string): Promise<GitStatus> {
  return requestJson('POST', gitPath(name, 'branches'), gitStatusSchema, {
    repo,
    name: branch,
    checkout: true,
  });
}

/** Switch branches; 409 when local changes would be overwritten. */
export function checkout(name: string, repo: string, branch: string): Promise<GitStatus> {
  return requestJson('POST', gitPath(name, 'checkout'), gitStatusSchema, { repo, branch });
}

/** Query key of the signed-in user's git credentials. */
export const gitCredentialsQueryKey = ['git-credentials'] as const;

/** `GET /api/me/git-credentials`: hosts with a stored token (never the token itself). */
export function gitCredentialsQueryOptions() {
  return queryOptions({
    queryKey: gitCredentialsQueryKey,
    queryFn: async () =>
      (await requestJson('GET', '/api/me/git-credentials', gitCredentialListSchema)).credentials,
  });
}

/** `PUT /api/me/git-credentials/:host`: store (or replace) the token for a host, encrypted. */
export function saveGitCredential(host: string, body: PutGitCredentialBody) {
  return requestJson(
    'PUT',
    `/api/me/git-credentials/${encodeURIComponent(host)}`,
    gitCredentialSchema,
    body,
  );
}

/** `DELETE /api/me/git-credentials/:host`. */
export function deleteGitCredential(host: string): Promise<void> {
  return requestVoid('DELETE', `/api/me/git-credentials/${encodeURIComponent(host)}`);
}
