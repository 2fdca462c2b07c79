import { formatMiB, type QuotaSubject, type UsageReport } from '@studio/protocol';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { usageReportQueryOptions } from '../../api/quotas.ts';
import { Alert } from '../../components/Alert.tsx';
import { Badge } from '../../components/Badge.tsx';
import { Button } from '../../components/Button.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { InlineSelect } from '../../components/Field.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { Loading } from '../../components/Spinner.tsx';
import { TableHead } from '../../components/TableHead.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';
import { AdminTabs } from '../../modules/layout/AdminTabs.tsx';
import { useCurrentUser } from '../../modules/session/SessionProvider.tsx';
import { QuotaDialog } from './QuotaDialog.tsx';
import { METRICS, UsageChart, type Metric, type UsageSeries } from './UsageChart.tsx';

type Subject = UsageReport['subjects'][number];
const RANGES = [1, 7, 30] as const;
const LINES = 6;

/** "3 / 4" with a bar, or "3" with "no limit" under it. */
function UseCell({
  used,
  limit,
  format,
}: {
  used: number;
  limit: number | null;
  format: (value: number) => string;
}) {
  const share = limit === null ? 0 : limit === 0 ? 1 : Math.min(1, used / limit);
  const tone = share >= 1 ? 'bg-danger' : share >= 0.8 ? 'bg-warning' : 'bg-accent';
  return (
    <td className="px-5 py-3 whitespace-nowrap">
      <div className="text-fg tabular-nums">
        {format(used)}
        {limit !== null ? <span className="text-muted"> / {format(limit)}</span> : null}
      </div>
      {limit === null ? (
        <div className="text-[12px] text-muted">no limit</div>
      ) : (
        <div className="mt-1 h-1.5 w-24 overflow-hidden rounded-full bg-subtle" aria-hidden>
          <div className={`h-full ${tone}`} style={{ width: `${share * 100}%` }} />
        </div>
      )}
    </td>
  );
}

const whole = (value: number) => `${Math.round(value * 100) / 100}`;
const dollars = (value: number) => `$${value.toFixed(2)}`;

/** The busiest people and teams by `metric` over the range, as chart lines. */
function seriesOf(subjects: Subject[], metric: Metric, who: 'user' | 'team'): UsageSeries[] {
  return subjects
    .filter((subject) => subject.kind === who && subject.history.some((point) => point[metric] > 0))
    .map((subject) => ({
      name: subject.name,
      points: subject.history.map((point) => ({ at: Date.parse(point.at), value: point[metric] })),
    }))
    .sort(
      (a, b) =>
        Math.max(0, ...b.points.map((point) => point.value)) -
        Math.max(0, ...a.points.map((point) => point.value)),
    )
    .slice(0, LINES);
}

/** `/admin/usage`: every person's and team's use against their limits, and use over time. */
export function AdminUsagePage() {
  useDocumentTitle('Usage and quotas');
  const me = useCurrentUser();
  const isAdmin = me.role === 'admin';
  const [days, setDays] = useState<(typeof RANGES)[number]>(7);
  const [metric, setMetric] = useState<Metric>('runningWorkspaces');
  const [who, setWho] = useState<'user' | 'team'>('user');
  const [editing, setEditing] = useState<QuotaSubject | null>(null);
  const report = useQuery({ ...usageReportQueryOptions(days), enabled: isAdmin });
  // The range ends at the last fetch, so the chart does not move between refreshes.
  const to = report.dataUpdatedAt || 0;

  if (!isAdmin)
    return (
      <>
        <PageHeader title="Usage and quotas" />
        <EmptyState title="Admins only">Only admins see everyone’s use and set quotas.</EmptyState>
      </>
    );
  return (
    <>
      <PageHeader
        title="Usage and quotas"
        description="What each person and team runs and spends, against the limits you set. Going over a limit is refused before anything starts."
      />
      <AdminTabs />
      {report.isPending ? (
        <Loading label="Loading usage…" />
      ) : report.isError ? (
        <Alert tone="error">{report.error.message}</Alert>
      ) : (
        <div className="space-y-6">
          <section
            aria-labelledby="usage-over-time"
            className="space-y-3 rounded-lg border border-line bg-surface p-5 shadow-xs"
          >
            <div className="flex flex-wrap items-center gap-3">
              <h2 id="usage-over-time" className="mr-auto text-base font-semibold text-fg">
                Over time
              </h2>
              <InlineSelect
                aria-label="Metric"
                value={metric}
                onChange={(event) => setMetric(event.target.value as Metric)}
              >
                {Object.entries(METRICS).map(([key, { label }]) => (
                  <option key={key} value={key}>
                    {label}
                  </option>
                ))}
              </InlineSelect>
              <InlineSelect
                aria-label="People or teams"
                value={who}
                onChange={(event) => setWho(event.target.value as 'user' | 'team')}
              >
                <option value="user">People</option>
                <option value="team">Teams</option>
              </InlineSelect>
              <InlineSelect
                aria-label="Range"
                value={days}
                onChange={(event) => setDays(Number(event.target.value) as (typeof RANGES)[number])}
              >
                {RANGES.map((range) => (
                  <option key={range} value={range}>
                    {range === 1 ? 'Last day' : `Last ${range} days`}
                  </option>
                ))}
              </InlineSelect>
            </div>
            <UsageChart
              series={seriesOf(report.data.subjects, metric, who)}
              metric={metric}
              from={to - days * 24 * 60 * 60_000}
              to={to}
            />
          </section>
          <section aria-labelledby="usage-now" className="space-y-3">
            <h2 id="usage-now" className="text-base font-semibold text-fg">
              Now, against the limits
            </h2>
            <div className="overflow-x-auto rounded-lg border border-line bg-surface shadow-xs">
              <table className="w-full text-left text-sm">
                <caption className="sr-only">Use and limits of each person and team</caption>
                <TableHead
                  columns={['Person or team', 'Running', 'CPUs', 'Memory', 'Disk', 'AI this month']}
                />
                <tbody className="divide-y divide-line">
                  {report.data.subjects.map((subject) => (
                    <tr key={`${subject.kind}:${subject.id}`} aria-label={subject.name}>
                      <td className="px-5 py-3">
                        <div className="flex items-center gap-2 font-medium text-fg">
                          {subject.name}
                          {subject.kind === 'team' ? <Badge>team</Badge> : null}
                        </div>
                      </td>
                      <UseCell
                        used={subject.usage.runningWorkspaces}
                        limit={subject.limits.runningWorkspaces}
                        format={whole}
                      />
                      <UseCell
                        used={subject.usage.cpus}
                        limit={subject.limits.cpus}
                        format={whole}
                      />
                      <UseCell
                        used={subject.usage.memoryMiB}
                        limit={subject.limits.memoryMiB}
                        format={formatMiB}
                      />
                      <UseCell
                        used={subject.usage.diskMiB}
                        limit={subject.limits.diskMiB}
                        format={formatMiB}
                      />
                      <UseCell
                        used={subject.usage.aiUsdPerMonth}
                        limit={subject.limits.aiUsdPerMonth}
                        format={dollars}
                      />
                      <td className="px-5 py-3 text-right">
                        <Button
                          size="sm"
                          aria-label={`Set limits of ${subject.name}`}
                          onClick={() => setEditing(subject)}
                        >
                          Set limits
                        </Button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </div>
      )}
      {editing ? <QuotaDialog subject={editing} onClose={() => setEditing(null)} /> : null}
    </>
  );
}
