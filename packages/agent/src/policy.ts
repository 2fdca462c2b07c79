import type { PolicyDecision, PolicyRule } from '@studio/protocol';
import type { ToolKind } from './tools/tool.ts';

/** What applies when no rule matches: reads run, changes and commands ask, the network is off. */
export const DEFAULT_DECISIONS: Record<ToolKind, PolicyDecision> = {
  read: 'allow',
  write: 'ask',
  exec: 'ask',
  network: 'deny',
};

/**
 * Decide one call. The most specific matching rule wins: a workspace's rule over a global one,
 * a named tool over `*`, a pattern over none, a longer pattern over a shorter one; at equal
 * specificity the stricter decision wins (deny over ask over allow).
 */
export function decide(
  rules: readonly PolicyRule[],
  call: { tool: string; kind: ToolKind; subject: string; workspace: string },
): PolicyDecision {
  let best: { rank: number[]; decision: PolicyDecision } | null = null;
  for (const rule of rules) {
    if (rule.tool !== '*' && rule.tool !== call.tool) continue;
    if (rule.workspace !== undefined && rule.workspace !== call.workspace) continue;
    if (rule.pattern !== undefined && !globMatches(rule.pattern, call.subject)) continue;
    const rank = [
      rule.workspace !== undefined ? 1 : 0,
      rule.tool !== '*' ? 1 : 0,
      rule.pattern !== undefined ? 1 : 0,
      rule.pattern?.length ?? 0,
      STRICTNESS[rule.decision],
    ];
    if (!best || compare(rank, best.rank) > 0) best = { rank, decision: rule.decision };
  }
  return best?.decision ?? DEFAULT_DECISIONS[call.kind];
}

const STRICTNESS: Record<PolicyDecision, number> = { allow: 0, ask: 1, deny: 2 };

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** `*` matches any run of characters (newlines too); everything else is literal. The whole subject must match. */
export function globMatches(pattern: string, subject: string): boolean {
  const source = pattern
    .split('*')
    .map((piece) => piece.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s\\S]*');
  return new RegExp(`^${source}$`).test(subject);
}
