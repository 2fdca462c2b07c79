// The assistant's REST and streaming contract: providers, model roles, conversations, agent runs,
// approvals, the permission policy and the audit log. Shared by the server and the web app.
import { z } from 'zod';
import { oneLine } from './text.ts';
import { workspacePathSchema } from './files.ts';

export const AI_PROVIDER_KINDS = ['openai', 'anthropic', 'google', 'openai-compatible'] as const;
/** Which wire format a provider speaks; `openai-compatible` covers Ollama, vLLM, LM Studio. */
export const aiProviderKindSchema = z.enum(AI_PROVIDER_KINDS);
export type AiProviderKind = z.infer<typeof aiProviderKindSchema>;

/** Whose model choices: the whole organisation's defaults (admins set them) or one person's. */
export const aiScopeSchema = z.enum(['organization', 'user']);
export type AiScope = z.infer<typeof aiScopeSchema>;

/**
 * Who a provider belongs to: the whole organisation or a team (admins make and edit both; a
 * team's is usable by its people only), or one person.
 */
export const aiProviderScopeSchema = z.enum(['organization', 'team', 'user']);
export type AiProviderScope = z.infer<typeof aiProviderScopeSchema>;

const modelIdSchema = z.string().trim().min(1).max(200);

/** A provider as the API shows it: never its key, only whether it has one and its last 4 characters. */
export const aiProviderSchema = z.object({
  id: z.string(),
  scope: aiProviderScopeSchema,
  /** The team's name, for a team's provider. */
  team: z.string().nullable(),
  name: z.string(),
  kind: aiProviderKindSchema,
  baseUrl: z.string().nullable(),
  hasKey: z.boolean(),
  /** `…abcd`, so a person can tell keys apart; `null` without a key. */
  keyHint: z.string().nullable(),
  /** Models the person listed by hand; the endpoint's own list comes from `/models`. */
  models: z.array(z.string()),
  createdAt: z.string(),
});
export type AiProvider = z.infer<typeof aiProviderSchema>;

const baseUrlSchema = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .max(2000);

export const createAiProviderBodySchema = z
  .strictObject({
    scope: aiProviderScopeSchema.default('user'),
    /** With `scope: 'team'`: the team's name. */
    team: oneLine(1, 64).optional(),
    name: oneLine(1, 80),
    kind: aiProviderKindSchema,
    /** Required for `openai-compatible` (e.g. `http://localhost:11434/v1`); optional for the vendors. */
    baseUrl: baseUrlSchema.optional(),
    apiKey: z.string().trim().min(1).max(4096).optional(),
    models: z.array(modelIdSchema).max(100).default([]),
  })
  .refine((body) => body.kind !== 'openai-compatible' || body.baseUrl, {
    message: 'an OpenAI-compatible provider needs its base URL (e.g. http://localhost:11434/v1)',
    path: ['baseUrl'],
  })
  .refine((body) => (body.scope === 'team') === (body.team !== undefined), {
    message: "name the team (only) for a team's provider",
    path: ['team'],
  });
export type CreateAiProviderBody = z.input<typeof createAiProviderBodySchema>;

export const updateAiProviderBodySchema = z.strictObject({
  name: oneLine(1, 80).optional(),
  baseUrl: baseUrlSchema.nullable().optional(),
  /** A new key; `null` removes the key; absent keeps it. */
  apiKey: z.string().trim().min(1).max(4096).nullable().optional(),
  models: z.array(modelIdSchema).max(100).optional(),
});
export type UpdateAiProviderBody = z.input<typeof updateAiProviderBodySchema>;

export const aiProviderListSchema = z.object({ providers: z.array(aiProviderSchema) });

/** `GET /api/ai/providers/:id/models`: the endpoint's list when it answers, else the configured one. */
export const aiModelListSchema = z.object({
  models: z.array(z.string()),
  source: z.enum(['endpoint', 'configured']),
  /** Why the endpoint's list is missing (unreachable, 401, …). */
  error: z.string().optional(),
});
export type AiModelList = z.infer<typeof aiModelListSchema>;

