import { randomUUID } from 'node:crypto';
import type { ApprovalAnswer } from '@studio/agent';
import {
  aiRunEvents,
  aiRunInputs,
  aiRunMessages,
  aiRuns,
  type Database,
  type DatabaseBus,
} from '@studio/db';
import { applyRunEvent, type MessagePart, type RunEvent } from '@studio/protocol';
import { and, asc, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { affectedRows, rowsOf } from '../sql-results.ts';
import { AppError, isUniqueViolation } from '../errors.ts';

type Unnumbered<E> = E extends unknown ? Omit<E, 'seq'> : never;
/** A run event before it gets its number. */
export type NewRunEvent = Unnumbered<RunEvent>;

/** A run as its row holds it. */
export type RunRow = typeof aiRuns.$inferSelect;

/** Channel of "run R has events up to S" (`R S`). */
const EVENTS_CHANNEL = 'studio_run_events';
/** Channel of "run R was told something" (stop, pause, resume, a note, an answer): `R kind`. */
const CONTROL_CHANNEL = 'studio_run_control';
/** A run's driver renews its lease this often; another server takes it over once it lapses. */
const DEFAULT_LEASE_MS = 6_000;
/** While waiting for an answer or a resume, the driver also looks itself, in case a message is lost. */
const POLL_MS = 1_000;

/** What the run service needs. */
export interface RunServiceDeps {
  db: Database;
  bus: DatabaseBus;
  logger: FastifyBaseLogger;
  /** This server among the replicas sharing the database. */
  replicaId: string;
  leaseMs?: number;
}

/**
 * Agent runs in the database, so any replica serves any request about them: their events (read
 * by sequence number, new ones announced over LISTEN/NOTIFY), the messages and approval answers
 * people send, pause and stop. One replica drives a run at a time under a lease; when it dies,
 * another takes the lease and resumes the run (`onTakeover`) from its last completed step.
 * Memory holds only the runs this replica drives and the followers it serves.
 */
export class RunService {
  readonly replicaId: string;
  private readonly db: Database;
  private readonly bus: DatabaseBus;
  private readonly log: FastifyBaseLogger;
  private readonly leaseMs: number;
  private readonly driving = new Map<string, DrivenRun>();
  private readonly followers = new Map<string, Set<Follower>>();
  private readonly stops: Array<() => Promise<void>> = [];
  private timer: NodeJS.Timeout | null = null;
  private takeover: ((row: RunRow) => Promise<void>) | null = null;
  private closing = false;

  constructor(deps: RunServiceDeps) {
    this.db = deps.db;
    this.bus = deps.bus;
    this.log = deps.logger;
    this.replicaId = deps.replicaId;
    this.leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** Listens for run messages, renews leases and takes over runs whose driver is gone. */
  async startBackground(takeover: (row: RunRow) => Promise<void>): Promise<void> {
    this.takeover = takeover;
    this.stops.push(
      await this.bus.subscribe(EVENTS_CHANNEL, (payload) => {
        const [runId = '', seq = ''] = payload.split(' ');
        for (const follower of this.followers.get(runId) ?? []) follower.wake(Number(seq));
      }),
      await this.bus.subscribe(CONTROL_CHANNEL, (payload) => {
        const [runId = '', kind = ''] = payload.split(' ');
        this.driving.get(runId)?.onControl(kind);
      }),
    );
    const tick = () => {
      void this.tick().catch((error: unknown) =>
        this.log.warn({ err: error }, 'run leases: renewing or taking over failed'),
      );
    };
    this.timer = setInterval(tick, Math.max(200, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
    tick();
  }

  /**
   * Stops driving without ending anything: the leases lapse at once, so another server (or this
   * one, restarted) takes the runs over and resumes them.
   */
  async close(): Promise<void> {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    const ids = [...this.driving.keys()];
    for (const run of this.driving.values()) run.relinquish();
    this.driving.clear();
    if (ids.length)
      await this.db
        .update(aiRuns)
        .set({ leaseUntil: new Date(0), holder: null })
        .where(and(inArray(aiRuns.id, ids), eq(aiRuns.holder, this.replicaId)))
        .catch(() => {});
    for (const stop of this.stops.splice(0)) await stop().catch(() => {});
  }

  /** Starts a run driven here; `run_busy` when the conversation already has one, anywhere. */
  async start(input: {
    userId: string;
    conversationId: string;
    workspace: { id: string; name: string } | null;
    mode: 'chat' | 'agent';
    start: Record<string, unknown>;
  }): Promise<DrivenRun> {
    const id = randomUUID();
    try {
      await this.db.insert(aiRuns).values({
        id,
        userId: input.userId,
        conversationId: input.conversationId,
        workspaceId: input.workspace?.id ?? null,
        mode: input.mode,
        state: 'running',
        holder: this.replicaId,
        leaseUntil: this.leaseEnd(),
        start: input.start,
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new AppError(
          'run_busy',
          'the assistant is still answering in this conversation; stop it or wait',
        );
      throw error;
    }
    const [row] = await this.db.select().from(aiRuns).where(eq(aiRuns.id, id));
    return this.drive(row!, 0, []);
  }

  /**
   * A run this replica now drives (started here, or taken over), numbering events from `nextSeq`
   * and storing model messages after the `storedMessages` already stored.
   */
  drive(row: RunRow, nextSeq: number, parts: MessagePart[], storedMessages = 0): DrivenRun {
    const run = new DrivenRun(row, nextSeq, parts, storedMessages, {
      db: this.db,
      bus: this.bus,
      replicaId: this.replicaId,
      log: this.log,
      leaseEnd: () => this.leaseEnd(),
      forget: () => this.driving.delete(row.id),
      written: (events) => {
        for (const follower of this.followers.get(row.id) ?? []) follower.deliver(events);
      },
    });
    this.driving.set(row.id, run);
    return run;
  }

  /** The caller's run; anyone else's is `not_found`. */
  async get(userId: string, id: string): Promise<RunRow> {
    const [row] = await this.db.select().from(aiRuns).where(eq(aiRuns.id, id));
    if (!row || row.userId !== userId) throw new AppError('not_found', `no run ${id}`);
    return row;
  }

  /** The running run of each of these conversations. */
  async activeIn(conversationIds: string[]): Promise<Map<string, string>> {
    if (conversationIds.length === 0) return new Map();
    const rows = await this.db
      .select({ id: aiRuns.id, conversationId: aiRuns.conversationId })
      .from(aiRuns)
      .where(and(inArray(aiRuns.conversationId, conversationIds), eq(aiRuns.state, 'running')));
    return new Map(rows.map((row) => [row.conversationId, row.id]));
  }

  /** The newest run of a conversation: running, or how it ended and why. */
  async latestIn(conversationId: string): Promise<{
    id: string;
    running: boolean;
    endCode: string | null;
    message: string | null;
  } | null> {
    const [row] = await this.db
      .select({ id: aiRuns.id, state: aiRuns.state, endCode: aiRuns.endCode })
      .from(aiRuns)
      .where(eq(aiRuns.conversationId, conversationId))
      .orderBy(sql`${aiRuns.createdAt} desc`)
      .limit(1);
    if (!row) return null;
    let message: string | null = null;
    if (row.state === 'ended') {
      const [last] = await this.db
        .select({ event: aiRunEvents.event })
        .from(aiRunEvents)
        .where(eq(aiRunEvents.runId, row.id))
        .orderBy(sql`${aiRunEvents.seq} desc`)
        .limit(1);
      message = typeof last?.event.message === 'string' ? last.event.message : null;
    }
    return { id: row.id, running: row.state === 'running', endCode: row.endCode, message };
  }

  /** A message for the model, read before its next step, wherever the run is driven. */
  async say(row: RunRow, text: string): Promise<void> {
    if (row.state !== 'running')
      throw new AppError('conflict', 'the run has ended; send a new message instead');
    await this.db.insert(aiRunInputs).values({ runId: row.id, kind: 'note', payload: { text } });
    await this.tell(row.id, 'input');
  }

  async pause(row: RunRow): Promise<void> {
    if (row.state !== 'running') throw new AppError('conflict', 'the run has ended');
    await this.db.update(aiRuns).set({ paused: true }).where(eq(aiRuns.id, row.id));
    await this.tell(row.id, 'pause');
  }

  async resume(row: RunRow): Promise<void> {
    if (row.state !== 'running') return;
    await this.db.update(aiRuns).set({ paused: false }).where(eq(aiRuns.id, row.id));
    await this.tell(row.id, 'resume');
  }

  /** Asks the run to stop; its driver ends it (a run whose driver is gone ends on takeover). */
  async stop(runId: string): Promise<void> {
    await this.db
      .update(aiRuns)
      .set({ stopRequested: true, paused: false })
      .where(and(eq(aiRuns.id, runId), eq(aiRuns.state, 'running')));
    await this.tell(runId, 'stop');
  }

  /** Stops the running run of a conversation, if there is one. */
  async stopIn(conversationId: string): Promise<void> {
    const running = (await this.activeIn([conversationId])).get(conversationId);
    if (running) await this.stop(running);
  }

  /** Stops every run of a person (disabled by an admin); answers how many were running. */
  async stopUser(userId: string): Promise<number> {
    const rows = await this.db
      .update(aiRuns)
      .set({ stopRequested: true, paused: false })
      .where(and(eq(aiRuns.userId, userId), eq(aiRuns.state, 'running')))
      .returning({ id: aiRuns.id });
    for (const row of rows) await this.tell(row.id, 'stop');
    return rows.length;
  }

  /** The person's answer to an approval card, delivered to whichever server drives the run. */
  async answer(row: RunRow, callId: string, answer: ApprovalAnswer): Promise<void> {
    const card = await this.openCard(row.id, callId);
    if (!card || row.state !== 'running')
      throw new AppError('not_found', `no approval is waiting for call ${callId}`);
    await this.db
      .insert(aiRunInputs)
      .values({ runId: row.id, kind: 'answer', callId, payload: { ...answer } });
    await this.tell(row.id, 'input');
  }

  /** The approval card of `callId` still waiting for an answer: its tool and subject. */
  async openCard(
    runId: string,
    callId: string,
  ): Promise<{ tool: string; input: unknown; subject: string | null } | null> {
    const events = (await this.events(runId, -1)).filter(
      (event) => 'callId' in event && event.callId === callId,
    );
    const card = events.find((event) => event.type === 'approval');
    if (!card || card.type !== 'approval') return null;
    if (events.some((event) => event.type === 'tool-result')) return null;
    const answered = await this.db
      .select({ id: aiRunInputs.id })
      .from(aiRunInputs)
      .where(
        and(
          eq(aiRunInputs.runId, runId),
          eq(aiRunInputs.kind, 'answer'),
          eq(aiRunInputs.callId, callId),
        ),
      );
    return answered.length
      ? null
      : { tool: card.tool, input: card.input, subject: card.subject ?? null };
  }

  /** The run's events after `after`, in order. */
  async events(runId: string, after: number): Promise<RunEvent[]> {
    const rows = await this.db
      .select({ seq: aiRunEvents.seq, event: aiRunEvents.event })
      .from(aiRunEvents)
      .where(and(eq(aiRunEvents.runId, runId), gt(aiRunEvents.seq, after)))
      .orderBy(asc(aiRunEvents.seq));
    return rows.map((row) => ({ ...row.event, seq: row.seq }) as RunEvent);
  }

  /**
   * Where a taken-over run goes on from: the model's messages at the start of its last step,
   * the usage until then and the last event written before it; null before its first step.
   */
  async checkpointOf(row: RunRow): Promise<RunCheckpoint | null> {
    const saved = row.checkpoint as { count: number; usage: RunUsage; seq: number } | null;
    if (!saved) return null;
    const rows = await this.db
      .select({ message: aiRunMessages.message })
      .from(aiRunMessages)
      .where(and(eq(aiRunMessages.runId, row.id), lt(aiRunMessages.idx, saved.count)))
      .orderBy(asc(aiRunMessages.idx));
    return { messages: rows.map((item) => item.message), usage: saved.usage, seq: saved.seq };
  }

  /**
   * Calls `listener` with each event after `after`, in order and once, from any replica's run,
   * until the `end` event; answers the unsubscribe.
   */
  follow(runId: string, after: number, listener: (event: RunEvent) => void): () => void {
    let last = after;
    let ended = false;
    let reading: Promise<void> | null = null;
    let again = false;
    const read = () => {
      if (ended) return;
      if (reading) {
        again = true;
        return;
      }
      reading = (async () => {
        do {
          again = false;
          for (const event of await this.events(runId, last)) {
            // Delivered straight from this replica's driver while the read was under way.
            if (event.seq <= last) continue;
            last = event.seq;
            listener(event);
            if (event.type === 'end') ended = true;
          }
        } while (again && !ended);
      })()
        .catch((error: unknown) => this.log.warn({ err: error, runId }, 'reading run events'))
        .finally(() => {
          reading = null;
          if (ended) stop();
        });
    };
    // Events this replica wrote just now come straight from its driver, with nothing to read.
    const follower: Follower = {
      wake: (seq) => {
        if (!(seq <= last)) read();
      },
      deliver: (events) => {
        if (ended) return;
        const fresh = events.filter((event) => event.seq > last);
        if (fresh.length === 0) return;
        // Something in between is not here yet: read it all in order.
        if (fresh[0]!.seq !== last + 1) return read();
        for (const event of fresh) {
          last = event.seq;
          listener(event);
          if (event.type === 'end') ended = true;
        }
        if (ended) stop();
      },
    };
    const set = this.followers.get(runId) ?? new Set();
    set.add(follower);
    this.followers.set(runId, set);
    // A notification lost to a dropped LISTEN connection is caught up within a second.
    const poll = setInterval(read, POLL_MS);
    poll.unref();
    const stop = () => {
      clearInterval(poll);
      set.delete(follower);
      if (set.size === 0) this.followers.delete(runId);
    };
    read();
    return stop;
  }

  private async tell(runId: string, kind: string): Promise<void> {
    // This replica's own driver hears it at once; the others through the bus.
    this.driving.get(runId)?.onControl(kind);
    await this.bus.publish(CONTROL_CHANNEL, `${runId} ${kind}`);
  }

  private leaseEnd(): Date {
    return new Date(Date.now() + this.leaseMs);
  }

  /** Renews this replica's leases, then takes over runs whose lease lapsed. */
  private async tick(): Promise<void> {
    if (this.closing) return;
    const mine = [...this.driving.keys()];
    if (mine.length) {
      const renewed = await this.db
        .update(aiRuns)
        .set({ leaseUntil: this.leaseEnd() })
        .where(
          and(
            inArray(aiRuns.id, mine),
            eq(aiRuns.holder, this.replicaId),
            eq(aiRuns.state, 'running'),
          ),
        )
        .returning({ id: aiRuns.id });
      const kept = new Set(renewed.map((row) => row.id));
      for (const id of mine) {
        const run = this.driving.get(id);
        // Lost (another server took it, or it ended): stop driving it here, without a word.
        if (run && !kept.has(id) && !run.ending) {
          this.log.warn({ runId: id }, 'lost the lease of a run; another server drives it now');
          run.relinquish();
        }
        // A note whose notification was lost is still taken at the next step.
        run?.onControl('input');
      }
    }
    if (!this.takeover) return;
    const claimed = await this.db.execute(sql`
      update ai_runs set holder = ${this.replicaId}, lease_until = ${this.leaseEnd().toISOString()}::timestamptz
      where id in (
        select id from ai_runs
        where state = 'running' and (lease_until is null or lease_until < now())
        order by lease_until nulls first
        limit 5
        for update skip locked
      )
      returning id`);
    for (const { id } of rowsOf<RunRowSql>(claimed)) {
      // A run this server still drives, whose lease another server had taken meanwhile: the
      // old drive stops before the new one reads the run, so only one of them runs its tools.
      this.driving.get(id)?.relinquish();
      const [row] = await this.db.select().from(aiRuns).where(eq(aiRuns.id, id));
      if (!row) continue;
      this.log.info({ runId: id }, 'taking over a run whose server stopped');
      void this.takeover(row).catch((error: unknown) =>
        this.log.error({ err: error, runId: id }, 'resuming a run failed'),
      );
    }
  }
}

type RunRowSql = { id: string };

interface DrivenRunDeps {
  db: Database;
  bus: DatabaseBus;
  replicaId: string;
  log: FastifyBaseLogger;
  /** When a lease renewed now ends. */
  leaseEnd(): Date;
  forget(): void;
  /** Events now in the database, for this replica's followers. */
  written(events: RunEvent[]): void;
}

/** One follower of a run on this replica. */
interface Follower {
  /** Another replica (or this one) wrote events up to `seq`. */
  wake(seq: number): void;
  /** This replica wrote these events just now. */
  deliver(events: RunEvent[]): void;
}

/**
 * A run this replica drives: it numbers and writes the run's events (only while it holds the
 * lease), takes the person's messages and answers, waits while paused, and stops when asked.
 */
export class DrivenRun {
  readonly id: string;
  readonly userId: string;
  readonly conversationId: string;
  readonly workspaceId: string | null;
  /** Aborted when the person stops the run, or when this replica stops driving it. */
  readonly controller = new AbortController();
  /** Set when this replica let go (lost the lease, or is shutting down): nothing more is written. */
  relinquished = false;
  /** The `end` event is on its way. */
  ending = false;
  private nextSeq: number;
  private parts: MessagePart[];
  /** Events to write, and checkpoints, which are written once the events before them are. */
  private readonly queue: Array<NewRunEvent | Checkpoint> = [];
  private writing: Promise<void> | null = null;
  private paused: boolean;
  private resumeWaiters: Array<() => void> = [];
  private readonly answerWaiters = new Map<string, (answer: ApprovalAnswer) => void>();
  private poll: NodeJS.Timeout | null = null;
  /** Whether people may have sent notes not taken yet (a new or taken-over run may have some). */
  private notesMaybe = true;

  constructor(
    row: RunRow,
    nextSeq: number,
    parts: MessagePart[],
    /** How many of the model's messages are stored already (a taken-over run's). */
    private storedMessages: number,
    private readonly deps: DrivenRunDeps,
  ) {
    this.id = row.id;
    this.userId = row.userId;
    this.conversationId = row.conversationId;
    this.workspaceId = row.workspaceId;
    this.nextSeq = nextSeq;
    this.parts = parts;
    this.paused = row.paused;
    if (row.stopRequested) this.controller.abort();
    // Stop while paused: nothing may keep waiting for a resume that never comes.
    this.controller.signal.addEventListener('abort', () => this.wakeResumers(), { once: true });
  }

  /** The assistant message so far, from every event of the run (on every replica that drove it). */
  get message(): MessagePart[] {
    return this.parts;
  }

  /** Writes an event; events of a burst (text as it streams) go in one write. */
  push(event: NewRunEvent): void {
    if (this.relinquished || this.ending) return;
    if (event.type === 'end') this.ending = true;
    this.parts = applyRunEvent(this.parts, { ...event, seq: 0 } as RunEvent);
    this.queue.push(event);
    this.writing ??= this.flush().finally(() => (this.writing = null));
  }

  /** Resolves once every pushed event is in the database. */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0 && !this.relinquished) {
      const marker = this.queue.findIndex((item) => !('type' in item));
      const taken = this.queue.splice(0, marker < 0 ? this.queue.length : marker + 1);
      const checkpoint = marker < 0 ? null : (taken.pop() as Checkpoint);
      const batch = coalesce(taken as NewRunEvent[]);
      try {
        if (batch.length > 0 && !(await this.write(batch))) return this.relinquish();
        // The step resumes from here: its events are those after the last one written so far.
        if (checkpoint && !(await this.writeCheckpoint(checkpoint))) return this.relinquish();
      } catch (error) {
        this.deps.log.error({ err: error, runId: this.id }, 'could not write run events');
        return this.relinquish();
      }
    }
  }

  /** Writes events if this replica still holds the run; answers whether it did. */
  private async write(batch: NewRunEvent[]): Promise<boolean> {
    const first = this.nextSeq;
    const rows = batch.map((event, index) => ({ seq: first + index, event }));
    // Fenced: only the lease holder's events go in, so a replica that lost the run cannot
    // interleave its events with the new holder's.
    const written = await this.deps.db.execute(sql`
      insert into ai_run_events (run_id, seq, event)
      select ${this.id}, x.seq, x.event
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(seq int, event jsonb)
      where exists (
        select 1 from ai_runs where id = ${this.id} and holder = ${this.deps.replicaId}
      )`);
    if (affectedRows(written) === 0) return false;
    this.nextSeq += rows.length;
    this.deps.written(rows.map(({ seq, event }) => ({ ...event, seq }) as RunEvent));
    await this.deps.bus.publish(EVENTS_CHANNEL, `${this.id} ${this.nextSeq - 1}`);
    return true;
  }

  /** Stores a step's new messages and where it starts, if this replica still holds the run. */
  private async writeCheckpoint({ from, messages, usage }: Checkpoint): Promise<boolean> {
    const rows = messages.map((message, index) => ({ idx: from + index, message }));
    const count = from + messages.length;
    // One statement: the checkpoint and its messages go in only while this replica holds the run
    // (a holder that died between the two left no rows past `count`: they are replaced).
    const result = await this.deps.db.execute(sql`
      with held as (
        update ai_runs set checkpoint = ${JSON.stringify({ count, usage, seq: this.nextSeq - 1 })}::jsonb
        where id = ${this.id} and holder = ${this.deps.replicaId}
        returning id
      ), stored as (
        insert into ai_run_messages (run_id, idx, message)
        select ${this.id}, x.idx, x.message
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(idx int, message jsonb)
        where exists (select 1 from held)
        on conflict (run_id, idx) do update set message = excluded.message
      )
      select count(*)::int as held from held`);
    return rowsOf<{ held: number }>(result)[0]?.held === 1;
  }

  /**
   * Answers whether a tool call may run now, just before it has any effect: once the events
   * pushed so far (its `tool-call` among them) are stored, and only if this replica still holds
   * the run, whose lease it renews. The lease can lapse while this replica is alive but starved
   * (a loaded machine) and another replica take the run over; the order makes a call run at most
   * once either way: a replica that takes the run over after this answers true finds the call
   * stored and reports it as interrupted, and one that took it before makes this answer false.
   */
  async mayExecute(): Promise<boolean> {
    await this.flushed();
    if (this.relinquished) return false;
    try {
      // Waits for a takeover under way (it locks the row), then sees its holder.
      const held = await this.deps.db
        .update(aiRuns)
        .set({ leaseUntil: this.deps.leaseEnd() })
        .where(
          and(
            eq(aiRuns.id, this.id),
            eq(aiRuns.holder, this.deps.replicaId),
            eq(aiRuns.state, 'running'),
          ),
        )
        .returning({ id: aiRuns.id });
      if (held.length === 0) {
        this.deps.log.warn({ runId: this.id }, 'lost the lease of a run before a tool call ran');
        this.relinquish();
      }
    } catch (error) {
      this.deps.log.error({ err: error, runId: this.id }, 'could not renew the lease of a run');
      this.relinquish();
    }
    return !this.relinquished;
  }

  /** Stops driving here without ending the run (another replica may take it over). */
  relinquish(): void {
    if (this.relinquished) return;
    this.relinquished = true;
    this.queue.length = 0;
    this.stopPolling();
    this.controller.abort();
    this.deps.forget();
  }

  /** Marks the run ended in the database and forgets it. */
  async finish(code: string): Promise<void> {
    await this.flushed();
    this.stopPolling();
    this.deps.forget();
    if (this.relinquished) return;
    await this.deps.db
      .update(aiRuns)
      .set({ state: 'ended', endCode: code, endedAt: new Date(), holder: null, leaseUntil: null })
      .where(and(eq(aiRuns.id, this.id), eq(aiRuns.holder, this.deps.replicaId)));
  }

  /**
   * Keeps the conversation as the model saw it at the start of a step, for a takeover: only the
   * messages after those stored at the last checkpoint are written (a conversation only grows).
   */
  checkpoint(messages: readonly Record<string, unknown>[], usage: RunUsage): void {
    if (this.relinquished || this.ending) return;
    const from = Math.min(this.storedMessages, messages.length);
    this.storedMessages = messages.length;
    this.queue.push({ from, messages: messages.slice(from), usage });
    this.writing ??= this.flush().finally(() => (this.writing = null));
  }

  /** The messages people sent since the last call, marked read. */
  async takeNotes(): Promise<string[]> {
    // Asked at every step: only when someone said something since the last time (or may have).
    if (!this.notesMaybe) return [];
    this.notesMaybe = false;
    const taken = await this.deps.db
      .update(aiRunInputs)
      .set({ takenAt: new Date() })
      .where(
        and(
          eq(aiRunInputs.runId, this.id),
          eq(aiRunInputs.kind, 'note'),
          isNull(aiRunInputs.takenAt),
        ),
      )
      .returning({ id: aiRunInputs.id, payload: aiRunInputs.payload });
    return taken.sort((a, b) => a.id - b.id).map((row) => String(row.payload.text ?? ''));
  }

  /** Resolves at once, or when a paused run is resumed (or stopped). */
  untilResumed(): Promise<void> {
    if (!this.paused || this.controller.signal.aborted) return Promise.resolve();
    this.startPolling();
    return new Promise((resolve) => this.resumeWaiters.push(resolve));
  }

  /** Waits for the person's answer to the card of `callId`, given on any replica. */
  waitForApproval(callId: string): Promise<ApprovalAnswer> {
    return new Promise((resolve) => {
      this.answerWaiters.set(callId, resolve);
      this.startPolling();
      void this.checkAnswers();
    });
  }

  /** Something was said to this run (on this replica or through the bus). */
  onControl(kind: string): void {
    if (kind === 'input') {
      this.notesMaybe = true;
      void this.checkAnswers();
    } else void this.readState();
  }

  /** Reads pause and stop from the database (the source of truth), and acts on them. */
  private async readState(): Promise<void> {
    const [row] = await this.deps.db
      .select({ paused: aiRuns.paused, stopRequested: aiRuns.stopRequested })
      .from(aiRuns)
      .where(eq(aiRuns.id, this.id));
    if (!row || this.relinquished) return;
    if (row.stopRequested && !this.controller.signal.aborted) this.controller.abort();
    if (row.paused !== this.paused) {
      this.paused = row.paused;
      this.push({ type: 'paused', paused: row.paused });
      if (!row.paused) this.wakeResumers();
    }
  }

  private async checkAnswers(): Promise<void> {
    if (this.answerWaiters.size === 0) return;
    const rows = await this.deps.db
      .update(aiRunInputs)
      .set({ takenAt: new Date() })
      .where(
        and(
          eq(aiRunInputs.runId, this.id),
          eq(aiRunInputs.kind, 'answer'),
          inArray(aiRunInputs.callId, [...this.answerWaiters.keys()]),
          isNull(aiRunInputs.takenAt),
        ),
      )
      .returning({ callId: aiRunInputs.callId, payload: aiRunInputs.payload });
    for (const row of rows) {
      const resolve = this.answerWaiters.get(row.callId ?? '');
      this.answerWaiters.delete(row.callId ?? '');
      resolve?.(row.payload as unknown as ApprovalAnswer);
    }
    if (this.answerWaiters.size === 0 && this.resumeWaiters.length === 0) this.stopPolling();
  }

  private wakeResumers(): void {
    for (const resolve of this.resumeWaiters.splice(0)) resolve();
    if (this.answerWaiters.size === 0) this.stopPolling();
  }

  private startPolling(): void {
    this.poll ??= setInterval(() => {
      void this.readState().catch(() => {});
      void this.checkAnswers().catch(() => {});
    }, POLL_MS);
    this.poll.unref();
  }

  private stopPolling(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }
}

/** A checkpoint waiting in the write queue behind the events before it. */
interface Checkpoint {
  /** The index of the first message in `messages`. */
  from: number;
  messages: Record<string, unknown>[];
  usage: RunUsage;
}

/** What a run used: tokens, dollars, model steps. */
export interface RunUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  steps: number;
}

/** Where a taken-over run goes on from. */
export interface RunCheckpoint {
  messages: Record<string, unknown>[];
  usage: RunUsage;
  seq: number;
}

/** Consecutive text deltas, and consecutive output of one tool call, as one event each. */
function coalesce(events: NewRunEvent[]): NewRunEvent[] {
  const merged: NewRunEvent[] = [];
  for (const event of events) {
    const last = merged.at(-1);
    if (last?.type === 'text' && event.type === 'text') {
      merged[merged.length - 1] = { ...last, delta: last.delta + event.delta };
    } else if (
      last?.type === 'tool-output' &&
      event.type === 'tool-output' &&
      last.callId === event.callId
    ) {
      merged[merged.length - 1] = { ...last, chunk: last.chunk + event.chunk };
    } else merged.push(event);
  }
  return merged;
}
