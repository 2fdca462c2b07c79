import {
  BUILTIN_TOOLS,
  completeCode,
  computerTool,
  decide,
  describeProviderError,
  historyMessages,
  languageModel,
  redactSecrets,
  redactValue,
  renderUserTurn,
  runAgent,
  safeFetch,
  systemPrompt,
  type AgentTool,
  type ToolCallRecord,
  type ToolDaemon,
} from '@studio/agent';
import type { Database, schema } from '@studio/db';
import {
  applyRunEvent,
  type ApprovalBody,
  type ChatMessage,
  type CollabPeer,
  type CompletionBody,
  type MessagePart,
  type PolicyRule,
  type RunEndCode,
  type RunEvent,
  type SendMessageBody,
  type Template,
} from '@studio/protocol';
import type { ModelMessage } from 'ai';
import type { FastifyBaseLogger } from 'fastify';
import type { AuditLog } from '../audit-log.ts';
import { RateLimiter } from '../auth/rate-limiter.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import type { WorkspaceService } from '../workspaces/workspace-service.ts';
import type { ConversationStore } from './conversation-store.ts';
import { exactPattern, type PolicyStore } from './policy-store.ts';
import type { AiProviderStore, Caller, ResolvedModel } from './provider-store.ts';
import type { DrivenRun, RunRow, RunService, RunUsage } from './runs.ts';
import type { UserService } from '../auth/user-service.ts';
import type { Quotas } from '../workspaces/quotas.ts';
import type { UsageLedger } from './usage.ts';

type WorkspaceRow = typeof schema.workspaces.$inferSelect;
type ConversationRow = typeof schema.aiConversations.$inferSelect;

/** The person the assistant works for. */
export interface Person extends Caller {
  name: string;
  email: string;
}

/** Mission Control's main agent: it deploys environments instead of working in one. */
export interface MainAgent {
  /** Its tools, acting for `person` (list templates, deploy, status, stop). */
  tools(person: Person): AgentTool[];
  system: string;
}

/** How a worker run differs from one the person started in the IDE. */
export interface RunOptions {
  /** Rules that apply to this run only, ahead of the person's (the desktop a deployment approved). */
  rules?: PolicyRule[];
  /** What the worker is for, added to the system prompt. */
  brief?: string;
}

/** Tools beyond the built-in ones for one agent run (the person's MCP servers); closed when the run ends. */
export interface ToolSource {
  toolsFor(
    person: Person,
    workspace: WorkspaceRow,
    daemon: ToolDaemon,
    signal: AbortSignal,
  ): Promise<{ tools: AgentTool[]; close(): Promise<void> }>;
}

export interface AssistantDeps {
  db: Database;
  providers: AiProviderStore;
  conversations: ConversationStore;
  policies: PolicyStore;
  usage: UsageLedger;
  /** Per-person and per-team AI spend limits, beside the server-wide monthly budget. */
  quotas: Quotas;
  runs: RunService;
  users: UserService;
  workspaces: WorkspaceService;
  audit: AuditLog;
  config: Config;
  logger: FastifyBaseLogger;
  /** Extra tools for agent runs (MCP servers); their calls go through the same policy and audit. */
  extraTools?: ToolSource;
  /** Answers conversations that belong to no workspace (Mission Control). */
  mainAgent?: MainAgent;
}

/** The main agent has no workspace: a tool that reaches for one is a bug, said plainly. */
const NO_DAEMON: ToolDaemon = {
  call: () => Promise.reject(new Error('the main agent works in no workspace')),
  open: () => Promise.reject(new Error('the main agent works in no workspace')),
};

export const DEFAULT_TITLE = 'New conversation';

/**
 * Chat, agent runs and inline completions: resolves the person's model, builds the prompt from
 * the conversation, runs the agent against the workspace's daemon under the person's policy,
 * and keeps the transcript, the audit log and the monthly usage.
 */