export const AI_ROLES = ['chat', 'agent', 'completion'] as const;
/** What a model is used for: chat answers, agent runs, inline completions. */
export const aiRoleSchema = z.enum(AI_ROLES);
export type AiRole = z.infer<typeof aiRoleSchema>;

export const aiAssignmentSchema = z.strictObject({
  providerId: z.string().min(1).max(100),
  model: modelIdSchema,
});
export type AiAssignment = z.infer<typeof aiAssignmentSchema>;

const assignmentsSchema = z.object({
  chat: aiAssignmentSchema.nullable(),
  agent: aiAssignmentSchema.nullable(),
  completion: aiAssignmentSchema.nullable(),
});

/** The model that serves a role for this person, and where the choice came from. */
export const aiEffectiveModelSchema = z
  .object({
    providerId: z.string(),
    providerName: z.string(),
    kind: aiProviderKindSchema,
    model: z.string(),
    scope: aiScopeSchema,
  })
  .nullable();

export const aiSettingsSchema = z.object({
  organization: assignmentsSchema,
  user: assignmentsSchema,
  /** The person's choice wins over the organisation's, role by role. */
  effective: z.object({
    chat: aiEffectiveModelSchema,
    agent: aiEffectiveModelSchema,
    completion: aiEffectiveModelSchema,
  }),
});
export type AiSettings = z.infer<typeof aiSettingsSchema>;

/** `PUT /api/ai/settings`: set (or clear with `null`) roles at one scope; absent roles are kept. */
export const updateAiSettingsBodySchema = z.strictObject({
  scope: aiScopeSchema.default('user'),
  chat: aiAssignmentSchema.nullable().optional(),
  agent: aiAssignmentSchema.nullable().optional(),
  completion: aiAssignmentSchema.nullable().optional(),
});
export type UpdateAiSettingsBody = z.input<typeof updateAiSettingsBodySchema>;

// ---- Conversations -------------------------------------------------------------------------

export const aiModeSchema = z.enum(['chat', 'agent']);
export type AiMode = z.infer<typeof aiModeSchema>;

export const conversationSchema = z.object({
  id: z.string(),
  title: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** The run still going in this conversation, if any (a reload reattaches to it). */
  activeRunId: z.string().nullable(),
});
export type Conversation = z.infer<typeof conversationSchema>;

export const conversationListSchema = z.object({ conversations: z.array(conversationSchema) });

export const createConversationBodySchema = z.strictObject({
  title: oneLine(1, 200).optional(),
});
export const updateConversationBodySchema = z.strictObject({
  title: oneLine(1, 200),
});

const contextText = z.string().max(200_000);

/** Something the person attached to a message: the chips above the chat input. */
export const contextItemSchema = z.discriminatedUnion('kind', [
  /** A whole file; the server reads it from the workspace (an `@file` mention is one too). */
  z.strictObject({ kind: z.literal('file'), path: workspacePathSchema }),
  z.strictObject({
    kind: z.literal('selection'),
    path: workspacePathSchema,
    startLine: z.int().min(1),
    endLine: z.int().min(1),
    text: contextText,
  }),
  z.strictObject({ kind: z.literal('tabs'), paths: z.array(workspacePathSchema).max(50) }),
  z.strictObject({ kind: z.literal('terminal'), title: z.string().max(200), text: contextText }),
  z.strictObject({
    kind: z.literal('diagnostics'),
    path: workspacePathSchema,
    items: z
      .array(
        z.strictObject({
          line: z.int().min(1),
          severity: z.enum(['error', 'warning', 'info']),
          message: z.string().max(4000),
        }),
      )
      .max(200),
  }),
]);
export type ContextItem = z.infer<typeof contextItemSchema>;

