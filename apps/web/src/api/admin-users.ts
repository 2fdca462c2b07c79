import {
  adminCreatedUserSchema,
  userSchema,
  type AdminCreateUserBody,
  type AdminUpdateUserBody,
} from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson } from './http.ts';
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