export class AssistantService {
  private readonly runLimiter: RateLimiter;

  constructor(private readonly deps: AssistantDeps) {
    this.runLimiter = new RateLimiter(deps.db, 'runs', deps.config.ai.runsPerHour, 3600_000);
  }

  /**
   * Stores the person's message and starts the run that answers it: in the workspace, or, for a
   * conversation of no workspace, the main agent's run.
   */
  async send(
    person: Person,
    workspace: WorkspaceRow | null,
    conversation: ConversationRow,
    body: Required<SendMessageBody>,
    options: RunOptions = {},
  ): Promise<{ run: DrivenRun; message: ChatMessage }> {
    const { config, conversations, runs } = this.deps;
    if (!workspace && !this.deps.mainAgent)
      throw new AppError('not_found', 'this server has no main agent');
    const mode = workspace ? body.mode : 'agent';
    const resolved = await this.modelFor(person, mode);
    const wait = await this.runLimiter.hit(person.id);
    if (wait > 0)
      throw new AppError(
        'rate_limited',
        `You started ${config.ai.runsPerHour} assistant runs this hour; try again in ${Math.ceil(wait / 60_000)} min.`,
      );
    if (config.ai.monthlyBudgetUsd > 0) {
      const spent = await this.deps.usage.spentThisMonth(person.id);
      if (spent >= config.ai.monthlyBudgetUsd)
        throw new AppError(
          'budget_exceeded',
          `You have used your monthly AI budget ($${spent.toFixed(2)} of $${config.ai.monthlyBudgetUsd}); it renews on the 1st.`,
        );
    }
    await this.deps.quotas.checkAi(person.id);
    const daemon = workspace ? await this.deps.workspaces.connect(workspace) : null;
    const history = await conversations.messages(conversation.id);
    const turn = await renderUserTurn(body.text, body.context, daemon);
    const messages: ModelMessage[] = [...historyMessages(history), { role: 'user', content: turn }];
    // The run is in the database before the message: a conversation busy on any replica refuses.
    const run = await runs.start({
      userId: person.id,
      conversationId: conversation.id,
      workspace: workspace ? { id: workspace.id, name: workspace.name } : null,
      mode,
      start: {
        messages,
        rules: options.rules ?? [],
        brief: options.brief ?? null,
        startedAt: Date.now(),
      },
    });
    let message: ChatMessage;
    try {
      message = await conversations.append(conversation.id, {
        role: 'user',
        mode,
        parts: [{ type: 'text', text: body.text }],
        context: body.context,
      });
      if (conversation.title === DEFAULT_TITLE && history.length === 0)
        await conversations.rename(conversation, titleFrom(body.text));
    } catch (error) {
      // The run never started: end it, or the conversation would stay busy for good.
      run.push({
        type: 'end',
        code: 'internal',
        message: 'The message could not be stored.',
        messageId: '',
      });
      await run.finish('internal');
      throw error;
    }
    void this.drive(run, person, workspace, resolved, daemon, mode, messages, options).catch(
      (error: unknown) =>
        this.deps.logger.error({ err: error, runId: run.id }, 'assistant run failed'),
    );
    return { run, message };
  }

