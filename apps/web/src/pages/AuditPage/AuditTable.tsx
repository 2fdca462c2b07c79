import type { AuditEventView } from '@studio/protocol';
import { Fragment, useState } from 'react';
import { Badge } from '../../components/Badge.tsx';
import { Button } from '../../components/Button.tsx';
import { formatDateTime, formatRelative } from '../../components/format-date.ts';
import { TableHead } from '../../components/TableHead.tsx';
import { useNow } from '../../components/use-now.ts';
import { eventDetails, OUTCOME_TONES } from './audit-filters.ts';

const COLUMNS = ['Time', 'Actor', 'Action', 'Workspace', 'Outcome'];

/** Audit events, newest first; each row opens to the event's data as JSON. */
export function AuditTable({ events }: { events: AuditEventView[] }) {
  const now = useNow();
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());
  const toggle = (id: number) =>
    setOpen((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  return (
    <div className="overflow-x-auto rounded-lg border border-line bg-surface shadow-xs">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Audit events</caption>
        <TableHead columns={COLUMNS} />
        <tbody className="divide-y divide-line">
          {events.map((event) => {
            const expanded = open.has(event.id);
            const detailsId = `audit-event-${event.id}`;
            return (
              <Fragment key={event.id}>
                <tr>
                  <td className="px-5 py-2.5 whitespace-nowrap text-muted">
                    <time dateTime={event.at} title={formatDateTime(event.at)}>
                      {formatRelative(event.at, now)}
                    </time>
                  </td>
                  <td className="px-5 py-2.5 text-fg">
                    {event.actor?.email ?? <span className="text-muted">system</span>}
                  </td>
                  <td className="px-5 py-2.5 font-mono text-[13px] text-fg">{event.action}</td>
                  <td
                    className="px-5 py-2.5 font-mono text-[13px] text-muted"
                    title={event.workspaceId ?? undefined}
                  >
                    {event.workspace ?? event.workspaceId ?? '—'}
                  </td>
                  <td className="px-5 py-2.5">
                    <Badge tone={OUTCOME_TONES[event.outcome]}>{event.outcome}</Badge>
                  </td>
                  <td className="px-5 py-2 text-right">
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-expanded={expanded}
                      aria-controls={expanded ? detailsId : undefined}
                      aria-label={`Details of ${event.action} at ${formatDateTime(event.at)}`}
                      onClick={() => toggle(event.id)}
                    >
                      {expanded ? 'Hide' : 'Details'}
                    </Button>
                  </td>
                </tr>
                {expanded ? (
                  <tr id={detailsId} className="bg-subtle/50">
                    <td colSpan={COLUMNS.length + 1} className="px-5 py-3">
                      <pre className="max-h-96 overflow-auto font-mono text-[12px] leading-relaxed whitespace-pre-wrap text-fg">
                        {eventDetails(event)}
                      </pre>
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
