// Backups the server writes itself (scheduled, or asked for by an admin), as the API shows them.
import { z } from 'zod';

/** `GET /api/admin/backups`. */
export const serverBackupsSchema = z.object({
  /** `STUDIO_BACKUP_CRON`, or null when only asked-for backups are written. */
  cron: z.string().nullable(),
  /** When the next scheduled one is due (this replica's clock). */
  next: z.string().nullable(),
  /** The folder on the server's machine they are written into. */
  dir: z.string(),
  /** How many finished ones are kept. */
  keep: z.number(),
  /** A backup is being written (on any replica). */
  writing: z.boolean(),
  /** Newest first; `unfinished`: being written, or its writing died (retention removes it). */
  backups: z.array(
    z.object({
      name: z.string(),
      state: z.enum(['finished', 'unfinished']),
      createdAt: z.string().nullable(),
      bytes: z.number().nullable(),
      workspaces: z.number().nullable(),
      skipped: z.number().nullable(),
    }),
  ),
});
export type ServerBackups = z.infer<typeof serverBackupsSchema>;

/** `POST /api/admin/backups`: queued; it lands in the list (and the audit log) when written. */
export const backupQueuedSchema = z.object({ name: z.string() });
