import { DEFAULT_DECISIONS, BUILTIN_TOOLS } from '@studio/agent';
import { schema, type Database } from '@studio/db';
import {
  policyRuleSchema,
  type Policy,
  type PolicyDecision,
  type PolicyRule,
} from '@studio/protocol';
import { eq } from 'drizzle-orm';
import { z } from 'zod';

const { aiPolicies } = schema;
const storedRules = z.array(policyRuleSchema);

/** Each person's agent permission rules; the defaults apply where no rule matches. */
export class PolicyStore {
  constructor(private readonly db: Database) {}

  async rules(userId: string): Promise<PolicyRule[]> {
    const [row] = await this.db.select().from(aiPolicies).where(eq(aiPolicies.userId, userId));
    // A rule written by an older server that no longer parses is dropped rather than trusted.
    const parsed = storedRules.safeParse(row?.rules ?? []);
    return parsed.success ? parsed.data : [];
  }

  async policy(userId: string): Promise<Policy> {
    return { rules: await this.rules(userId), defaults: defaultsByTool() };
  }

  async replace(userId: string, rules: PolicyRule[]): Promise<Policy> {
    await this.db
      .insert(aiPolicies)
      .values({ userId, rules })
      .onConflictDoUpdate({ target: aiPolicies.userId, set: { rules } });
    return this.policy(userId);
  }

  /** "Always allow this in this workspace": an exact-subject rule, added once. */
  async remember(userId: string, rule: PolicyRule): Promise<void> {
    const rules = await this.rules(userId);
    const same = (other: PolicyRule) =>
      other.tool === rule.tool &&
      other.pattern === rule.pattern &&
      other.workspace === rule.workspace;
    await this.replace(userId, [...rules.filter((other) => !same(other)), rule]);
  }
}

function defaultsByTool(): Record<string, PolicyDecision> {
  return Object.fromEntries(BUILTIN_TOOLS.map((tool) => [tool.name, DEFAULT_DECISIONS[tool.kind]]));
}

/** A glob matching exactly `subject` (its `*` would otherwise match anything). */
export function exactPattern(subject: string): string | null {
  return subject.includes('*') ? null : subject;
}
