import { randomUUID } from 'node:crypto';
import type { ApprovalAnswer } from '@studio/agent';
import type { RunEvent } from '@studio/protocol';
import { AppError } from '../errors.ts';

type Unnumbered<E> = E extends unknown ? Omit<E, 'seq'> : never;
/** A run event before it gets its number. */
export type NewRunEvent = Unnumbered<RunEvent>;

/** An approval card waiting for its answer. */
interface PendingApproval {
  tool: string;
  subject: string;
  resolve(answer: ApprovalAnswer): void;
}

/** How long a finished run's events stay, so a reloading page can still read how it ended. */
const KEEP_ENDED_MS = 5 * 60_000;

/**
 * One agent run: its events in order (replayed to late subscribers), its open approval cards,
 * and the switch that stops it. Lives in this server's memory while it runs.
 */
export class Run {
  readonly id = randomUUID();
  readonly controller = new AbortController();
  private readonly events: RunEvent[] = [];
  private readonly listeners = new Set<(event: RunEvent) => void>();
  private readonly approvals = new Map<string, PendingApproval>();
  /** Messages the person sent while the run works, not yet read by the model. */
  private notes: string[] = [];
  /** Set while paused: the next step waits for it to resolve. */
  private resumed: { promise: Promise<void>; resolve(): void } | null = null;
  ended = false;

  constructor(
    readonly userId: string,
    readonly conversationId: string,
    /** Null for Mission Control's main agent, which works in no workspace. */
    readonly workspace: { id: string; name: string } | null,
  ) {
    // Stop while paused: nothing may keep waiting for a resume that never comes.
    this.controller.signal.addEventListener('abort', () => this.resume(), { once: true });
  }

  get paused(): boolean {
    return this.resumed !== null;
  }

  /** A message for the model, read at its next step. */
  say(text: string): void {
    if (this.ended) throw new AppError('conflict', 'the run has ended; send a new message instead');
    this.notes.push(text);
  }

  /** The messages sent since the last call. */
  takeNotes(): string[] {
    const taken = this.notes;
    this.notes = [];
    return taken;
  }

  /** The run finishes the step it is in, then waits for `resume`. */
  pause(): void {
    if (this.ended) throw new AppError('conflict', 'the run has ended');
    if (this.resumed) return;
    let resolve = () => {};
    const promise = new Promise<void>((done) => (resolve = done));
    this.resumed = { promise, resolve };
    this.push({ type: 'paused', paused: true });
  }

  resume(): void {
    if (!this.resumed) return;
    this.resumed.resolve();
    this.resumed = null;
    this.push({ type: 'paused', paused: false });
  }

  /** Resolves at once, or when a paused run is resumed (or stopped). */
  untilResumed(): Promise<void> {
    return this.resumed?.promise ?? Promise.resolve();
  }

  push(event: NewRunEvent): void {
    if (this.ended) return;
    const numbered = { ...event, seq: this.events.length } as RunEvent;
    this.events.push(numbered);
    if (numbered.type === 'end') this.ended = true;
    for (const listener of this.listeners) listener(numbered);
  }

  /** Replays the events after `after`, then calls `listener` with each new one; returns the unsubscribe. */
  subscribe(after: number, listener: (event: RunEvent) => void): () => void {
    for (const event of this.events.slice(after + 1)) listener(event);
    if (this.ended) return () => undefined;
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits for the person's answer to an approval card (the run's abort rejects it elsewhere). */
  waitForApproval(callId: string, tool: string, subject: string): Promise<ApprovalAnswer> {
    return new Promise((resolve) => this.approvals.set(callId, { tool, subject, resolve }));
  }

  /** Answers an open card; the tool and subject come back for "always allow". */
  answer(callId: string, answer: ApprovalAnswer): { tool: string; subject: string } {
    const pending = this.approvals.get(callId);
    if (!pending) throw new AppError('not_found', `no approval is waiting for call ${callId}`);
    this.approvals.delete(callId);
    pending.resolve(answer);
    return pending;
  }
}

/** The runs of this server, by id and by conversation. */
export class RunRegistry {
  private readonly runs = new Map<string, Run>();

  start(
    userId: string,
    conversationId: string,
    workspace: { id: string; name: string } | null,
  ): Run {
    if (this.activeIn(conversationId))
      throw new AppError(
        'run_busy',
        'the assistant is still answering in this conversation; stop it or wait',
      );
    const run = new Run(userId, conversationId, workspace);
    this.runs.set(run.id, run);
    return run;
  }

  /** Forget a finished run after a while. */
  finish(run: Run): void {
    setTimeout(() => this.runs.delete(run.id), KEEP_ENDED_MS).unref();
  }

  /** The caller's run; anyone else's is `not_found`. */
  get(userId: string, id: string): Run {
    const run = this.runs.get(id);
    if (!run || run.userId !== userId) throw new AppError('not_found', `no run ${id}`);
    return run;
  }

  activeIn(conversationId: string): Run | null {
    for (const run of this.runs.values())
      if (run.conversationId === conversationId && !run.ended) return run;
    return null;
  }

  /** Stops every run of a person (disabled by an admin); answers how many were running. */
  stopUser(userId: string): number {
    let stopped = 0;
    for (const run of this.runs.values())
      if (run.userId === userId && !run.ended) {
        run.controller.abort();
        stopped++;
      }
    return stopped;
  }

  /** Stops every run (server shutdown). */
  stopAll(): void {
    for (const run of this.runs.values()) run.controller.abort();
  }
}
