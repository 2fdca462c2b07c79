// The pure parts of the audit page: the filter form to query filters, and how outcomes look.
import type { AuditEventView } from '@studio/protocol';
import type { AuditFilters } from '../../api/audit.ts';
import type { BadgeTone } from '../../components/Badge.tsx';

/** What the filter form holds; `since`/`until` as `<input type="datetime-local">` gives them. */
export interface AuditFilterForm {
  action: string;
  actor: string;
  workspaceId: string;
  outcome: '' | AuditEventView['outcome'];
  since: string;
  until: string;
}

/** A form with no filter set. */
export const EMPTY_FILTER_FORM: AuditFilterForm = {
  action: '',
  actor: '',
  workspaceId: '',
  outcome: '',
  since: '',
  until: '',
};

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/**
 * A `datetime-local` value ("2026-03-12T14:05", local time) as ISO 8601 with the browser's
 * offset ("2026-03-12T14:05:00+01:00"), which the API requires; `undefined` when blank or invalid.
 */
export function localToIso(value: string): string | undefined {
  if (!value.trim()) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return undefined;
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${zone}`
  );
}

/** The API filters for a filled-in form: blanks left out, times converted. */
export function filtersFromForm(form: AuditFilterForm): AuditFilters {
  const filters: AuditFilters = {};
  if (form.action.trim()) filters.action = form.action.trim();
  if (form.actor.trim()) filters.actor = form.actor.trim();
  if (form.workspaceId.trim()) filters.workspaceId = form.workspaceId.trim();
  if (form.outcome) filters.outcome = form.outcome;
  const since = localToIso(form.since);
  if (since) filters.since = since;
  const until = localToIso(form.until);
  if (until) filters.until = until;
  return filters;
}

/** The badge colour of each outcome. */
export const OUTCOME_TONES: Record<AuditEventView['outcome'], BadgeTone> = {
  success: 'success',
  failure: 'danger',
  denied: 'warning',
};

/** An event's `data` (and target) as indented JSON for the details row. */
export function eventDetails(event: AuditEventView): string {
  const target =
    event.targetType || event.targetId
      ? { target: { type: event.targetType, id: event.targetId } }
      : {};
  return JSON.stringify({ ...target, ...event.data }, null, 2);
}
