import { auditEvents, type Database } from '@studio/db';

/** One thing that happened, for the audit log. */
export interface AuditEvent {
  actorId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  workspaceId?: string;
  outcome?: 'success' | 'failure' | 'denied';
  data?: Record<string, unknown>;
}

/** Appends to `audit_events`. Callers pass no secrets; a failed write is logged, never fatal to the request. */
export class AuditLog {
  constructor(
    private readonly db: Database,
    private readonly onError: (error: unknown) => void,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    try {
      await this.db.insert(auditEvents).values({ ...event, data: event.data ?? {} });
    } catch (error) {
      this.onError(error);
    }
  }
}
