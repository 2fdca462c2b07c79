import { jobs, type Database, type DatabaseBus } from '@studio/db';
import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { isUniqueViolation } from '../errors.ts';
import { rowsOf } from '../sql-results.ts';

/** A job as its row holds it. */
export type JobRow = typeof jobs.$inferSelect;

/** What runs a kind of job. It must be safe to run again: a job whose server died is re-run. */
export type JobHandler = (payload: Record<string, unknown>, job: JobRow) => Promise<void>;

/** Channel of "a job was queued". */
const CHANNEL = 'studio_jobs';
const DEFAULT_LEASE_MS = 10_000;
/** Jobs one replica runs at once (image builds wait on the engine, not on this process). */
const CONCURRENCY = 16;
/** Finished jobs are kept this long, for the record, then pruned. */
const KEEP_FINISHED_MS = 24 * 3_600_000;
/** How long a closing server waits for its running jobs. */
const CLOSE_GRACE_MS = 10_000;

/** What the queue needs. */
export interface JobQueueDeps {
  db: Database;
  bus: DatabaseBus;
  logger: FastifyBaseLogger;
  replicaId: string;
  leaseMs?: number;
}

/**
 * Long work in the database, claimed with `FOR UPDATE SKIP LOCKED` under a lease by one replica
 * at a time: a job whose replica died is re-run by another once its lease lapses (only then), and
 * at most one job per subject runs across all replicas (a unique index says so), so the steps of
 * one workspace never overlap wherever they are asked for. Works the same on PGlite.
 */
export class JobQueue {
  private readonly db: Database;
  private readonly bus: DatabaseBus;
  private readonly log: FastifyBaseLogger;
  private readonly replicaId: string;
  private readonly leaseMs: number;
  private readonly handlers = new Map<string, JobHandler>();
  /** The jobs this replica runs now, and what they will resolve with. */
  private readonly running = new Map<number, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private stopListening: (() => Promise<void>) | null = null;
  private claiming: Promise<void> | null = null;
  private claimAgain = false;
  private closed = false;
  private started = false;

  constructor(deps: JobQueueDeps) {
    this.db = deps.db;
    this.bus = deps.bus;
    this.log = deps.logger;
    this.replicaId = deps.replicaId;
    this.leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** The handler of one kind of job. */
  handle(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Claims and runs jobs from now on: queued ones, and running ones whose lease lapsed. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopListening = await this.bus.subscribe(CHANNEL, () => this.wake());
    this.timer = setInterval(
      () => {
        this.renew().catch((error: unknown) =>
          this.log.warn({ err: error }, 'renewing job leases'),
        );
        this.wake();
      },
      Math.max(200, Math.floor(this.leaseMs / 3)),
    );
    this.timer.unref();
    this.wake();
  }

  /**
   * Stops claiming, and gives the jobs running here a while to finish; one still running after
   * that is re-run elsewhere once its lease lapses (steps are safe to run again).
   */
  async close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.stopListening?.().catch(() => {});
    await Promise.race([
      Promise.allSettled([...this.running.values()]),
      new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
    ]);
  }

  /** Queues a job for `subject`; it runs after the subject's earlier jobs, on some replica. */
  async enqueue(kind: string, subject: string, payload: Record<string, unknown> = {}) {
    await this.insert(this.db, kind, subject, payload);
    await this.announce(subject);
  }

  /**
   * Queues a job inside the caller's transaction (`tx`), so it exists exactly when what it works
   * on does; call `announce` once the transaction committed.
   */
  async insert(
    tx: Pick<Database, 'insert'>,
    kind: string,
    subject: string,
    payload: Record<string, unknown>,
  ): Promise<void> {
    await tx.insert(jobs).values({ kind, subject, payload, state: 'queued' });
  }

  /** Tells every replica (this one first) that `subject` has a job waiting. */
  async announce(subject: string): Promise<void> {
    this.wake();
    await this.bus.publish(CHANNEL, subject).catch(() => {});
  }

