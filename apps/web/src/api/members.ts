import {
  teamSchema,
  workspaceMemberSchema,
  workspaceTeamSchema,
  type WorkspaceMember,
  type WorkspaceTeam,
} from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson, requestVoid } from './http.ts';
import { queryKeys } from './query-keys.ts';

const memberListSchema = workspaceMemberSchema.array();
const workspaceTeamListSchema = workspaceTeamSchema.array();
const teamListSchema = teamSchema.array();

type MemberRole = Exclude<WorkspaceMember['role'], 'owner'>;
const membersPath = (workspace: string) => `/api/workspaces/${encodeURIComponent(workspace)}`;

/** `GET /api/workspaces/:ref/members`: the owner, then the people it is shared with. */
export function membersQueryOptions(workspace: string) {
  return queryOptions({
    queryKey: queryKeys.workspaceMembers(workspace),
    queryFn: () =>
      requestJson(
        'GET',
        `/api/workspaces/${encodeURIComponent(workspace)}/members`,
        memberListSchema,
      ),
  });
}

/** `PUT …/members/:email`: share with a person, or change their role. */
export function setMember(
  workspace: string,
  email: string,
  role: MemberRole,
): Promise<WorkspaceMember> {
  return requestJson(
    'PUT',
    `/api/workspaces/${encodeURIComponent(workspace)}/members/${encodeURIComponent(email)}`,
    workspaceMemberSchema,
    { role },
  );
}

/** `DELETE …/members/:email`: stop sharing with a person; their open sockets close. */
export function removeMember(workspace: string, email: string): Promise<void> {
  return requestVoid(
    'DELETE',
    `/api/workspaces/${encodeURIComponent(workspace)}/members/${encodeURIComponent(email)}`,
  );
}

/** `GET /api/workspaces/:ref/presence`: who has it open now; asked again every 10 s. */
export function presenceQueryOptions(workspace: string) {
  return queryOptions({
    queryKey: [...queryKeys.workspaceMembers(workspace), 'presence'] as const,
    queryFn: () => requestJson('GET', `${membersPath(workspace)}/presence`, memberListSchema),
    refetchInterval: 10_000,
  });
}

/** `GET /api/workspaces/:ref/teams`: the teams with a role on a workspace. */
export function workspaceTeamsQueryOptions(workspace: string) {
  return queryOptions({
    queryKey: queryKeys.workspaceTeams(workspace),
    queryFn: () => requestJson('GET', `${membersPath(workspace)}/teams`, workspaceTeamListSchema),
  });
}

/** `PUT …/teams/:team`: give a team (by name or id) a role on a workspace. */
export function setWorkspaceTeam(
  workspace: string,
  team: string,
  role: MemberRole,
): Promise<WorkspaceTeam> {
  return requestJson(
    'PUT',
    `${membersPath(workspace)}/teams/${encodeURIComponent(team)}`,
    workspaceTeamSchema,
    { role },
  );
}

/** `DELETE …/teams/:team`: take a team's role on a workspace away. */
export function removeWorkspaceTeam(workspace: string, team: string): Promise<void> {
  return requestVoid('DELETE', `${membersPath(workspace)}/teams/${encodeURIComponent(team)}`);
}

/** `GET /api/teams`: every team for an admin, one's own teams for anyone else. */
export function teamsQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.teams(),
    queryFn: () => requestJson('GET', '/api/teams', teamListSchema),
  });
}

/** `POST /api/admin/teams`. */
export function createTeam(name: string) {
  return requestJson('POST', '/api/admin/teams', teamSchema, { name });
}

/** `DELETE /api/admin/teams/:team`. */
export function deleteTeam(team: string): Promise<void> {
  return requestVoid('DELETE', `/api/admin/teams/${encodeURIComponent(team)}`);
}

/** `PUT` or `DELETE /api/admin/teams/:team/members/:email`. */
export function setTeamMember(team: string, email: string, member: boolean): Promise<void> {
  return requestVoid(
    member ? 'PUT' : 'DELETE',
    `/api/admin/teams/${encodeURIComponent(team)}/members/${encodeURIComponent(email)}`,
  );
}
