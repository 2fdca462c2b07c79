import { auditPageSchema, type AuditQuery } from '@studio/protocol';
import { infiniteQueryOptions } from '@tanstack/react-query';
import { requestJson } from './http.ts';
import { queryKeys } from './query-keys.ts';

/** The filters of the audit log, as query-string values (`since`/`until` already ISO with offset). */
export type AuditFilters = Pick<
  AuditQuery,
  'action' | 'actor' | 'workspaceId' | 'outcome' | 'since' | 'until'
>;

// Events per page: enough to fill a screen, small enough to come back quickly.
const PAGE_SIZE = 100;

/** The query string for `filters`, leaving out blank ones (an empty `action=` would filter). */
export function auditSearchParams(filters: AuditFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    const text = typeof value === 'string' ? value.trim() : '';
    if (text) params.set(key, text);
  }
  return params;
}

/** `GET /api/audit`, paged backwards by `nextBefore`; admins see everyone's events. */
export function auditQueryOptions(filters: AuditFilters) {
  const params = auditSearchParams(filters);
  return infiniteQueryOptions({
    queryKey: queryKeys.audit(Object.fromEntries(params)),
    queryFn: ({ pageParam }) => {
      const page = new URLSearchParams(params);
      page.set('limit', String(PAGE_SIZE));
      if (pageParam !== null) page.set('before', String(pageParam));
      return requestJson('GET', `/api/audit?${page}`, auditPageSchema);
    },
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.nextBefore,
  });
}

/** `GET /api/audit/export` with the same filters: JSON Lines, one event per line, no paging. */
export function auditExportUrl(filters: AuditFilters): string {
  const query = auditSearchParams(filters).toString();
  return query ? `/api/audit/export?${query}` : '/api/audit/export';
}
