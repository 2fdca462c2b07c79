import { schema, type Database } from '@studio/db';
import { and, eq, sql } from 'drizzle-orm';

const { aiUsage } = schema;

/** Tokens and dollars per person and month, for the monthly budget. */
export class UsageLedger {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date,
  ) {}

  async spentThisMonth(userId: string): Promise<number> {
    const [row] = await this.db
      .select({ costUsd: aiUsage.costUsd })
      .from(aiUsage)
      .where(and(eq(aiUsage.userId, userId), eq(aiUsage.month, this.month())));
    return row?.costUsd ?? 0;
  }

  async add(
    userId: string,
    usage: { inputTokens: number; outputTokens: number; costUsd: number },
  ): Promise<void> {
    await this.db
      .insert(aiUsage)
      .values({ userId, month: this.month(), ...usage, runs: 1 })
      .onConflictDoUpdate({
        target: [aiUsage.userId, aiUsage.month],
        set: {
          inputTokens: sql`${aiUsage.inputTokens} + ${usage.inputTokens}`,
          outputTokens: sql`${aiUsage.outputTokens} + ${usage.outputTokens}`,
          costUsd: sql`${aiUsage.costUsd} + ${usage.costUsd}`,
          runs: sql`${aiUsage.runs} + 1`,
        },
      });
  }

  private month(): string {
    return this.now().toISOString().slice(0, 7);
  }
}
