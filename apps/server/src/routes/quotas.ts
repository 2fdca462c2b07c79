import { myQuotaSchema, quotaLimitsSchema, usageReportSchema } from '@studio/protocol';
import { z } from 'zod';
import type { App, Services } from '../app.ts';

/** Quotas: anyone sees their own and what is left; admins set them and see everyone's use. */
export function quotaRoutes(app: App, services: Services): void {
  const { quotas, audit } = services;

  app.get(
    '/api/me/quota',
    {
      config: { access: 'user' },
      schema: {
        tags: ['me'],
        description:
          "Your limits and your teams', what you use, and what is left under all of them.",
        response: { 200: myQuotaSchema },
      },
    },
    async (request) => quotas.mine(request.principal!.user.id),
  );

  app.get(
    '/api/admin/usage',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        description: "Each person's and team's limits and use now, and their use over `days`.",
        querystring: z.object({ days: z.coerce.number().int().min(1).max(30).default(7) }),
        response: { 200: usageReportSchema },
      },
    },
    async (request) => quotas.report(request.query.days),
  );

  app.put(
    '/api/admin/quotas/:kind/:who',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        description:
          'Sets the limits of a person (`user`) or a team; every limit null removes them.',
        params: z.object({ kind: z.enum(['user', 'team']), who: z.string().max(320) }),
        body: quotaLimitsSchema,
      },
    },
    async (request, reply) => {
      const { kind, who } = request.params;
      const id = await quotas.set(kind, who, request.body);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'quota.set',
        targetType: kind,
        targetId: id,
        data: { ...request.body, [kind === 'user' ? 'email' : 'team']: who },
      });
      return reply.status(204).send();
    },
  );
}
