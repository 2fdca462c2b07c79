import type { AuditEventView } from '@studio/protocol';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { auditExportUrl, auditQueryOptions } from '../../api/audit.ts';
import { Alert } from '../../components/Alert.tsx';
import { Button, buttonClasses } from '../../components/Button.tsx';
import { EmptyState } from '../../components/EmptyState.tsx';
import { SelectField, TextField } from '../../components/Field.tsx';
import { PageHeader } from '../../components/PageHeader.tsx';
import { Loading } from '../../components/Spinner.tsx';
import { useDocumentTitle } from '../../components/use-document-title.ts';
import { useCurrentUser } from '../../modules/session/SessionProvider.tsx';
import { AuditTable } from './AuditTable.tsx';
import { EMPTY_FILTER_FORM, filtersFromForm, type AuditFilterForm } from './audit-filters.ts';

/** `/audit`: who did what and when (sign-ins, agent tool runs and their approvals), filterable. */
export function AuditPage() {
  useDocumentTitle('Audit log');
  const isAdmin = useCurrentUser().role === 'admin';
  const [form, setForm] = useState<AuditFilterForm>(EMPTY_FILTER_FORM);
  // The list and the export follow the applied filters, not each keystroke.
  const [applied, setApplied] = useState<AuditFilterForm>(EMPTY_FILTER_FORM);
  const filters = filtersFromForm(applied);
  const events = useInfiniteQuery(auditQueryOptions(filters));
  const list: AuditEventView[] = events.data?.pages.flatMap((page) => page.events) ?? [];
  const filtered = Object.keys(filters).length > 0;

  const text = (key: 'action' | 'actor' | 'workspaceId') => ({
    value: form[key],
    onChange: (event: { target: { value: string } }) =>
      setForm({ ...form, [key]: event.target.value }),
  });

  return (
    <>
      <PageHeader
        title="Audit log"
        description={
          isAdmin
            ? 'What everyone on this server did: sign-ins, agent tool runs and who approved them.'
            : 'What you and your assistant did: sign-ins, agent tool runs and who approved them.'
        }
        actions={
          <a href={auditExportUrl(filters)} download="audit.jsonl" className={buttonClasses()}>
            Export JSONL
          </a>
        }
      />
      <form
        aria-label="Filter audit events"
        className="mb-6 grid grid-cols-2 items-end gap-3 rounded-lg border border-line bg-surface p-4 shadow-xs md:grid-cols-4"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied(form);
        }}
      >
        <TextField
          label="Action"
          placeholder="e.g. agent.tool."
          hint="Matches the start of the action."
          spellCheck={false}
          autoComplete="off"
          {...text('action')}
        />
        <TextField
          label="Actor"
          placeholder="email or user id"
          spellCheck={false}
          autoComplete="off"
          {...text('actor')}
        />
        <TextField
          label="Workspace"
          placeholder="name or id"
          spellCheck={false}
          autoComplete="off"
          {...text('workspaceId')}
        />
        <SelectField
          label="Outcome"
          value={form.outcome}
          onChange={(event) =>
            setForm({ ...form, outcome: event.target.value as AuditFilterForm['outcome'] })
          }
        >
          <option value="">Any</option>
          <option value="success">Success</option>
          <option value="failure">Failure</option>
          <option value="denied">Denied</option>
        </SelectField>
        <TextField
          label="Since"
          type="datetime-local"
          value={form.since}
          onChange={(event) => setForm({ ...form, since: event.target.value })}
        />
        <TextField
          label="Until"
          type="datetime-local"
          value={form.until}
          onChange={(event) => setForm({ ...form, until: event.target.value })}
        />
        <div className="col-span-2 flex justify-end gap-2">
          <Button
            onClick={() => {
              setForm(EMPTY_FILTER_FORM);
              setApplied(EMPTY_FILTER_FORM);
            }}
          >
            Clear filters
          </Button>
          <Button type="submit" variant="primary">
            Apply filters
          </Button>
        </div>
      </form>

      {events.data === undefined ? (
        events.isError ? (
          <Alert tone="error">{events.error.message}</Alert>
        ) : (
          <Loading label="Loading audit events…" />
        )
      ) : list.length === 0 ? (
        <EmptyState title="No audit events">
          {filtered
            ? 'Nothing matches these filters. Widen the time range or clear a filter.'
            : 'Sign-ins, changes to accounts and every tool the agent runs are recorded here.'}
        </EmptyState>
      ) : (
        <div className="space-y-4">
          <AuditTable events={list} />
          {events.isFetchNextPageError ? (
            <Alert tone="error">{events.error?.message ?? 'Could not load more events.'}</Alert>
          ) : null}
          {events.hasNextPage ? (
            <div className="flex justify-center">
              <Button
                pending={events.isFetchingNextPage}
                onClick={() => void events.fetchNextPage()}
              >
                Load more
              </Button>
            </div>
          ) : null}
        </div>
      )}
    </>
  );
}
