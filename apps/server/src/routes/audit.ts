import { schema } from '@studio/db';
import { auditPageSchema, auditQuerySchema, type AuditEventView } from '@studio/protocol';
import { and, desc, eq, gte, like, lt, lte, or, type SQL } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { App, Services } from '../app.ts';

const { auditEvents, users, workspaces } = schema;
/** Rows per query when exporting, so a large log streams instead of loading at once. */
const EXPORT_BATCH = 1000;

/** The audit log: admins read everyone's events, other people their own. */
export function auditRoutes(app: App, { database }: Services): void {
  const { db } = database;
  const tags = ['audit'];

  const where = (
    request: FastifyRequest,
    query: z.output<typeof auditQuerySchema>,
    before?: number,
  ) => {
    const { user } = request.principal!;
    const clauses: Array<SQL | undefined> = [];
    if (user.role !== 'admin') clauses.push(eq(auditEvents.actorId, user.id));
    if (query.action) clauses.push(like(auditEvents.action, `${escapeLike(query.action)}%`));
    if (query.actor)
      clauses.push(or(eq(auditEvents.actorId, query.actor), eq(users.email, query.actor)));
    if (query.workspaceId)
      clauses.push(
        or(eq(auditEvents.workspaceId, query.workspaceId), eq(workspaces.name, query.workspaceId)),
      );
    if (query.outcome) clauses.push(eq(auditEvents.outcome, query.outcome));
    if (query.since) clauses.push(gte(auditEvents.at, new Date(query.since)));
    if (query.until) clauses.push(lte(auditEvents.at, new Date(query.until)));
    const cursor = before ?? query.before;
    if (cursor !== undefined) clauses.push(lt(auditEvents.id, cursor));
    return and(...clauses);
  };

  const select = (condition: SQL | undefined, limit: number) =>
    db
      .select({ event: auditEvents, email: users.email, workspace: workspaces.name })
      .from(auditEvents)
      .leftJoin(users, eq(users.id, auditEvents.actorId))
      .leftJoin(workspaces, eq(workspaces.id, auditEvents.workspaceId))
      .where(condition)
      .orderBy(desc(auditEvents.id))
      .limit(limit);

  app.get(
    '/api/audit',
    {
      config: { access: 'user' },
      schema: { tags, querystring: auditQuerySchema, response: { 200: auditPageSchema } },
    },
    async (request) => {
      const rows = await select(where(request, request.query), request.query.limit + 1);
      const page = rows.slice(0, request.query.limit).map(view);
      return {
        events: page,
        nextBefore: rows.length > request.query.limit ? page.at(-1)!.id : null,
      };
    },
  );

  app.get(
    '/api/audit/export',
    {
      config: { access: 'user' },
      schema: {
        tags,
        querystring: auditQuerySchema,
        description: 'JSON Lines (`application/x-ndjson`): one audit event per line, newest first.',
      },
    },
    async (request, reply) => {
      reply.hijack();
      const raw = reply.raw;
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      raw.writeHead(200, {
        'content-type': 'application/x-ndjson; charset=utf-8',
        'content-disposition': `attachment; filename="audit-${stamp}.jsonl"`,
        'cache-control': 'no-store',
      });
      let before: number | undefined;
      try {
        for (;;) {
          const rows = await select(where(request, request.query, before), EXPORT_BATCH);
          if (rows.length === 0) break;
          const chunk = rows.map((row) => JSON.stringify(view(row))).join('\n') + '\n';
          if (!raw.write(chunk)) await new Promise((resolve) => raw.once('drain', resolve));
          before = rows.at(-1)!.event.id;
          if (rows.length < EXPORT_BATCH || raw.destroyed) break;
        }
      } catch (error) {
        request.log.error({ err: error }, 'audit export failed');
      }
      raw.end();
    },
  );
}

function view(row: {
  event: typeof auditEvents.$inferSelect;
  email: string | null;
  workspace: string | null;
}): AuditEventView {
  const { event } = row;
  return {
    id: event.id,
    at: event.at.toISOString(),
    actor: event.actorId && row.email ? { id: event.actorId, email: row.email } : null,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    workspaceId: event.workspaceId,
    workspace: row.workspace,
    outcome: event.outcome,
    data: event.data,
  };
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}
