import {
  applyRunEvent as foldRunEvent,
  type ApprovalDetail,
  type ChatMessage,
  type MessagePart,
  type RunEvent,
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
  /** The person paused it: it waits before its next step. */
  paused: boolean;
}

/** A run before its first event. */
export function initialRunState(runId: string): RunState {
  return {
    runId,
    lastSeq: undefined,
    parts: [],
    approvals: {},
    messageId: null,
    ended: false,
    paused: false,
  };
}

/**
 * Fold one run event into the run: the assistant message's parts (the server's own fold, so a
 * reloaded transcript reads like the streamed one), the open approval cards, and how it ended.
 * Replayed events (after a reconnect) are ignored. Pure: answers a new state.
 */
export function applyRunEvent(state: RunState, event: RunEvent): RunState {
  if (state.lastSeq !== undefined && event.seq <= state.lastSeq) return state;
  const next: RunState = { ...state, lastSeq: event.seq, parts: foldRunEvent(state.parts, event) };
  if (event.type === 'approval') {
    const { callId, tool, input, detail } = event;
    next.approvals = { ...state.approvals, [callId]: { callId, tool, input, detail } };
  } else if (event.type === 'tool-result' && event.callId in state.approvals) {
    const { [event.callId]: _answered, ...rest } = state.approvals;
    next.approvals = rest;
  } else if (event.type === 'paused') {
    next.paused = event.paused;
  } else if (event.type === 'end') {
    next.ended = true;
    next.paused = false;
    next.messageId = event.messageId;
    next.approvals = {};
  }
  return next;
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
