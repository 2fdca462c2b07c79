import { rateLimits, type Database } from '@studio/db';
import { eq, lt, sql } from 'drizzle-orm';
import { rowsOf } from '../sql-results.ts';

/**
 * Fixed-window counters per key, in the database: every replica counts the same attempts, so a
 * limit holds however many servers answer (five replicas do not allow five times the guesses).
 */
export class RateLimiter {
  constructor(
    private readonly db: Database,
    /** Keeps this limiter's keys apart from another's (`sign-in:…` per address and per account). */
    private readonly name: string,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one attempt for `key`; returns the ms to wait when the key is over its limit, else 0. */
  async hit(key: string): Promise<number> {
    const now = this.now();
    const at = new Date(now).toISOString();
    const resetAt = new Date(now + this.windowMs).toISOString();
    const result = await this.db.execute(sql`
      insert into rate_limits (key, count, reset_at)
      values (${this.keyOf(key)}, 1, ${resetAt}::timestamptz)
      on conflict (key) do update set
        count = case when rate_limits.reset_at <= ${at}::timestamptz then 1
                     else rate_limits.count + 1 end,
        reset_at = case when rate_limits.reset_at <= ${at}::timestamptz then excluded.reset_at
                        else rate_limits.reset_at end
      returning count, reset_at`);
    const [row] = rowsOf<{ count: number | string; reset_at: string | Date }>(result);
    if (!row) return 0;
    if (Math.random() < 0.01) void this.prune(now);
    return Number(row.count) > this.limit ? new Date(row.reset_at).getTime() - now : 0;
  }

  /** Forgets `key` (e.g. after a successful sign-in). */
  async reset(key: string): Promise<void> {
    await this.db.delete(rateLimits).where(eq(rateLimits.key, this.keyOf(key)));
  }

  private keyOf(key: string): string {
    return `${this.name}:${key}`;
  }

  /** Bounded table: windows that ended are dropped now and then. */
  private async prune(now: number): Promise<void> {
    await this.db
      .delete(rateLimits)
      .where(lt(rateLimits.resetAt, new Date(now)))
      .catch(() => {});
  }
}
