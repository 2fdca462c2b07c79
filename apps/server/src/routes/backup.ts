import { Readable } from 'node:stream';
import { backupQueuedSchema, serverBackupsSchema } from '@studio/protocol';
import { backupFolderName } from '@studio/backup';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { dumpDatabase } from '../backup/database-dump.ts';

/**
 * What `studio backup` reads from a running server (admins only, audited): a consistent dump of
 * the database with the server's secret, then each workspace's home as a tar stream. And the
 * backups the server writes itself: listed, and one asked for now.
 */
export function backupRoutes(app: App, services: Services): void {
  const { database, config, workspaces, audit, backups } = services;
  const admin = { access: 'admin' } as const;
  const tags = ['admin'];

  app.get(
    '/api/admin/backup/database',
    {
      config: admin,
      schema: {
        tags,
        description:
          'JSON Lines (`application/x-ndjson`): a header with the format, the schema version and the server secret, then one line per row of every table, read in one snapshot. Sessions, rate limits, presence and jobs are left out.',
      },
    },
    async (request, reply) => {
      const lines = await dumpDatabase(database.db, config.secret, new Date());
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'backup.database',
        data: { rows: lines.length - 1 },
      });
      return reply
        .type('application/x-ndjson')
        .header('cache-control', 'no-store')
        .send(Readable.from(lines.map((line) => `${line}\n`)));
    },
  );

  app.get(
    '/api/admin/backups',
    {
      config: admin,
      schema: {
        tags,
        description:
          "The backups the server writes itself (on `STUDIO_BACKUP_CRON`, or asked for), newest first, and the schedule's next time.",
        response: { 200: serverBackupsSchema },
      },
    },
    async () => backups.list(),
  );

  app.post(
    '/api/admin/backups',
    {
      config: admin,
      schema: {
        tags,
        description:
          'Queues a backup now, written by one replica into `STUDIO_BACKUP_DIR`; it appears in the list, and in the audit log as `backup.written`, when done.',
        response: { 202: backupQueuedSchema },
      },
    },
    async (request, reply) => {
      const due = await backups.backUpNow();
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'backup.requested',
        data: { folder: backupFolderName(due) },
      });
      return reply.status(202).send({ name: backupFolderName(due) });
    },
  );

  app.get(
    '/api/admin/backup/homes/:id',
    {
      config: admin,
      schema: {
        tags,
        description:
          "A workspace's home as a tar stream (`application/x-tar`, entries `./…` with their owners), running or stopped.",
        params: z.object({ id: z.string().max(64) }),
      },
    },
    async (request, reply) => {
      const archive = await workspaces.exportHome(request.params.id);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'backup.home',
        targetType: 'workspace',
        targetId: request.params.id,
      });
      return reply.type('application/x-tar').header('cache-control', 'no-store').send(archive);
    },
  );
}
