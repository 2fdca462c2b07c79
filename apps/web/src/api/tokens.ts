import { apiTokenSchema, createdTokenSchema, type CreateTokenBody } from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson, requestVoid } from './http.ts';
import { queryKeys } from './query-keys.ts';

const tokenListSchema = apiTokenSchema.array();

/** `GET /api/tokens`: the signed-in user's API tokens. */
export function tokensQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.tokens(),
    queryFn: () => requestJson('GET', '/api/tokens', tokenListSchema),
  });
}

/** `POST /api/tokens`: create a token; the answer holds its secret, shown this once. */
export function createToken(body: CreateTokenBody) {
  return requestJson('POST', '/api/tokens', createdTokenSchema, body);
}

/** `DELETE /api/tokens/:id`: revoke a token. */
export function revokeToken(id: string): Promise<void> {
  return requestVoid('DELETE', `/api/tokens/${encodeURIComponent(id)}`);
}
