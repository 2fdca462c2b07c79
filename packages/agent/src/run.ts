import type {
  ApprovalDetail,
  MessagePart,
  PolicyDecision,
  RunEndCode,
  RunEvent,
} from '@studio/protocol';
import { applyRunEvent } from '@studio/protocol';
import { anthropic } from '@ai-sdk/anthropic';
import {
  jsonSchema,
  streamText,
  tool as sdkTool,
  type ImagePart,
  type LanguageModel,
  type ModelMessage,
  type Tool,
  type ToolResultPart,
  type ToolSet,
} from 'ai';
import { describeProviderError } from './provider-errors.ts';
import {
  ToolError,
  resultText,
  type AgentTool,
  type ToolContext,
  type ToolResult,
} from './tools/tool.ts';

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
  tools: readonly AgentTool<unknown, ToolResult>[];
  /** The workspace side of every tool call. */
  context: Omit<ToolContext, 'signal' | 'onOutput'>;
  /** The permission policy, already bound to the person and the workspace. */
  decide(tool: AgentTool<unknown, ToolResult>, subject: string): PolicyDecision;
  /** Shows an approval card and waits for the answer. */
  askApproval(request: {
    callId: string;
    tool: AgentTool<unknown, ToolResult>;
    input: unknown;
    detail: ApprovalDetail;
  }): Promise<ApprovalAnswer>;
  /** Called once per finished tool call (the audit log). */
  onToolCall?(record: ToolCallRecord): void;
  /**
   * Awaited just before a tool runs, its `tool-call` event emitted: resolves once the call is
   * stored where a run resumed elsewhere reads it, answering false when this run may no longer
   * act (another server took it over). A call is stored before it has any effect, so a server
   * that takes the run over reports it as interrupted instead of running it again.
   */
  beforeExecute?(callId: string): Promise<boolean>;
  caps: RunCaps;
  price?: ModelPrice | undefined;
  emit(event: AgentEvent): void;
  /** The person pressed Stop. */
  signal: AbortSignal;
  /** Removes secrets from what tools return before anyone (the model included) sees it. */
  redact(text: string): string;
  maxRetries?: number;
  /**
   * Messages the person sent while the run works. Taken before each model step and added to the
   * conversation as their messages (and shown as `user-note` events). A message that arrives
   * after the model's last step stays in the inbox: the caller sends it as a new turn.
   */
  inbox?: { take(): string[] | Promise<string[]> };
  /**
   * Awaited before each model step after the first (pause and resume). Stop ends the wait; the
   * time cap keeps counting while it waits.
   */
  gate?: () => Promise<void>;
  /**
   * Called before each model step after the first with the conversation as the model will see
   * it: every earlier step done, its tool results in. A run resumed elsewhere starts from here.
   */
  onCheckpoint?(state: { messages: ModelMessage[]; usage: RunOutcome['usage'] }): void;
  /**
   * A run resumed after its server stopped: the step that was under way when it stopped. Its
   * text and tool calls are put back in the conversation; a call that waited for approval waits
   * again (the card is still shown), one that was running is reported to the model as
   * interrupted, never run twice.
   */
  resumed?: {
    text: string;
    calls: Array<{
      callId: string;
      tool: string;
      input: unknown;
      awaitingApproval: boolean;
      /** What the model is told of a call that finished before the stop. */
      result?: string;
    }>;
  };
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

  const provider = typeof options.model === 'string' ? '' : options.model.provider;
  const tools: ToolSet = {};
  for (const agentTool of options.tools) {
    tools[agentTool.name] = sdkToolOf(agentTool, provider, (input, callId) => {
      seenCalls.add(callId);
      return callTool(agentTool, callId, input);
    });
  }
  // Messages the person sent during the run, each placed where the conversation stood when it
  // was taken: the SDK rebuilds every step's messages from its own, so they are put back each step.
  const notes: Array<{ at: number; message: ModelMessage }> = [];
  const imagesInToolResults = IMAGES_IN_TOOL_RESULTS.test(provider);

  async function callTool(
    agentTool: AgentTool<unknown, ToolResult>,
    callId: string,
    modelInput: unknown,
    /** The call and its approval card were shown before the run was resumed. */
    shown = false,
  ): Promise<ToolResult> {
    const started = performance.now();
    let input = modelInput;
    const context: ToolContext = {
      ...options.context,
      signal,
      onOutput: (chunk) => emit({ type: 'tool-output', callId, chunk: options.redact(chunk) }),
    };
    if (!shown) emit({ type: 'tool-call', callId, tool: agentTool.name, input });
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
      if (!shown) emit({ type: 'approval', callId, tool: agentTool.name, input, detail, subject });
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
      // At most once: a call that could not be stored, or of a run this server lost, never runs.
      if (options.beforeExecute && !(await options.beforeExecute(callId)))
        throw new ToolError('not run: the run is no longer driven here');
      const result = await agentTool.execute(input, context);
      const output = options.redact(resultText(result));
      emit({
        type: 'tool-result',
        callId,
        status: 'done',
        ...(input === modelInput ? {} : { input }),
        output,
        decision: { by: decidedBy },
      });
      record('done', { decidedBy, input });
      return typeof result === 'string' ? output : { ...result, text: output };
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
        ...(input === modelInput ? {} : { input }),
        error: message,
        decision: { by: decidedBy },
      });
      record('error', { decidedBy, error: message, input });
      return `Error: ${message}`;
    }
  }

  try {
    const messages = options.resumed
      ? [...options.messages, ...(await finishResumedStep(options.resumed))]
      : options.messages;
    const result = streamText({
      model: options.model,
      system: options.system,
      messages,
      tools,
      abortSignal: signal,
      maxRetries: options.maxRetries ?? 2,
      // Failures arrive as `error` parts below and end the run with a message; no console noise.
      onError: () => {},
      stopWhen: ({ steps }) => steps.length >= caps.maxSteps || overBudget() !== null,
      prepareStep: async ({ stepNumber, messages }) => {
        if (stepNumber > 0 && options.gate) await untilAborted(options.gate(), signal);
        for (const text of (await options.inbox?.take()) ?? []) {
          if (!text.trim()) continue;
          emit({ type: 'user-note', text });
          notes.push({ at: messages.length, message: { role: 'user', content: text } });
        }
        const conversation = conversationOf(messages);
        if (stepNumber > 0) options.onCheckpoint?.({ messages: conversation, usage: { ...usage } });
        return { messages: conversation };
      },
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

  /**
   * The step that was under way when the run's server stopped, finished: calls waiting for
   * approval wait again and run (or are denied), calls that were running are reported as
   * interrupted. Answers the assistant's message and the tool results, for the conversation.
   */
  async function finishResumedStep(step: NonNullable<RunAgentOptions['resumed']>) {
    const results: ToolResultPart[] = [];
    for (const call of step.calls) {
      seenCalls.add(call.callId);
      const agentTool = options.tools.find((item) => item.name === call.tool);
      let result: ToolResult;
      if (call.result !== undefined) {
        result = call.result;
      } else if (!agentTool) {
        result = `Error: the tool ${call.tool} is no longer available.`;
      } else if (call.awaitingApproval) {
        result = await callTool(agentTool, call.callId, call.input, true);
      } else {
        const message =
          'Interrupted: the server running this call stopped before it finished, so it may or ' +
          'may not have taken effect. Check its effect before you run it again.';
        emit({ type: 'tool-result', callId: call.callId, status: 'error', error: message });
        result = message;
      }
      results.push({
        type: 'tool-result',
        toolCallId: call.callId,
        toolName: call.tool,
        output: modelOutputOf(result),
      });
    }
    const assistant: ModelMessage = {
      role: 'assistant',
      content: [
        ...(step.text ? [{ type: 'text' as const, text: step.text }] : []),
        ...step.calls.map((call) => ({
          type: 'tool-call' as const,
          toolCallId: call.callId,
          toolName: call.tool,
          input: call.input,
        })),
      ],
    };
    // A step that was only writing text starts again: the model writes it anew.
    return step.calls.length ? [assistant, { role: 'tool' as const, content: results }] : [];
  }

  /** The step's messages with the person's notes in place, and images out of tool results where needed. */
  function conversationOf(messages: ModelMessage[]): ModelMessage[] {
    const conversation: ModelMessage[] = [];
    messages.forEach((message, index) => {
      for (const note of notes) if (note.at === index) conversation.push(note.message);
      conversation.push(...(imagesInToolResults ? [message] : withImagesAfter(message)));
    });
    for (const note of notes) if (note.at >= messages.length) conversation.push(note.message);
    return conversation;
  }

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

// Anthropic and Google take images inside a tool result; OpenAI's Chat Completions (and the
// compatible servers) take text only there, and the SDK would send the image as JSON text.
const IMAGES_IN_TOOL_RESULTS = /^(anthropic|google|vertex)\b/;

/** The AI SDK tool for an agent tool: on Claude, a computer-use tool is Anthropic's own. */
function sdkToolOf(
  agentTool: AgentTool<unknown, ToolResult>,
  provider: string,
  call: (input: unknown, callId: string) => Promise<ToolResult>,
): Tool {
  const execute = (input: unknown, { toolCallId }: { toolCallId: string }) =>
    call(input, toolCallId);
  const toModelOutput = ({ output }: { output: ToolResult }) => modelOutputOf(output);
  if (agentTool.computerUse && provider.startsWith('anthropic')) {
    const computer = anthropic.tools.computer_20250124({
      displayWidthPx: agentTool.computerUse.displayWidth,
      displayHeightPx: agentTool.computerUse.displayHeight,
      execute,
      toModelOutput,
    });
    // The same tool to `ai` at runtime (its schema brand is a global Symbol.for), but a different
    // copy of @ai-sdk/provider-utils when `ai` and @ai-sdk/anthropic pin different patch versions.
    return computer as unknown as Tool;
  }
  return sdkTool({
    description: agentTool.description,
    inputSchema: agentTool.jsonSchema
      ? jsonSchema<unknown>(agentTool.jsonSchema)
      : agentTool.inputSchema,
    execute,
    toModelOutput,
  });
}

/** A tool's result as the model reads it: text, or text and an image. */
function modelOutputOf(result: ToolResult): ToolResultPart['output'] {
  if (typeof result === 'string') return { type: 'text', value: result };
  return {
    type: 'content',
    value: [
      { type: 'text', text: result.text },
      { type: 'image-data', data: result.image.base64, mediaType: result.image.mediaType },
    ],
  };
}

/**
 * For providers that take text only in tool results: the images of a tool message's results
 * follow it as a user message, where every vision model reads them.
 */
function withImagesAfter(message: ModelMessage): ModelMessage[] {
  if (message.role !== 'tool') return [message];
  const images: ImagePart[] = [];
  const content = message.content.map((part) => {
    if (part.type !== 'tool-result' || part.output.type !== 'content') return part;
    const texts: string[] = [];
    for (const item of part.output.value) {
      if (item.type === 'text') texts.push(item.text);
      if (item.type === 'image-data')
        images.push({ type: 'image', image: item.data, mediaType: item.mediaType });
    }
    const value = `${texts.join('\n')}\n(the image follows in the next message)`;
    return { ...part, output: { type: 'text' as const, value } };
  });
  if (images.length === 0) return [message];
  return [
    { ...message, content },
    {
      role: 'user',
      content: [{ type: 'text', text: 'The image from the tool result above:' }, ...images],
    },
  ];
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