  /** Resolves once `subject` has no queued or running job (tests, and `--wait` in the CLI). */
  async settled(subject: string): Promise<void> {
    for (;;) {
      const pending = await this.db
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.subject, subject), inArray(jobs.state, ['queued', 'running'])));
      if (pending.length === 0) return;
      await Promise.allSettled(pending.map((job) => this.running.get(job.id)));
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Whether `subject` has work queued or running (on any replica). */
  async busy(subject: string): Promise<boolean> {
    const pending = await this.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.subject, subject), inArray(jobs.state, ['queued', 'running'])))
      .limit(1);
    return pending.length > 0;
  }

  /** Records the latest step of job `id`, which this replica runs, for people watching it. */
  async progress(id: number, step: string): Promise<void> {
    await this.db
      .update(jobs)
      .set({ progress: step.slice(0, 1_000) })
      .where(and(eq(jobs.id, id), eq(jobs.holder, this.replicaId)))
      .catch((failure: unknown) => this.log.warn({ err: failure, job: id }, 'job progress'));
  }

  /** Whether this replica runs a job of `subject` right now. */
  runsHere(subject: string): boolean {
    return [...this.runningSubjects.values()].includes(subject);
  }

  private readonly runningSubjects = new Map<number, string>();

  private wake(): void {
    if (this.closed || !this.started) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = this.claimLoop()
      .catch((error: unknown) => this.log.warn({ err: error }, 'claiming jobs failed'))
      .finally(() => {
        this.claiming = null;
        if (this.claimAgain) {
          this.claimAgain = false;
          this.wake();
        }
      });
  }

  private async claimLoop(): Promise<void> {
    while (!this.closed && this.running.size < CONCURRENCY) {
      const job = await this.claim();
      if (!job) return;
      const handler = this.handlers.get(job.kind);
      this.runningSubjects.set(job.id, job.subject);
      const run = (
        handler
          ? handler(job.payload, job)
          : Promise.reject(new Error(`no handler for ${job.kind}`))
      )
        .then(
          () => this.finish(job.id, 'done', null),
          (error: unknown) => {
            this.log.error({ err: error, job: job.id, kind: job.kind }, 'job failed');
            return this.finish(
              job.id,
              'failed',
              error instanceof Error ? error.message : String(error),
            );
          },
        )
        .finally(() => {
          this.running.delete(job.id);
          this.runningSubjects.delete(job.id);
          this.wake();
        });
      this.running.set(job.id, run);
    }
  }

  /**
   * Takes one job: a running one whose lease lapsed first (its replica died), else a queued job
   * with no earlier unfinished job of its subject (so a subject's jobs run in order, one at a
   * time). The unique index on running subjects settles a race between replicas: the loser gets
   * nothing this time.
   */
  private async claim(): Promise<JobRow | null> {
    const lease = new Date(Date.now() + this.leaseMs).toISOString();
    // Only kinds this replica knows: during a rolling upgrade a newer one may queue new kinds.
    const kinds = [...this.handlers.keys()];
    if (kinds.length === 0) return null;
    try {
      const result = await this.db.execute(sql`
        update jobs set state = 'running', holder = ${this.replicaId},
          lease_until = ${lease}::timestamptz, attempts = attempts + 1
        where id = (
          select j.id from jobs j
          where j.kind in (${sql.join(
            kinds.map((kind) => sql`${kind}`),
            sql`, `,
          )})
            and ((j.state = 'running' and j.lease_until < now())
              or (j.state = 'queued' and not exists (
                   select 1 from jobs e
                   where e.subject = j.subject and e.id < j.id
                     and e.state in ('queued', 'running'))))
          order by (j.state = 'running') desc, j.id
          limit 1
          for update skip locked
        )
        returning id`);
      const id = rowsOf<{ id: number | string }>(result)[0]?.id;
      if (id === undefined) return null;
      const [job] = await this.db
        .select()
        .from(jobs)
        .where(eq(jobs.id, Number(id)));
      return job ?? null;
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  private async renew(): Promise<void> {
    const mine = [...this.running.keys()];
    if (mine.length > 0)
      await this.db
        .update(jobs)
        .set({ leaseUntil: new Date(Date.now() + this.leaseMs) })
        .where(and(inArray(jobs.id, mine), eq(jobs.holder, this.replicaId)));
    await this.db
      .delete(jobs)
      .where(
        and(
          inArray(jobs.state, ['done', 'failed']),
          lt(jobs.finishedAt, new Date(Date.now() - KEEP_FINISHED_MS)),
        ),
      );
  }

  private async finish(id: number, state: 'done' | 'failed', error: string | null): Promise<void> {
    await this.db
      .update(jobs)
      .set({ state, error, finishedAt: new Date(), holder: null, leaseUntil: null })
      .where(and(eq(jobs.id, id), eq(jobs.holder, this.replicaId)))
      .catch((failure: unknown) => this.log.warn({ err: failure, job: id }, 'finishing a job'));
  }
}
