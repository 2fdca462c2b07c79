import { z } from 'zod';

/** What a quota can limit: workspaces running at once, their total resources, AI spend a month. */
export const QUOTA_LIMITS = [
  'runningWorkspaces',
  'cpus',
  'memoryMiB',
  'diskMiB',
  'aiUsdPerMonth',
] as const;
export type QuotaLimit = (typeof QUOTA_LIMITS)[number];

/** Limits of a person or a team; `null` is no limit. */
export const quotaLimitsSchema = z.strictObject({
  runningWorkspaces: z.number().int().min(0).max(100_000).nullable(),
  cpus: z.number().min(0).max(1_000_000).nullable(),
  memoryMiB: z.number().int().min(0).max(1_000_000_000).nullable(),
  diskMiB: z.number().int().min(0).max(1_000_000_000).nullable(),
  aiUsdPerMonth: z.number().min(0).max(1_000_000).nullable(),
});
export type QuotaLimits = z.infer<typeof quotaLimitsSchema>;

/** What counts against the limits right now (disk: every workspace, running or not). */
export const quotaUsageSchema = z.object({
  runningWorkspaces: z.number(),
  cpus: z.number(),
  memoryMiB: z.number(),
  diskMiB: z.number(),
  aiUsdPerMonth: z.number(),
});
export type QuotaUsage = z.infer<typeof quotaUsageSchema>;

/** A person's or team's limits beside their use. */
export const quotaSubjectSchema = z.object({
  kind: z.enum(['user', 'team']),
  id: z.string(),
  /** The person's email or the team's name. */
  name: z.string(),
  limits: quotaLimitsSchema,
  usage: quotaUsageSchema,
});
export type QuotaSubject = z.infer<typeof quotaSubjectSchema>;

/**
 * `GET /api/me/quota`: the caller's own limits and their teams', and what is left under all of
 * them together (`null`: unlimited).
 */
export const myQuotaSchema = z.object({
  subjects: z.array(quotaSubjectSchema),
  left: quotaLimitsSchema,
});
export type MyQuota = z.infer<typeof myQuotaSchema>;

/** One point of the usage chart. */
export const usagePointSchema = z.object({
  at: z.string(),
  runningWorkspaces: z.number(),
  cpus: z.number(),
  memoryMiB: z.number(),
  diskMiB: z.number(),
  aiUsd: z.number(),
});
export type UsagePoint = z.infer<typeof usagePointSchema>;

/** `GET /api/admin/usage`: everyone's limits and use now, and each one's use over time. */
export const usageReportSchema = z.object({
  subjects: z.array(quotaSubjectSchema.extend({ history: z.array(usagePointSchema) })),
});
export type UsageReport = z.infer<typeof usageReportSchema>;

/** "1.5 GiB" from MiB. */
export function formatMiB(mib: number): string {
  return `${Math.round((mib / 1024) * 10) / 10} GiB`;
}

/** "1 running workspace, 2 CPUs, 4 GiB of memory": what is left, only the limited parts; null if nothing is limited. */
export function describeQuotaLeft(left: QuotaLimits): string | null {
  const parts = [
    left.runningWorkspaces !== null &&
      `${left.runningWorkspaces} running workspace${left.runningWorkspaces === 1 ? '' : 's'}`,
    left.cpus !== null && `${left.cpus} ${left.cpus === 1 ? 'CPU' : 'CPUs'}`,
    left.memoryMiB !== null && `${formatMiB(left.memoryMiB)} of memory`,
    left.diskMiB !== null && `${formatMiB(left.diskMiB)} of disk`,
    left.aiUsdPerMonth !== null && `$${left.aiUsdPerMonth.toFixed(2)} of AI this month`,
  ].filter((part): part is string => typeof part === 'string');
  return parts.length ? parts.join(', ') : null;
}