  /**
   * Takes over a run whose server stopped: from its last completed step, with the step that was
   * under way finished (calls waiting for approval wait again; calls that were running are
   * reported to the model as interrupted). Called by the run service for a lapsed lease.
   */
  async takeOver(row: RunRow): Promise<void> {
    const { runs, users, workspaces } = this.deps;
    const events = await runs.events(row.id, -1);
    const parts = events.reduce<MessagePart[]>((all, event) => applyRunEvent(all, event), []);
    const saved = await runs.checkpointOf(row);
    const run = runs.drive(row, (events.at(-1)?.seq ?? -1) + 1, parts, saved?.messages.length);
    const end = async (code: 'internal' | 'stopped', message: string) => {
      await this.end(run, row.mode, code, message);
    };
    if (row.stopRequested) return end('stopped', 'Stopped.');
    const user = await users.find(row.userId);
    if (!user || user.disabled) return end('stopped', 'Stopped: its person can no longer sign in.');
    const person: Person = {
      id: user.id,
      name: user.name,
      email: user.email,
      admin: user.role === 'admin',
    };
    const workspace = row.workspaceId
      ? await workspaces.getById(row.workspaceId).catch(() => null)
      : null;
    if (row.workspaceId && !workspace)
      return end('internal', 'Its workspace was removed while the run moved to another server.');
    if (workspace && workspace.status !== 'running')
      return end('internal', `Its workspace is ${workspace.status}; start it and ask again.`);
    let resolved: ResolvedModel;
    let daemon: ToolDaemon | null;
    try {
      resolved = await this.modelFor(person, row.mode);
      daemon = workspace ? await workspaces.connect(workspace) : null;
    } catch (error) {
      return end('internal', error instanceof Error ? error.message : String(error));
    }
    const start = row.start as {
      messages: ModelMessage[];
      rules: PolicyRule[];
      brief: string | null;
      startedAt: number;
    };
    const checkpoint = (saved ?? {
      messages: start.messages,
      usage: { inputTokens: 0, outputTokens: 0, costUsd: 0, steps: 0 },
      seq: -1,
    }) as { messages: ModelMessage[]; usage: RunUsage; seq: number };
    run.push({
      type: 'notice',
      level: 'info',
      code: 'resumed',
      message:
        'The server running this went away; another one took over and goes on from the last completed step.',
    });
    await this.drive(
      run,
      person,
      workspace,
      resolved,
      daemon,
      row.mode,
      checkpoint.messages,
      { rules: start.rules, ...(start.brief ? { brief: start.brief } : {}) },
      {
        step: stepInFlight(events.filter((event) => event.seq > checkpoint.seq)),
        usage: checkpoint.usage,
        startedAt: start.startedAt,
      },
    );
  }

  /** The person's answer to an approval card; "always allow" becomes a policy rule. */
  async answer(person: Person, run: RunRow, callId: string, body: ApprovalBody): Promise<void> {
    const card = await this.deps.runs.openCard(run.id, callId);
    await this.deps.runs.answer(run, callId, {
      decision: body.decision,
      ...(body.reason ? { reason: body.reason } : {}),
      ...(body.input !== undefined ? { input: body.input } : {}),
    });
    const pattern = card?.subject ? exactPattern(card.subject) : null;
    if (body.remember && body.decision === 'approve' && card && pattern) {
      const workspace = run.workspaceId
        ? await this.deps.workspaces.getById(run.workspaceId).catch(() => null)
        : null;
      const rule: PolicyRule = {
        tool: card.tool,
        pattern,
        decision: 'allow',
        ...(workspace ? { workspace: workspace.name } : {}),
      };
      await this.deps.policies.remember(person.id, rule);
    }
  }

  async complete(person: Person, body: CompletionBody, signal: AbortSignal): Promise<string> {
    const own = await this.deps.providers.modelFor(person, 'completion');
    const resolved = own ?? (await this.deps.providers.modelFor(person, 'chat'));
    if (!resolved)
      throw new AppError(
        'ai_not_configured',
        'No model serves completions. Add a provider in Settings → AI.',
      );
    try {
      return await completeCode(resolved.provider, resolved.model, body, signal);
    } catch (error) {
      if (signal.aborted) return '';
      const why = describeProviderError(error).message;
      // Borrowing the chat model is said, so a chat-only endpoint is not a mystery.
      throw new AppError(
        'ai_provider_failed',
        own
          ? why
          : `No completion model is set, so completions asked the chat model (${resolved.model}): ${why} Pick a completion model in Settings → AI.`,
      );
    }
  }

