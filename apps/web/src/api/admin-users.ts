import {
  adminCreatedUserSchema,
  adminWorkspaceSchema,
  userSchema,
  type AdminCreateUserBody,
  type AdminUpdateUserBody,
} from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson, requestVoid } from './http.ts';
import { queryKeys } from './query-keys.ts';

const userListSchema = userSchema.array();

/** `GET /api/admin/users`: every user (admins only). */
export function adminUsersQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.adminUsers(),
    queryFn: () => requestJson('GET', '/api/admin/users', userListSchema),
  });
}

/** `POST /api/admin/users`: create a user; without a password the answer holds an invite link. */
export function createUser(body: AdminCreateUserBody) {
  return requestJson('POST', '/api/admin/users', adminCreatedUserSchema, body);
}

/** `PATCH /api/admin/users/:id`: change a user's role, or disable/enable them. */
export function updateUser(id: string, body: AdminUpdateUserBody) {
  return requestJson('PATCH', `/api/admin/users/${encodeURIComponent(id)}`, userSchema, body);
}

/** `GET /api/admin/workspaces`: every workspace on the server, with its owner (admins only). */
export function adminWorkspacesQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.adminWorkspaces(),
    queryFn: () => requestJson('GET', '/api/admin/workspaces', adminWorkspaceSchema.array()),
  });
}

/** `POST /api/admin/workspaces/:id/stop`: stop anyone's workspace (audited). */
export function stopAnyWorkspace(id: string) {
  return requestVoid('POST', `/api/admin/workspaces/${encodeURIComponent(id)}/stop`);
}

/** `DELETE /api/admin/workspaces/:id`: delete anyone's workspace and its files (audited). */
export function deleteAnyWorkspace(id: string) {
  return requestVoid('DELETE', `/api/admin/workspaces/${encodeURIComponent(id)}`);
}
