import { workspaceMemberSchema, type WorkspaceMember } from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson, requestVoid } from './http.ts';

const memberListSchema = workspaceMemberSchema.array();

/** The query key of a workspace's members. */
export const membersKey = (workspace: string) => ['workspace-members', workspace] as const;

/** `GET /api/workspaces/:ref/members`: the owner, then the people it is shared with. */
export function membersQueryOptions(workspace: string) {
  return queryOptions({
    queryKey: membersKey(workspace),
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
  role: Exclude<WorkspaceMember['role'], 'owner'>,
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