/** One tool call as the transcript keeps it. */
export const toolCallStatusSchema = z.enum([
  'running',
  'awaiting_approval',
  'done',
  'error',
  'denied',
]);
export type ToolCallStatus = z.infer<typeof toolCallStatusSchema>;

export const messagePartSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({
    type: z.literal('tool'),
    callId: z.string(),
    tool: z.string(),
    input: z.unknown(),
    status: toolCallStatusSchema,
    /** What the tool returned (capped, secrets redacted). */
    output: z.string().optional(),
    error: z.string().optional(),
    /** Who decided: the policy, or the person (and their reason for a denial). */
    decision: z
      .object({ by: z.enum(['policy', 'user']), reason: z.string().optional() })
      .optional(),
  }),
  /** A message the person sent while the run worked, where the model read it. */
  z.object({ type: z.literal('user-note'), text: z.string() }),
  /** How the run ended when it did not simply finish: stopped, a cap, a provider failure. */
  z.object({
    type: z.literal('notice'),
    level: z.enum(['info', 'error']),
    code: z.string(),
    message: z.string(),
  }),
]);
export type MessagePart = z.infer<typeof messagePartSchema>;

export const chatMessageSchema = z.object({
  id: z.string(),
  role: z.enum(['user', 'assistant']),
  parts: z.array(messagePartSchema),
  context: z.array(contextItemSchema),
  mode: aiModeSchema,
  createdAt: z.string(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export const conversationDetailSchema = conversationSchema.extend({
  messages: z.array(chatMessageSchema),
});
export type ConversationDetail = z.infer<typeof conversationDetailSchema>;

/** `POST …/conversations/:id/messages`: the person's message; it starts a run. */
export const sendMessageBodySchema = z.strictObject({
  text: z.string().trim().min(1).max(100_000),
  mode: aiModeSchema.default('chat'),
  context: z.array(contextItemSchema).max(50).default([]),
});
export type SendMessageBody = z.input<typeof sendMessageBodySchema>;

export const sendMessageResultSchema = z.object({
  runId: z.string(),
  message: chatMessageSchema,
});

// ---- Runs ----------------------------------------------------------------------------------

/** Why a run ended. `cap_*` are the per-run limits; `provider_*` are the model's endpoint failing. */
export const runEndCodeSchema = z.enum([
  'done',
  'stopped',
  'cap_steps',
  'cap_time',
  'cap_tokens',
  'cap_cost',
  'budget',
  'rate_limited',
  'no_provider',
  'provider_auth',
  'provider_rate_limited',
  'provider_error',
  'provider_unreachable',
  'stream_cut',
  'internal',
]);
export type RunEndCode = z.infer<typeof runEndCodeSchema>;

/** What an approval card shows: the exact command, or the exact change as a diff. */
export const approvalDetailSchema = z.object({
  /** One line naming the action, e.g. `run_command: npm test`. */
  summary: z.string(),
  command: z.string().optional(),
  path: z.string().optional(),
  /** A unified diff of the file change. */
  diff: z.string().optional(),
  url: z.string().optional(),
});
export type ApprovalDetail = z.infer<typeof approvalDetailSchema>;

/**
 * The events of one run, in order, on `GET /api/ai/runs/:id/events` (Server-Sent Events, one JSON
 * object per `data:` line). `seq` counts from 0; pass `?after=<seq>` to resume without repeats.
 */
export const runEventSchema = z.discriminatedUnion('type', [
  z.object({ seq: z.int(), type: z.literal('text'), delta: z.string() }),
  z.object({
    seq: z.int(),
    type: z.literal('tool-call'),
    callId: z.string(),
    tool: z.string(),
    input: z.unknown(),
  }),
  z.object({
    seq: z.int(),
    type: z.literal('approval'),
    callId: z.string(),
    tool: z.string(),
    input: z.unknown(),
    detail: approvalDetailSchema,
    /** What the permission policy matches for this call ("always allow" remembers it). */
    subject: z.string().optional(),
  }),
  z.object({ seq: z.int(), type: z.literal('tool-output'), callId: z.string(), chunk: z.string() }),
  z.object({
    seq: z.int(),
    type: z.literal('tool-result'),
    callId: z.string(),
    status: toolCallStatusSchema,
    /** What ran instead of the model's input, when the person edited it before approving. */
    input: z.unknown().optional(),
    output: z.string().optional(),
    error: z.string().optional(),
    decision: z
      .object({ by: z.enum(['policy', 'user']), reason: z.string().optional() })
      .optional(),
  }),
  /** The person's message sent during the run, handed to the model before its next step. */
  z.object({ seq: z.int(), type: z.literal('user-note'), text: z.string() }),
  /** Something the person should know about the run itself (it moved to another server). */
  z.object({
    seq: z.int(),
    type: z.literal('notice'),
    level: z.enum(['info', 'error']),
    code: z.string(),
    message: z.string(),
  }),
  /** The person paused the run (it waits before its next step) or resumed it. */
  z.object({ seq: z.int(), type: z.literal('paused'), paused: z.boolean() }),
  z.object({
    seq: z.int(),
    type: z.literal('usage'),
    inputTokens: z.number(),
    outputTokens: z.number(),
    costUsd: z.number(),
    steps: z.number(),
  }),
  z.object({
    seq: z.int(),
    type: z.literal('end'),
    code: runEndCodeSchema,
    message: z.string().optional(),
    /** The assistant message the run wrote, as stored. */
    messageId: z.string(),
  }),
]);
export type RunEvent = z.infer<typeof runEventSchema>;

/** `POST /api/ai/runs/:id/approvals/:callId`. */
export const approvalBodySchema = z.strictObject({
  decision: z.enum(['approve', 'deny']),
  /** Shown to the model with a denial, so it can change course. */
  reason: z.string().trim().max(2000).optional(),
  /** Edit-then-approve: the input the tool runs with instead of the model's. */
  input: z.unknown().optional(),
  /** "Always allow this in this workspace": remembered as a policy rule. */
  remember: z.boolean().default(false),
});
export type ApprovalBody = z.input<typeof approvalBodySchema>;

// ---- Policy --------------------------------------------------------------------------------

export const policyDecisionSchema = z.enum(['allow', 'ask', 'deny']);
export type PolicyDecision = z.infer<typeof policyDecisionSchema>;

/**
 * One rule: for `tool` (or `*`), when the call's subject (the command, the path, the URL)
 * matches `pattern` (a glob: `*` any run of characters; absent matches all), decide.
 * The most specific matching rule wins: workspace rules over global ones, a pattern over none,
 * a longer pattern over a shorter one.
 */
export const policyRuleSchema = z.strictObject({
  tool: z.string().min(1).max(100),
  pattern: z.string().min(1).max(4096).optional(),
  decision: policyDecisionSchema,
  /** Workspace name; absent means every workspace of the person. */
  workspace: z.string().max(100).optional(),
});
export type PolicyRule = z.infer<typeof policyRuleSchema>;

export const policySchema = z.object({
  rules: z.array(policyRuleSchema),
  /** What applies when no rule matches, tool by tool. */
  defaults: z.record(z.string(), policyDecisionSchema),
});
export type Policy = z.infer<typeof policySchema>;

export const updatePolicyBodySchema = z.strictObject({
  rules: z.array(policyRuleSchema).max(500),
});

// ---- Completions ---------------------------------------------------------------------------

/** `POST /api/workspaces/:name/ai/complete`: ghost text for the cursor. */
export const completionBodySchema = z.strictObject({
  path: workspacePathSchema,
  language: z.string().max(100),
  prefix: z.string().max(32_000),
  suffix: z.string().max(16_000),
});
export type CompletionBody = z.infer<typeof completionBodySchema>;
export const completionResultSchema = z.object({ text: z.string() });

// ---- Audit ---------------------------------------------------------------------------------

export const auditEventSchema = z.object({
  id: z.number(),
  at: z.string(),
  actor: z.object({ id: z.string(), email: z.string() }).nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  workspaceId: z.string().nullable(),
  /** The workspace's name, while it exists. */
  workspace: z.string().nullable(),
  outcome: z.enum(['success', 'failure', 'denied']),
  data: z.record(z.string(), z.unknown()),
});
export type AuditEventView = z.infer<typeof auditEventSchema>;

/** Filters of `GET /api/audit` and `GET /api/audit/export` (JSON Lines). */
export const auditQuerySchema = z.object({
  action: z.string().max(100).optional(),
  /** A user id or email. */
  actor: z.string().max(200).optional(),
  /** A workspace id or name. */
  workspaceId: z.string().max(100).optional(),
  outcome: z.enum(['success', 'failure', 'denied']).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  /** Page backwards: events with an id below this. */
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type AuditQuery = z.input<typeof auditQuerySchema>;

export const auditPageSchema = z.object({
  events: z.array(auditEventSchema),
  /** Pass as `before` for the next page; `null` at the end. */
  nextBefore: z.number().nullable(),
});
export type AuditPage = z.infer<typeof auditPageSchema>;

/**
 * Folds one run event into the assistant message's parts, so a transcript streamed live and one
 * loaded after a reload look the same. Pure; returns a new array.
 */
export function applyRunEvent(parts: readonly MessagePart[], event: RunEvent): MessagePart[] {
  switch (event.type) {
    case 'text': {
      const last = parts.at(-1);
      if (last?.type === 'text')
        return [...parts.slice(0, -1), { ...last, text: last.text + event.delta }];
      return [...parts, { type: 'text', text: event.delta }];
    }
    case 'tool-call':
      // A replayed event (after a reconnect) must not add the call twice.
      if (parts.some((part) => part.type === 'tool' && part.callId === event.callId))
        return [...parts];
      return [
        ...parts,
        {
          type: 'tool',
          callId: event.callId,
          tool: event.tool,
          input: event.input,
          status: 'running',
        },
      ];
    case 'approval':
      return updateTool(parts, event.callId, () => ({
        status: 'awaiting_approval',
        input: event.input,
      }));
    case 'tool-output':
      return updateTool(parts, event.callId, (part) => ({
        // Output streaming in means the approval was given.
        status: part.status === 'awaiting_approval' ? 'running' : part.status,
        output: (part.output ?? '') + event.chunk,
      }));
    case 'tool-result':
      return updateTool(parts, event.callId, () => ({
        status: event.status,
        ...(event.input !== undefined ? { input: event.input } : {}),
        ...(event.output !== undefined ? { output: event.output } : {}),
        ...(event.error !== undefined ? { error: event.error } : {}),
        ...(event.decision ? { decision: event.decision } : {}),
      }));
    case 'user-note':
      return [...parts, { type: 'user-note', text: event.text }];
    case 'notice':
      return [
        ...parts,
        { type: 'notice', level: event.level, code: event.code, message: event.message },
      ];
    case 'end':
      if (event.code === 'done') return [...parts];
      return [
        ...parts,
        {
          type: 'notice',
          level: event.code === 'stopped' ? 'info' : 'error',
          code: event.code,
          message: event.message ?? event.code,
        },
      ];
    case 'usage':
    case 'paused':
      return [...parts];
  }
}

type ToolPart = Extract<MessagePart, { type: 'tool' }>;

function updateTool(
  parts: readonly MessagePart[],
  callId: string,
  change: (part: ToolPart) => Partial<ToolPart>,
): MessagePart[] {
  return parts.map((part) =>
    part.type === 'tool' && part.callId === callId ? { ...part, ...change(part) } : part,
  );
}
