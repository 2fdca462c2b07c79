import type {
  ApprovalDetail,
  MessagePart,
  PolicyDecision,
  RunEndCode,
  RunEvent,
} from '@studio/protocol';
import { applyRunEvent } from '@studio/protocol';
import {
  jsonSchema,
  streamText,
  tool as sdkTool,
  type LanguageModel,
  type ModelMessage,
  type ToolSet,
} from 'ai';
import { describeProviderError } from './provider-errors.ts';
import { ToolError, type AgentTool, type ToolContext } from './tools/tool.ts';

/** The limits of one run; reaching any ends it with a message saying which. */
export interface RunCaps {
  maxSteps: number;
  maxWallMs: number;
  /** Input plus output tokens over all steps. */
  maxTokens: number;
  maxCostUsd: number;
}

/** US dollars per million tokens; local models cost nothing. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** The person's answer to an approval card. */
export interface ApprovalAnswer {
  decision: 'approve' | 'deny';
  reason?: string;
  /** Edit-then-approve: the input to run instead of the model's. */
  input?: unknown;
}

/** One tool call as the audit log keeps it. */
export interface ToolCallRecord {
  callId: string;
  tool: string;
  input: unknown;
  subject: string;
  decision: PolicyDecision;
  decidedBy: 'policy' | 'user';
  status: 'done' | 'error' | 'denied';
  error?: string;
  reason?: string;
  durationMs: number;
}

type Emitted<E> = E extends unknown ? Omit<E, 'seq'> : never;
/** A run event before the run manager numbers it; `end` is the manager's to send. */
export type AgentEvent = Emitted<Exclude<RunEvent, { type: 'end' }>>;

export interface RunAgentOptions {
  model: LanguageModel;
  system: string;
  messages: ModelMessage[];
  tools: readonly AgentTool[];
  /** The workspace side of every tool call. */
  context: Omit<ToolContext, 'signal' | 'onOutput'>;
  /** The permission policy, already bound to the person and the workspace. */
  decide(tool: AgentTool, subject: string): PolicyDecision;
  /** Shows an approval card and waits for the answer. */
  askApproval(request: {
    callId: string;
    tool: AgentTool;
    input: unknown;
    detail: ApprovalDetail;
  }): Promise<ApprovalAnswer>;
  /** Called once per finished tool call (the audit log). */
  onToolCall?(record: ToolCallRecord): void;
  caps: RunCaps;
  price?: ModelPrice | undefined;
  emit(event: AgentEvent): void;
  /** The person pressed Stop. */
  signal: AbortSignal;
  /** Removes secrets from what tools return before anyone (the model included) sees it. */
  redact(text: string): string;
  maxRetries?: number;
}

export interface RunOutcome {
  code: RunEndCode;
  message?: string;
  /** The assistant message as stored: text, tool calls, and how it ended. */
  parts: MessagePart[];
  usage: { inputTokens: number; outputTokens: number; costUsd: number; steps: number };
}

