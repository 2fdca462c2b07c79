import { backupQueuedSchema, serverBackupsSchema } from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson } from './http.ts';
import { queryKeys } from './query-keys.ts';

/** `GET /api/admin/backups`: the server's own backups and its schedule; often while one is written. */
export function serverBackupsQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.adminBackups(),
    queryFn: () => requestJson('GET', '/api/admin/backups', serverBackupsSchema),
    refetchInterval: (query) => (query.state.data?.writing ? 2_000 : 30_000),
  });
}

/** `POST /api/admin/backups`: a backup now; answers the folder it will be written into. */
export function backUpNow() {
  return requestJson('POST', '/api/admin/backups', backupQueuedSchema);
}
