import type {
  ApprovalDetail,
  ChatMessage,
  MessagePart,
  RunEndCode,
  RunEvent,
} from '@studio/protocol';

/** An approval the run waits for: what the card shows. */
export interface PendingApproval {
  callId: string;
  tool: string;
  input: unknown;
  detail: ApprovalDetail;
}

/** A run as the panel follows it: the assistant message's parts so far and what it waits for. */
export interface RunState {
  runId: string;
  /** Events up to this `seq` are folded in; later replays of them are ignored. */
  lastSeq: number | undefined;
  parts: MessagePart[];
  approvals: Record<string, PendingApproval>;
  /** The stored assistant message, known from the `end` event. */
  messageId: string | null;
  ended: boolean;
}

/** A run before its first event. */
export function initialRunState(runId: string): RunState {
  return { runId, lastSeq: undefined, parts: [], approvals: {}, messageId: null, ended: false };
}

/** Whether a run's end is shown as an error (the model's endpoint, a cap, a bug) or as news. */
export function noticeLevel(code: RunEndCode): 'info' | 'error' {
  return code === 'stopped' ? 'info' : 'error';
}

const END_WORDS: Partial<Record<RunEndCode, string>> = {
  stopped: 'Stopped.',
  cap_steps: 'The run reached its step limit.',
  cap_time: 'The run reached its time limit.',
  cap_tokens: 'The run reached its token limit.',
  cap_cost: 'The run reached its cost limit.',
  budget: 'The budget for AI runs is used up.',
  stream_cut: 'The model stopped answering mid-reply.',
};

function updateTool(
  parts: MessagePart[],
  callId: string,
  update: (part: Extract<MessagePart, { type: 'tool' }>) => MessagePart,
): MessagePart[] {
  const index = parts.findIndex((part) => part.type === 'tool' && part.callId === callId);
  if (index === -1) return parts;
  const next = parts.slice();
  next[index] = update(parts[index] as Extract<MessagePart, { type: 'tool' }>);
  return next;
}

/**
 * Fold one run event into the assistant message's parts, the same shapes the server stores, so
 * a reloaded transcript reads like the streamed one. Pure: answers a new state.
 */
export function applyRunEvent(state: RunState, event: RunEvent): RunState {
  if (state.lastSeq !== undefined && event.seq <= state.lastSeq) return state;
  const next: RunState = { ...state, lastSeq: event.seq };
  const parts = state.parts;
  switch (event.type) {
    case 'text': {
      const last = parts.at(-1);
      next.parts =
        last?.type === 'text'
          ? [...parts.slice(0, -1), { type: 'text', text: last.text + event.delta }]
          : [...parts, { type: 'text', text: event.delta }];
      return next;
    }
    case 'tool-call': {
      const exists = parts.some((part) => part.type === 'tool' && part.callId === event.callId);
      if (!exists) {
        next.parts = [
          ...parts,
          {
            type: 'tool',
            callId: event.callId,
            tool: event.tool,
            input: event.input,
            status: 'running',
          },
        ];
      }
      return next;
    }
    case 'approval': {
      const exists = parts.some((part) => part.type === 'tool' && part.callId === event.callId);
      next.parts = exists
        ? updateTool(parts, event.callId, (part) => ({ ...part, status: 'awaiting_approval' }))
        : [
            ...parts,
            {
              type: 'tool',
              callId: event.callId,
              tool: event.tool,
              input: event.input,
              status: 'awaiting_approval',
            },
          ];
      next.approvals = {
        ...state.approvals,
        [event.callId]: {
          callId: event.callId,
          tool: event.tool,
          input: event.input,
          detail: event.detail,
        },
      };
      return next;
    }
    case 'tool-output':
      next.parts = updateTool(parts, event.callId, (part) => ({
        ...part,
        // Output streaming in means any approval was given.
        status: part.status === 'awaiting_approval' ? 'running' : part.status,
        output: (part.output ?? '') + event.chunk,
      }));
      return next;
    case 'tool-result': {
      next.parts = updateTool(parts, event.callId, (part) => {
        const updated: MessagePart = { ...part, status: event.status };
        if (event.output !== undefined) updated.output = event.output;
        if (event.error !== undefined) updated.error = event.error;
        if (event.decision !== undefined) updated.decision = event.decision;
        return updated;
      });
      if (event.callId in state.approvals) {
        const { [event.callId]: _answered, ...rest } = state.approvals;
        next.approvals = rest;
      }
      return next;
    }
    case 'usage':
      return next;
    case 'end':
      next.ended = true;
      next.messageId = event.messageId;
      next.approvals = {};
      if (event.code !== 'done') {
        next.parts = [
          ...parts,
          {
            type: 'notice',
            level: noticeLevel(event.code),
            code: event.code,
            message: event.message ?? END_WORDS[event.code] ?? 'The run ended early.',
          },
        ];
      }
      return next;
  }
}

/** The transcript to show: stored messages, then the live run's user message and reply. */
export function mergeTranscript(
  stored: ChatMessage[],
  live: { run: RunState; userMessage: ChatMessage | null; mode: ChatMessage['mode'] } | null,
): ChatMessage[] {
  if (!live) return stored;
  const { run, userMessage } = live;
  // Once the stored reply is in, it replaces the live one.
  if (run.messageId !== null && stored.some((message) => message.id === run.messageId)) {
    return stored;
  }
  let messages = stored;
  // A reply the server stored while the run was still going is the live one, in an older state.
  const last = messages.at(-1);
  if (last?.role === 'assistant' && (run.messageId === null || last.id === run.messageId)) {
    const previous = messages.at(-2);
    if (userMessage === null || previous?.id === userMessage.id) messages = messages.slice(0, -1);
  }
  if (userMessage && !messages.some((message) => message.id === userMessage.id)) {
    messages = [...messages, userMessage];
  }
  return [
    ...messages,
    {
      id: run.messageId ?? `live-${run.runId}`,
      role: 'assistant',
      parts: run.parts,
      context: [],
      mode: live.mode,
      createdAt: userMessage?.createdAt ?? '',
    },
  ];
}