class CapReached extends Error {
  constructor(
    readonly code: RunEndCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs the model with the tools until it answers without calling one, a cap is reached, the
 * person stops it, or the provider fails. Each tool call goes through the policy: allowed calls
 * run, denied ones tell the model why, asked ones wait for the person's answer.
 */
export async function runAgent(options: RunAgentOptions): Promise<RunOutcome> {
  const { caps } = options;
  const timeLimit = new AbortController();
  const timer = setTimeout(
    () =>
      timeLimit.abort(
        new CapReached(
          'cap_time',
          `The run reached its time limit of ${Math.round(caps.maxWallMs / 1000)} s and was stopped.`,
        ),
      ),
    caps.maxWallMs,
  );
  const capHit = new AbortController();
  const signal = AbortSignal.any([options.signal, timeLimit.signal, capHit.signal]);
  let parts: MessagePart[] = [];
  const emit = (event: AgentEvent) => {
    parts = applyRunEvent(parts, { ...event, seq: 0 } as RunEvent);
    options.emit(event);
  };
  const usage = { inputTokens: 0, outputTokens: 0, costUsd: 0, steps: 0 };
  const seenCalls = new Set<string>();
  let lastFinishReason: string | undefined;
  let failure: { code: RunEndCode; message: string } | null = null;

  const tools: ToolSet = {};
  for (const agentTool of options.tools) {
    tools[agentTool.name] = sdkTool({
      description: agentTool.description,
      inputSchema: agentTool.jsonSchema
        ? jsonSchema<unknown>(agentTool.jsonSchema)
        : agentTool.inputSchema,
      execute: async (input: unknown, { toolCallId }) => {
        seenCalls.add(toolCallId);
        return callTool(agentTool, toolCallId, input);
      },
    });
  }

  async function callTool(
    agentTool: AgentTool,
    callId: string,
    modelInput: unknown,
  ): Promise<string> {
    const started = performance.now();
    let input = modelInput;
    const context: ToolContext = {
      ...options.context,
      signal,
      onOutput: (chunk) => emit({ type: 'tool-output', callId, chunk: options.redact(chunk) }),
    };
    emit({ type: 'tool-call', callId, tool: agentTool.name, input });
    const subject = agentTool.subject(input);
    const decision = options.decide(agentTool, subject);
    const record = (status: ToolCallRecord['status'], extra: Partial<ToolCallRecord>) =>
      options.onToolCall?.({
        callId,
        tool: agentTool.name,
        input,
        subject,
        decision,
        decidedBy: 'policy',
        status,
        durationMs: Math.round(performance.now() - started),
        ...extra,
      });
    let decidedBy: 'policy' | 'user' = 'policy';

    if (decision === 'deny') {
      const reason = `The permission policy does not allow ${agentTool.name} here (${subject}).`;
      emit({
        type: 'tool-result',
        callId,
        status: 'denied',
        error: reason,
        decision: { by: 'policy' },
      });
      record('denied', { reason });
      return `Denied: ${reason} Do not retry it; find another way or ask the person.`;
    }
    if (decision === 'ask') {
      let detail: ApprovalDetail;
      try {
        detail = await agentTool.describe(input, context);
      } catch (error) {
        // A change that cannot apply (no match, missing file) fails before anyone is asked.
        return failTool(error);
      }
      emit({ type: 'approval', callId, tool: agentTool.name, input, detail });
      const answer = await untilAborted(
        options.askApproval({ callId, tool: agentTool, input, detail }),
        signal,
      );
      decidedBy = 'user';
      if (answer.decision === 'deny') {
        const reason = answer.reason?.trim() || 'no reason given';
        emit({
          type: 'tool-result',
          callId,
          status: 'denied',
          error: `Denied: ${reason}`,
          decision: { by: 'user', reason },
        });
        record('denied', { decidedBy, reason });
        return `The person denied this ${agentTool.name} call. Their reason: ${reason}`;
      }
      if (answer.input !== undefined) {
        const edited = agentTool.inputSchema.safeParse(answer.input);
        if (!edited.success)
          return failTool(new ToolError(`the edited input is not valid: ${edited.error.message}`));
        input = edited.data;
      }
    }

    try {
      const output = options.redact(await agentTool.execute(input, context));
      emit({ type: 'tool-result', callId, status: 'done', output, decision: { by: decidedBy } });
      record('done', { decidedBy, input });
      return output;
    } catch (error) {
      return failTool(error);
    }

    function failTool(error: unknown): string {
      if (signal.aborted) throw error;
      const message = options.redact(toolErrorMessage(error));
      emit({
        type: 'tool-result',
        callId,
        status: 'error',
        error: message,
        decision: { by: decidedBy },
      });
      record('error', { decidedBy, error: message, input });
      return `Error: ${message}`;
    }
  }

  try {
    const result = streamText({
      model: options.model,
      system: options.system,
      messages: options.messages,
      tools,
      abortSignal: signal,
      maxRetries: options.maxRetries ?? 2,
      // Failures arrive as `error` parts below and end the run with a message; no console noise.
      onError: () => {},
      stopWhen: ({ steps }) => steps.length >= caps.maxSteps || overBudget() !== null,
    });
    for await (const part of result.fullStream) {
      switch (part.type) {
        case 'text-delta':
          if (part.text) emit({ type: 'text', delta: part.text });
          break;
        case 'tool-error':
          // Input the SDK could not parse or validate never reaches `execute`: show it all the same.
          if (!seenCalls.has(part.toolCallId)) {
            seenCalls.add(part.toolCallId);
            emit({
              type: 'tool-call',
              callId: part.toolCallId,
              tool: part.toolName,
              input: part.input,
            });
            emit({
              type: 'tool-result',
              callId: part.toolCallId,
              status: 'error',
              error: toolErrorMessage(part.error),
            });
          }
          break;
        case 'finish-step': {
          usage.steps++;
          usage.inputTokens += part.usage.inputTokens ?? 0;
          usage.outputTokens += part.usage.outputTokens ?? 0;
          usage.costUsd = costOf(usage, options.price);
          lastFinishReason = part.finishReason;
          emit({ type: 'usage', ...usage });
          break;
        }
        case 'error':
          failure ??= describeProviderError(part.error);
          break;
      }
    }
  } catch (error) {
    if (!signal.aborted) failure ??= describeProviderError(error);
  } finally {
    clearTimeout(timer);
  }

  const end = endOf();
  const withEnd = applyRunEvent(parts, {
    type: 'end',
    seq: 0,
    code: end.code,
    message: end.message,
    messageId: '',
  });
  return { ...end, parts: withEnd, usage };

  function overBudget(): CapReached | null {
    const tokens = usage.inputTokens + usage.outputTokens;
    if (tokens >= caps.maxTokens)
      return new CapReached(
        'cap_tokens',
        `The run used ${tokens} tokens, reaching its limit of ${caps.maxTokens}, and was stopped.`,
      );
    if (usage.costUsd >= caps.maxCostUsd)
      return new CapReached(
        'cap_cost',
        `The run cost $${usage.costUsd.toFixed(4)}, reaching its limit of $${caps.maxCostUsd}, and was stopped.`,
      );
    return null;
  }

  function endOf(): { code: RunEndCode; message?: string } {
    if (options.signal.aborted) return { code: 'stopped', message: 'Stopped.' };
    const reason: unknown = timeLimit.signal.aborted ? timeLimit.signal.reason : null;
    if (reason instanceof CapReached) return { code: reason.code, message: reason.message };
    if (failure) return failure;
    const budget = overBudget();
    if (budget) return { code: budget.code, message: budget.message };
    if (usage.steps >= caps.maxSteps && lastFinishReason === 'tool-calls')
      return {
        code: 'cap_steps',
        message: `The run reached its limit of ${caps.maxSteps} steps and was stopped. Send another message to continue.`,
      };
    return { code: 'done' };
  }
}

function costOf(
  usage: { inputTokens: number; outputTokens: number },
  price: ModelPrice | undefined,
): number {
  if (!price) return 0;
  return (usage.inputTokens * price.inputPerMTok + usage.outputTokens * price.outputPerMTok) / 1e6;
}

function toolErrorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Resolves with `promise`, or rejects when `signal` aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
