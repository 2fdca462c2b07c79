// Backups the server writes itself: at each time `STUDIO_BACKUP_CRON` names, or when an admin
// asks, the same folder `studio backup` writes — database, secret and every home — into
// `STUDIO_BACKUP_DIR/<time>/`, then it keeps the newest `STUDIO_BACKUP_KEEP`. Every replica runs
// the clock; the backup is a durable job, queued once per time under an advisory lock, so one
// replica writes it, and another finishes it if that one dies.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  backupFolderName,
  HomeUnavailable,
  listBackups,
  MANIFEST,
  pruneBackups,
  writeBackup,
  type BackupManifest,
} from '@studio/backup';
import type { ServerBackups } from '@studio/protocol';
import { jobs, type Database } from '@studio/db';
import { RuntimeError } from '@studio/runtime';
import { Cron } from 'croner';
import { and, eq, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { AuditLog } from '../audit-log.ts';
import type { Config } from '../config.ts';
import type { JobQueue } from '../jobs/job-queue.ts';
import type { WorkspaceService } from '../workspaces/workspace-service.ts';
import { dumpDatabase } from './database-dump.ts';

/** Serializes "is this time's backup queued yet?" across replicas (`pg_advisory_xact_lock`). */
const SCHEDULE_LOCK_KEY = 7_310_442_002;
/** The one subject of backup jobs: one backup at a time across every replica. */
const SUBJECT = 'backups';

export interface BackupScheduleDeps {
  config: Config;
  db: Database;
  jobs: JobQueue;
  workspaces: WorkspaceService;
  audit: AuditLog;
  logger: FastifyBaseLogger;
}

export class BackupSchedule {
  private clock: Cron | null = null;

  constructor(private readonly deps: BackupScheduleDeps) {
    deps.jobs.handle('backup', (payload) => this.write(new Date(String(payload.due))));
  }

  /** Starts the clock (nothing when no schedule is set). */
  start(): void {
    const schedule = this.deps.config.backups;
    if (!schedule.cron || this.clock) return;
    this.clock = new Cron(schedule.cron, { protect: true }, async (clock) => {
      const due = clock.currentRun();
      if (due)
        await this.queue(due).catch((error: unknown) =>
          this.deps.logger.error({ err: error }, 'queueing the scheduled backup failed'),
        );
    });
    this.deps.logger.info(
      { cron: schedule.cron, dir: schedule.dir, keep: schedule.keep },
      `scheduled backups: next at ${this.clock.nextRun()?.toISOString()}`,
    );
  }

  stop(): void {
    this.clock?.stop();
    this.clock = null;
  }

  /** Queues a backup now, for an admin who asked; answers the time it is filed under. */
  async backUpNow(): Promise<Date> {
    const due = new Date(Math.floor(Date.now() / 1000) * 1000);
    await this.queue(due);
    return due;
  }

  /** The schedule, whether a backup is being written, and the backups in the folder, newest first. */
  async list(): Promise<ServerBackups> {
    const { cron, dir, keep } = this.deps.config.backups;
    const backups = await Promise.all(
      (await listBackups(dir)).map(async ({ name, finished }) => {
        // The manifest as written; checking every file's checksum is the restore's job.
        const manifest = finished
          ? await readFile(join(dir, name, MANIFEST), 'utf8')
              .then((text) => JSON.parse(text) as BackupManifest)
              .catch(() => null)
          : null;
        return {
          name,
          state: finished ? 'finished' : 'unfinished',
          createdAt: manifest?.createdAt ?? null,
          bytes: manifest?.files.reduce((sum, file) => sum + file.bytes, 0) ?? null,
          workspaces: manifest?.workspaces.length ?? null,
          skipped:
            manifest?.workspaces.filter((workspace) => workspace.home === null).length ?? null,
        } satisfies ServerBackups['backups'][number];
      }),
    );
    return {
      cron: cron ?? null,
      next: this.clock?.nextRun()?.toISOString() ?? null,
      dir,
      keep,
      writing: await this.deps.jobs.busy(SUBJECT),
      backups,
    };
  }

  /** Queues the backup due at `due`, unless a replica already has. */
  async queue(due: Date): Promise<void> {
    const { db, jobs: queue } = this.deps;
    const queued = await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${SCHEDULE_LOCK_KEY})`);
      const [found] = await tx
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.kind, 'backup'), sql`${jobs.payload}->>'due' = ${due.toISOString()}`));
      if (found) return false;
      await queue.insert(tx, 'backup', SUBJECT, { due: due.toISOString() });
      return true;
    });
    if (queued) await queue.announce(SUBJECT);
  }

  /** Writes the backup due at `due` (again from the start if a replica died writing it). */
  private async write(due: Date): Promise<void> {
    const { config, db, workspaces, audit, logger } = this.deps;
    const schedule = config.backups;
    const name = backupFolderName(due);
    const dir = join(schedule.dir, name);
    if (existsSync(join(dir, MANIFEST))) return;
    await mkdir(schedule.dir, { recursive: true, mode: 0o700 });
    await rm(dir, { recursive: true, force: true });
    const started = Date.now();
    try {
      const { manifest, bytes } = await writeBackup(
        dir,
        {
          server: config.publicUrl.href,
          database: () => dumpDatabase(db, config.secret, new Date()),
          home: async (id) => {
            try {
              return await workspaces.exportHome(id);
            } catch (error) {
              // A driver that cannot read homes yet, or a workspace still being created (or
              // deleted) with no home on the engine: the rest of the backup still counts.
              if (
                error instanceof RuntimeError &&
                ['unavailable', 'not_found'].includes(error.code)
              )
                throw new HomeUnavailable(error.message);
              throw error;
            }
          },
        },
        {
          update: () => {},
          done: (text) => logger.debug({ backup: name }, text),
        },
      );
      const skipped = manifest.workspaces.filter((workspace) => workspace.home === null);
      const removed = await pruneBackups(schedule.dir, schedule.keep);
      await audit.record({
        actorId: null,
        action: 'backup.written',
        data: {
          folder: name,
          bytes,
          workspaces: manifest.workspaces.length,
          skipped: skipped.map((workspace) => workspace.id),
          removed,
          seconds: Math.round((Date.now() - started) / 100) / 10,
        },
      });
      logger.info(
        { backup: dir, bytes, workspaces: manifest.workspaces.length, removed },
        'scheduled backup written',
      );
    } catch (error) {
      await audit.record({
        actorId: null,
        action: 'backup.failed',
        data: { folder: name, message: error instanceof Error ? error.message : String(error) },
      });
      throw error;
    }
  }
}
