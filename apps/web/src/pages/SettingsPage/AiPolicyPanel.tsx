import type { Policy, PolicyDecision } from '@studio/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { aiPolicyQueryOptions, saveAiPolicy } from '../../api/ai-settings.ts';
import { queryKeys } from '../../api/query-keys.ts';
import { Alert } from '../../components/Alert.tsx';
import { Badge, type BadgeTone } from '../../components/Badge.tsx';
import { Button } from '../../components/Button.tsx';
import { InlineSelect } from '../../components/Field.tsx';
import { Loading } from '../../components/Spinner.tsx';
import { TableHead } from '../../components/TableHead.tsx';
import { useToast } from '../../components/Toaster.tsx';
import { AGENT_TOOLS, ruleDraftFrom, ruleFromDraft, type RuleDraft } from './ai-settings-form.ts';

const DECISIONS: { value: PolicyDecision; label: string; tone: BadgeTone }[] = [
  { value: 'allow', label: 'Allow', tone: 'success' },
  { value: 'ask', label: 'Ask', tone: 'warning' },
  { value: 'deny', label: 'Deny', tone: 'danger' },
];

function DecisionBadge({ decision }: { decision: PolicyDecision }) {
  const { label, tone } = DECISIONS.find((item) => item.value === decision) ?? DECISIONS[1]!;
  return <Badge tone={tone}>{label}</Badge>;
}

const INPUT =
  'h-8 w-full min-w-0 rounded-md border border-line-strong bg-surface px-2.5 font-mono text-[13px] text-fg shadow-xs placeholder:font-sans placeholder:text-muted/70';

const NEW_RULE: RuleDraft = { tool: 'run_command', pattern: '', decision: 'allow', workspace: '' };

function PolicyForm({ policy }: { policy: Policy }) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [rules, setRules] = useState<RuleDraft[]>(() => policy.rules.map(ruleDraftFrom));
  const tools = [...new Set(['*', ...AGENT_TOOLS, ...Object.keys(policy.defaults)])];
  const save = useMutation({
    mutationFn: () => saveAiPolicy(rules.map(ruleFromDraft)),
    onSuccess: (saved) => {
      queryClient.setQueryData(queryKeys.aiPolicy(), saved);
      toast('Agent permissions saved.');
    },
  });
  const change = (index: number, patch: Partial<RuleDraft>) =>
    setRules(rules.map((rule, i) => (i === index ? { ...rule, ...patch } : rule)));

  return (
    <div className="space-y-4">
      <details className="rounded-md border border-line">
        <summary className="cursor-pointer px-4 py-2 text-[13px] font-medium text-fg">
          Defaults when no rule matches
        </summary>
        <dl className="grid grid-cols-[repeat(auto-fill,minmax(11rem,1fr))] gap-x-4 gap-y-1.5 border-t border-line px-4 py-3">
          {Object.entries(policy.defaults).map(([tool, decision]) => (
            <div key={tool} className="flex items-center justify-between gap-2">
              <dt className="font-mono text-[13px] text-muted">{tool}</dt>
              <dd>
                <DecisionBadge decision={decision} />
              </dd>
            </div>
          ))}
        </dl>
      </details>

      <form
        aria-label="Your agent rules"
        className="space-y-3"
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        {rules.length === 0 ? (
          <p className="text-[13px] text-muted">
            No rules of yours: the defaults apply. A rule decides for one tool (or every tool,{' '}
            <code className="font-mono">*</code>) when its subject — the command, path or URL —
            matches a pattern (<code className="font-mono">*</code> is any text).
          </p>
        ) : (
          <div className="overflow-x-auto rounded-md border border-line">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Your agent rules</caption>
              <TableHead columns={['Tool', 'Pattern', 'Decision', 'Workspace']} compact />
              <tbody className="divide-y divide-line">
                {rules.map((rule, index) => {
                  const n = index + 1;
                  return (
                    <tr key={index}>
                      <td className="px-4 py-2">
                        <InlineSelect
                          aria-label={`Tool of rule ${n}`}
                          value={rule.tool}
                          onChange={(event) => change(index, { tool: event.target.value })}
                        >
                          {(tools.includes(rule.tool) ? tools : [rule.tool, ...tools]).map(
                            (tool) => (
                              <option key={tool} value={tool}>
                                {tool === '*' ? 'Every tool (*)' : tool}
                              </option>
                            ),
                          )}
                        </InlineSelect>
                      </td>
                      <td className="px-4 py-2">
                        <input
                          aria-label={`Pattern of rule ${n}`}
                          className={INPUT}
                          placeholder="anything"
                          spellCheck={false}
                          autoComplete="off"
                          value={rule.pattern}
                          onChange={(event) => change(index, { pattern: event.target.value })}
                        />
                      </td>
                      <td className="px-4 py-2">
                        <InlineSelect
                          aria-label={`Decision of rule ${n}`}
                          value={rule.decision}
                          onChange={(event) =>
                            change(index, { decision: event.target.value as PolicyDecision })
                          }
                        >
                          {DECISIONS.map((decision) => (
                            <option key={decision.value} value={decision.value}>
                              {decision.label}
                            </option>
                          ))}
                        </InlineSelect>
                      </td>
                      <td className="px-4 py-2">
                        <input
                          aria-label={`Workspace of rule ${n}`}
                          className={INPUT}
                          placeholder="all"
                          spellCheck={false}
                          autoComplete="off"
                          value={rule.workspace}
                          onChange={(event) => change(index, { workspace: event.target.value })}
                        />
                      </td>
                      <td className="px-4 py-2 text-right">
                        <Button
                          size="sm"
                          variant="ghost"
                          aria-label={`Remove rule ${n}`}
                          onClick={() => setRules(rules.filter((_, i) => i !== index))}
                        >
                          Remove
                        </Button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {save.error ? <Alert tone="error">{save.error.message}</Alert> : null}
        <div className="flex justify-end gap-2">
          <Button onClick={() => setRules([...rules, NEW_RULE])}>Add rule</Button>
          <Button type="submit" variant="primary" pending={save.isPending}>
            Save permissions
          </Button>
        </div>
      </form>
    </div>
  );
}

/** What the agent may do without asking: the defaults per tool and the person's own rules. */
export function AiPolicyPanel() {
  const policy = useQuery(aiPolicyQueryOptions());
  if (policy.isPending) return <Loading label="Loading agent permissions…" />;
  if (policy.isError) return <Alert tone="error">{policy.error.message}</Alert>;
  return <PolicyForm key={JSON.stringify(policy.data.rules)} policy={policy.data} />;
}
