import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { AppError } from '../errors.ts';

/** `/healthz` (process alive), `/readyz` (database answers), `/metrics` (Prometheus text). */
export function healthRoutes(app: App, { database, metrics, config }: Services): void {
  const status = z.object({ status: z.string() });
  app.get(
    '/healthz',
    { config: { access: 'public' }, schema: { tags: ['health'], response: { 200: status } } },
    async () => ({
      status: 'ok',
    }),
  );
  app.get(
    '/readyz',
    { config: { access: 'public' }, schema: { tags: ['health'], response: { 200: status } } },
    async () => {
      try {
        await database.ping();
      } catch (error) {
        throw new AppError('unavailable', 'the database is not reachable', {
          cause: String(error),
        });
      }
      return { status: 'ready' };
    },
  );
  app.get(
    '/metrics',
    {
      // Public only when configured so; otherwise an admin, or a token with the `metrics` scope.
      config: { access: config.publicMetrics ? 'public' : 'admin' },
      schema: { tags: ['health'] },
    },
    async (_request, reply) => {
      void reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
}