  private async modelFor(person: Person, mode: 'chat' | 'agent'): Promise<ResolvedModel> {
    const { providers } = this.deps;
    // An agent without its own model uses the chat model, and the other way round.
    const resolved =
      (await providers.modelFor(person, mode)) ??
      (await providers.modelFor(person, mode === 'chat' ? 'agent' : 'chat'));
    if (!resolved)
      throw new AppError(
        'ai_not_configured',
        'No model is set up for the assistant. Add a provider and pick a model in Settings → AI.',
      );
    return resolved;
  }

  /**
   * Drives a run on this server until it ends, or until this server lets go of it (another
   * takes it over then). `resumed` continues a run another server started.
   */
  private async drive(
    run: DrivenRun,
    person: Person,
    workspace: WorkspaceRow | null,
    resolved: ResolvedModel,
    daemon: ToolDaemon | null,
    mode: 'chat' | 'agent',
    messages: ModelMessage[],
    options: RunOptions,
    resumed?: { step: InFlightStep; usage: RunUsage; startedAt: number },
  ): Promise<void> {
    const { config, policies, audit } = this.deps;
    const secrets = [resolved.provider.apiKey, config.secret].filter(
      (value): value is string => !!value,
    );
    const redact = (text: string) => redactSecrets(text, secrets);
    // A run's own rules are listed last: at equal specificity a later rule does not win, so they
    // are only ever more specific (a workspace rule) than the person's global ones.
    const rules = [...(await policies.rules(person.id)), ...(options.rules ?? [])];
    const extra =
      workspace && daemon && mode === 'agent' && this.deps.extraTools
        ? await this.deps.extraTools
            .toolsFor(person, workspace, daemon, run.controller.signal)
            .catch((error: unknown) => {
              this.deps.logger.warn({ err: error, runId: run.id }, 'extra tools unavailable');
              return null;
            })
        : null;
    const tools = !workspace
      ? this.deps.mainAgent!.tools(person)
      : mode === 'agent'
        ? [
            ...BUILTIN_TOOLS,
            ...(workspaceTemplate(workspace).desktop ? [computerTool()] : []),
            ...(extra?.tools ?? []),
          ]
        : BUILTIN_TOOLS.filter((tool) => tool.kind === 'read');
    const system = !workspace
      ? this.deps.mainAgent!.system
      : [systemPrompt(mode, workspace.name), options.brief].filter(Boolean).join('\n\n');
    const startedAt = resumed?.startedAt ?? Date.now();
    const before = resumed?.usage ?? { inputTokens: 0, outputTokens: 0, costUsd: 0, steps: 0 };
    let outcome;
    try {
      outcome = await runAgent({
        model: languageModel(resolved.provider, resolved.model),
        system,
        messages,
        tools,
        inbox: { take: () => run.takeNotes() },
        gate: () => run.untilResumed(),
        context: {
          daemon: daemon ?? NO_DAEMON,
          identity: { name: person.name, email: person.email },
          author: agentPeer(run.id, messages),
          fetchUrl: (url, signal) =>
            safeFetch(url, { signal, allowAddresses: config.ai.fetchAllow }),
        },
        decide: (tool, subject) =>
          decide(rules, {
            tool: tool.name,
            kind: tool.kind,
            subject,
            workspace: workspace?.name ?? '',
          }),
        askApproval: ({ callId }) => run.waitForApproval(callId),
        onToolCall: (record) => void this.auditToolCall(person, workspace, run, record, secrets),
        // The call is stored, and the run still driven here, before a tool has any effect.
        beforeExecute: () => run.mayExecute(),
        onCheckpoint: (state) =>
          run.checkpoint(
            state.messages as unknown as Record<string, unknown>[],
            add(before, state.usage),
          ),
        // What a resumed run already used counts against its limits.
        caps: {
          maxSteps: Math.max(1, config.ai.maxSteps - before.steps),
          maxWallMs: Math.max(1000, config.ai.maxRunSeconds * 1000 - (Date.now() - startedAt)),
          maxTokens: Math.max(1, config.ai.maxRunTokens - before.inputTokens - before.outputTokens),
          maxCostUsd: Math.max(0.000_001, config.ai.maxRunCostUsd - before.costUsd),
        },
        price: priceOf(resolved.model),
        emit: (event) =>
          run.push(event.type === 'usage' ? { ...event, ...add(before, event) } : event),
        signal: run.controller.signal,
        redact,
        ...(resumed ? { resumed: resumed.step } : {}),
      });
    } catch (error) {
      this.deps.logger.error({ err: error, runId: run.id }, 'agent run crashed');
      outcome = {
        code: 'internal' as const,
        message: 'The assistant failed unexpectedly; the server log has the details.',
        parts: [],
        usage: { inputTokens: 0, outputTokens: 0, costUsd: 0, steps: 0 },
      };
    } finally {
      await extra
        ?.close()
        .catch((error: unknown) =>
          this.deps.logger.warn({ err: error, runId: run.id }, 'closing extra tools failed'),
        );
    }
    // This server let go of the run (shutting down, or another took it over): it says nothing.
    if (run.relinquished) return;
    const usage = add(before, outcome.usage);
    await this.end(run, mode, outcome.code, outcome.message, async (messageId) => {
      await this.deps.usage.add(person.id, outcome.usage);
      await audit.record({
        actorId: person.id,
        action: 'agent.run',
        targetType: 'conversation',
        targetId: run.conversationId,
        ...(workspace ? { workspaceId: workspace.id } : {}),
        outcome: outcome.code === 'done' || outcome.code === 'stopped' ? 'success' : 'failure',
        data: {
          runId: run.id,
          workspace: workspace?.name ?? null,
          mode,
          provider: resolved.provider.name,
          model: resolved.model,
          end: outcome.code,
          ...(outcome.message ? { message: outcome.message } : {}),
          ...usage,
          durationMs: Date.now() - startedAt,
          messageId,
        },
      });
    });
    // Messages sent during the model's last step were never read: they start the next turn.
    const unread = await run.takeNotes();
    if (unread.length > 0 && outcome.code === 'done') {
      const conversation = await this.deps.conversations.get(
        person.id,
        workspace?.id ?? null,
        run.conversationId,
      );
      await this.send(
        person,
        workspace,
        conversation,
        { text: unread.join('\n\n'), mode, context: [] },
        options,
      );
    }
  }

