import type { AuditEventView } from '@studio/protocol';
import { describe, expect, it } from 'vitest';
import { auditExportUrl, auditSearchParams } from '../../api/audit.ts';
import { EMPTY_FILTER_FORM, eventDetails, filtersFromForm, localToIso } from './audit-filters.ts';

describe('localToIso', () => {
  it('keeps the local wall time and adds the browser offset', () => {
    const iso = localToIso('2026-03-12T14:05');
    expect(iso).toMatch(/^2026-03-12T14:05:00[+-]\d\d:\d\d$/);
    expect(Date.parse(iso!)).toBe(new Date('2026-03-12T14:05').getTime());
  });

  it('is undefined for blank or invalid input', () => {
    expect(localToIso('')).toBeUndefined();
    expect(localToIso('not a date')).toBeUndefined();
  });
});

describe('filtersFromForm', () => {
  it('leaves out blank filters and converts times', () => {
    const filters = filtersFromForm({
      ...EMPTY_FILTER_FORM,
      action: ' agent.tool. ',
      outcome: 'denied',
      since: '2026-03-12T14:05',
    });
    expect(filters).toEqual({
      action: 'agent.tool.',
      outcome: 'denied',
      since: localToIso('2026-03-12T14:05'),
    });
    expect(filtersFromForm(EMPTY_FILTER_FORM)).toEqual({});
  });
});

describe('auditExportUrl', () => {
  it('carries the same filters as the list', () => {
    expect(auditExportUrl({})).toBe('/api/audit/export');
    expect(auditExportUrl({ action: 'auth.', actor: 'a@b.c', workspaceId: '' })).toBe(
      '/api/audit/export?action=auth.&actor=a%40b.c',
    );
    expect(auditSearchParams({ outcome: 'failure' }).toString()).toBe('outcome=failure');
  });
});

describe('eventDetails', () => {
  it('pretty-prints the data with the target first', () => {
    const event: AuditEventView = {
      id: 1,
      at: '2026-03-12T14:05:00Z',
      actor: null,
      action: 'agent.tool.run_command',
      targetType: 'run',
      targetId: 'r1',
      workspaceId: 'w1',
      workspace: 'demo',
      outcome: 'success',
      data: { command: 'npm test' },
    };
    expect(JSON.parse(eventDetails(event))).toEqual({
      target: { type: 'run', id: 'r1' },
      command: 'npm test',
    });
    expect(eventDetails(event)).toContain('\n  "command": "npm test"');
  });
});
