import { inviteSchema, meSchema, type AcceptInviteBody } from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson } from './http.ts';
import { queryKeys } from './query-keys.ts';

/** `GET /api/invites/:token`: who an invite is for. */
export function inviteQueryOptions(token: string) {
  return queryOptions({
    queryKey: queryKeys.invite(token),
    queryFn: () => requestJson('GET', `/api/invites/${encodeURIComponent(token)}`, inviteSchema),
    retry: false,
  });
}

/** `POST /api/invites/:token`: accept an invite by choosing a password; signs the person in. */
export function acceptInvite(token: string, body: AcceptInviteBody) {
  return requestJson('POST', `/api/invites/${encodeURIComponent(token)}`, meSchema, body);
}