  /**
   * Ends a run: the assistant's message as every event made it (with how it ended) goes into the
   * conversation, then the `end` event, then the run's row.
   */
  private async end(
    run: DrivenRun,
    mode: 'chat' | 'agent',
    code: RunEndCode,
    message: string | undefined,
    after?: (messageId: string) => Promise<void>,
  ): Promise<void> {
    const ending = { type: 'end' as const, code, ...(message ? { message } : {}), messageId: '' };
    const redact = (text: string) => redactSecrets(text, [this.deps.config.secret]);
    const parts = applyRunEvent(run.message, { ...ending, seq: 0 }).map((part) =>
      part.type === 'text' ? { ...part, text: redact(part.text) } : part,
    );
    let messageId = '';
    try {
      messageId = (
        await this.deps.conversations.append(run.conversationId, { role: 'assistant', mode, parts })
      ).id;
      await after?.(messageId);
    } catch (error) {
      this.deps.logger.error(
        { err: error, runId: run.id },
        'could not store the assistant message',
      );
    }
    run.push({ ...ending, messageId });
    await run.finish(code);
  }

  private async auditToolCall(
    person: Person,
    workspace: WorkspaceRow | null,
    run: DrivenRun,
    record: ToolCallRecord,
    secrets: string[],
  ): Promise<void> {
    await this.deps.audit.record({
      actorId: person.id,
      action: `agent.tool.${record.tool}`,
      targetType: workspace ? 'workspace' : 'conversation',
      targetId: workspace?.name ?? run.conversationId,
      ...(workspace ? { workspaceId: workspace.id } : {}),
      outcome:
        record.status === 'done' ? 'success' : record.status === 'denied' ? 'denied' : 'failure',
      data: redactValue(
        {
          runId: run.id,
          conversationId: run.conversationId,
          callId: record.callId,
          input: record.input,
          decision: record.decision,
          decidedBy: record.decidedBy === 'user' ? { user: person.email } : 'policy',
          ...(record.reason ? { reason: record.reason } : {}),
          ...(record.error ? { error: record.error } : {}),
          durationMs: record.durationMs,
        },
        secrets,
      ),
    });
  }
}

