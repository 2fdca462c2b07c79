import { myQuotaSchema, usageReportSchema, type QuotaLimits } from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson, requestVoid } from './http.ts';
import { queryKeys } from './query-keys.ts';

/** `GET /api/me/quota`: the caller's limits and what is left under them. */
export function myQuotaQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.myQuota(),
    queryFn: () => requestJson('GET', '/api/me/quota', myQuotaSchema),
  });
}

/** `GET /api/admin/usage`: everyone's limits, use now and use over the last `days`. */
export function usageReportQueryOptions(days: number) {
  return queryOptions({
    queryKey: queryKeys.adminUsage(days),
    queryFn: () => requestJson('GET', `/api/admin/usage?days=${days}`, usageReportSchema),
    refetchInterval: 30_000,
  });
}

/** `PUT /api/admin/quotas/:kind/:who`: a person's (by email) or team's (by name) limits. */
export function setQuota(kind: 'user' | 'team', who: string, limits: QuotaLimits): Promise<void> {
  return requestVoid('PUT', `/api/admin/quotas/${kind}/${encodeURIComponent(who)}`, limits);
}