/** The template a workspace was created from, as stored on its row. */
function workspaceTemplate(workspace: WorkspaceRow): Template {
  return workspace.template as unknown as Template;
}

/**
 * The peer an agent run is in a file someone has open: named after what it was last asked
 * ("Agent · fix the tests"), so the person sees whose edit lands.
 */
function agentPeer(runId: string, messages: ModelMessage[]): CollabPeer {
  const asked = messages.findLast((message) => message.role === 'user');
  const text =
    typeof asked?.content === 'string'
      ? asked.content
      : (asked?.content ?? []).map((part) => (part.type === 'text' ? part.text : '')).join(' ');
  return { name: `Agent · ${titleFrom(text)}`.slice(0, 100), key: `run-${runId}`, kind: 'agent' };
}

/** A title from the first line of the first message. */
export function titleFrom(text: string): string {
  const line = text.split('\n')[0]!.trim();
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || DEFAULT_TITLE;
}

/** List prices (US$ per million tokens) of common cloud models; unknown and local models count as free. */
function priceOf(model: string) {
  const table: Array<[RegExp, number, number]> = [
    [/^gpt-4o-mini/, 0.15, 0.6],
    [/^gpt-4o/, 2.5, 10],
    [/^gpt-4\.1-mini/, 0.4, 1.6],
    [/^gpt-4\.1/, 2, 8],
    [/^gpt-5-mini/, 0.25, 2],
    [/^gpt-5/, 1.25, 10],
    [/^o[34]-mini/, 1.1, 4.4],
    [/^claude-.*haiku/, 1, 5],
    [/^claude-.*sonnet/, 3, 15],
    [/^claude-.*opus/, 15, 75],
    [/^gemini-.*flash/, 0.3, 2.5],
    [/^gemini-.*pro/, 1.25, 10],
  ];
  const hit = table.find(([pattern]) => pattern.test(model));
  return hit ? { inputPerMTok: hit[1], outputPerMTok: hit[2] } : undefined;
}

function add(a: RunUsage, b: RunUsage): RunUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    costUsd: a.costUsd + b.costUsd,
    steps: a.steps + b.steps,
  };
}

/** The step a stopped server was in: the text it had written and its tool calls. */
type InFlightStep = NonNullable<Parameters<typeof runAgent>[0]['resumed']>;

/** The step under way in `events` (those after the last checkpoint). */
function stepInFlight(events: RunEvent[]): InFlightStep {
  const calls = new Map<string, InFlightStep['calls'][number]>();
  let text = '';
  for (const event of events) {
    if (event.type === 'text') text += event.delta;
    else if (event.type === 'tool-call')
      calls.set(event.callId, {
        callId: event.callId,
        tool: event.tool,
        input: event.input,
        awaitingApproval: false,
      });
    else if (event.type === 'approval') {
      const call = calls.get(event.callId);
      if (call) call.awaitingApproval = true;
    } else if (event.type === 'tool-result') {
      const call = calls.get(event.callId);
      if (call) {
        call.awaitingApproval = false;
        call.result =
          event.status === 'done'
            ? (event.output ?? '')
            : `${event.status === 'denied' ? 'Denied' : 'Error'}: ${event.error ?? ''}`;
      }
    }
  }
  return { text, calls: [...calls.values()] };
}
