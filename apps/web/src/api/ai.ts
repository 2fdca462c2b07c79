import {
  aiSettingsSchema,
  conversationDetailSchema,
  conversationListSchema,
  conversationSchema,
  runEventSchema,
  sendMessageResultSchema,
  type ApprovalBody,
  type RunEvent,
  type RunMessageBody,
  type SendMessageBody,
} from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson, requestVoid } from './http.ts';

/**
 * Whose conversations: a workspace's (by name, the IDE's assistant) or, with `null`, the main
 * agent's, which belong to no workspace (Mission control).
 */
export type ConversationScope = string | null;

/** Query keys of the assistant: the model settings and each scope's conversations. */
export const aiQueryKeys = {
  settings: () => ['ai', 'settings'] as const,
  // The main agent's key holds `null` where a workspace's holds its name, so the two never meet.
  conversations: (scope: ConversationScope) => ['ai-conversations', scope] as const,
  conversation: (scope: ConversationScope, id: string) => ['ai-conversations', scope, id] as const,
};

function conversationsPath(scope: ConversationScope, rest = ''): string {
  if (scope === null) return `/api/ai/conversations${rest}`;
  return `/api/workspaces/${encodeURIComponent(scope)}/ai/conversations${rest}`;
}

function runPath(runId: string, rest: string): string {
  return `/api/ai/runs/${encodeURIComponent(runId)}/${rest}`;
}

/** `GET /api/ai/settings`: which model serves chat and agent runs (`null` when none does). */
export function aiSettingsQueryOptions() {
  return queryOptions({
    queryKey: aiQueryKeys.settings(),
    queryFn: () => requestJson('GET', '/api/ai/settings', aiSettingsSchema),
    staleTime: 30_000,
  });
}

/** A scope's conversations, newest first. */
export function conversationsQueryOptions(scope: ConversationScope) {
  return queryOptions({
    queryKey: aiQueryKeys.conversations(scope),
    queryFn: async () =>
      (await requestJson('GET', conversationsPath(scope), conversationListSchema)).conversations,
  });
}

/** One conversation with its messages, as stored. */
export function conversationQueryOptions(scope: ConversationScope, id: string) {
  return queryOptions({
    queryKey: aiQueryKeys.conversation(scope, id),
    queryFn: () =>
      requestJson(
        'GET',
        conversationsPath(scope, `/${encodeURIComponent(id)}`),
        conversationDetailSchema,
      ),
  });
}

/** `POST …/conversations`: a new, empty conversation. */
export function createConversation(scope: ConversationScope, title?: string) {
  return requestJson(
    'POST',
    conversationsPath(scope),
    conversationSchema,
    title === undefined ? {} : { title },
  );
}

/** `PATCH …/conversations/:id`: rename. */
export function renameConversation(scope: ConversationScope, id: string, title: string) {
  return requestJson(
    'PATCH',
    conversationsPath(scope, `/${encodeURIComponent(id)}`),
    conversationSchema,
    {
      title,
    },
  );
}

/** `DELETE …/conversations/:id`: also stops its run. */
export function deleteConversation(scope: ConversationScope, id: string): Promise<void> {
  return requestVoid('DELETE', conversationsPath(scope, `/${encodeURIComponent(id)}`));
}

/** `POST …/conversations/:id/messages`: 409 `run_busy` or `ai_not_configured`; answers the run. */
export function sendMessage(scope: ConversationScope, id: string, body: SendMessageBody) {
  return requestJson(
    'POST',
    conversationsPath(scope, `/${encodeURIComponent(id)}/messages`),
    sendMessageResultSchema,
    body,
  );
}

/** `POST /api/ai/runs/:id/approvals/:callId`: the person's answer to an approval card. */
export function answerApproval(runId: string, callId: string, body: ApprovalBody): Promise<void> {
  return requestVoid('POST', runPath(runId, `approvals/${encodeURIComponent(callId)}`), body);
}

/** `POST /api/ai/runs/:id/messages`: a note for a running agent, read at its next step (202). */
export function sendRunMessage(runId: string, body: RunMessageBody): Promise<void> {
  return requestVoid('POST', runPath(runId, 'messages'), body);
}

/** `POST /api/ai/runs/:id/pause`: the run waits before its next step until resumed. */
export function pauseRun(runId: string): Promise<void> {
  return requestVoid('POST', runPath(runId, 'pause'));
}

/** `POST /api/ai/runs/:id/resume`. */
export function resumeRun(runId: string): Promise<void> {
  return requestVoid('POST', runPath(runId, 'resume'));
}

/** `POST /api/ai/runs/:id/stop`. */
export function stopRun(runId: string): Promise<void> {
  return requestVoid('POST', runPath(runId, 'stop'));
}

// ---- Server-Sent Events --------------------------------------------------------------------

/** The part of an SSE stream not yet ended by a blank line, carried between chunks. */
export interface SseParser {
  buffer: string;
}

/** A parser with nothing buffered. */
export function createSseParser(): SseParser {
  return { buffer: '' };
}

/**
 * Feed one decoded chunk; answers the `data` of each event the chunk completed. Chunks may end
 * mid-line or mid-event: the rest waits in `parser.buffer`. Comment lines (`:` keep-alives) and
 * fields other than `data` are skipped; multi-line data joins with `\n`, as the SSE spec says.
 */
export function feedSse(parser: SseParser, chunk: string): string[] {
  parser.buffer += chunk;
  const events: string[] = [];
  // Events end with a blank line; CRLF and CR are valid line ends too.
  const normalized = parser.buffer.replace(/\r\n?/g, '\n');
  const blocks = normalized.split('\n\n');
  parser.buffer = blocks.pop() ?? '';
  for (const block of blocks) {
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      if (field !== 'data') continue;
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      data.push(value);
    }
    if (data.length > 0) events.push(data.join('\n'));
  }
  return events;
}

/** Parse one event's data as a run event; `null` for anything that is not one. */
export function parseRunEvent(data: string): RunEvent | null {
  try {
    const result = runEventSchema.safeParse(JSON.parse(data));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}

/** How long to wait before reconnect attempt `attempt` (0-based): doubling, capped at 10 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** attempt);
}

/** Options of `followRun`; `fetch` and `sleep` are injectable for tests. */
export interface FollowRunOptions {
  /** Resume after this `seq` (the last event already seen); absent replays from the start. */
  after?: number;
  onEvent: (event: RunEvent) => void;
  /** Called when reconnecting stops helping (the run is gone, or too many failures). */
  onError?: (error: Error) => void;
  signal: AbortSignal;
  /** Give up after this many failed connections in a row. */
  maxAttempts?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * Follow a run's events until its `end` event, reconnecting with `?after=<last seq>` when the
 * connection drops, so every event arrives once and in order. Resolves when the run ended, the
 * signal aborted, or `onError` was told it cannot go on.
 */
export async function followRun(runId: string, options: FollowRunOptions): Promise<void> {
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? defaultSleep;
  const maxAttempts = options.maxAttempts ?? 8;
  let last = options.after;
  let failures = 0;
  while (!options.signal.aborted) {
    const query = last === undefined ? '' : `?after=${last}`;
    let ended = false;
    let progressed = false;
    try {
      const response = await doFetch(runPath(runId, `events${query}`), {
        credentials: 'same-origin',
        headers: { accept: 'text/event-stream' },
        signal: options.signal,
      });
      // 4xx: the run is gone or not ours; retrying cannot help.
      if (response.status >= 400 && response.status < 500) {
        options.onError?.(new Error(`The run's events are unavailable (HTTP ${response.status}).`));
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = createSseParser();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const data of feedSse(parser, value)) {
          const event = parseRunEvent(data);
          if (!event) continue;
          // A replay after a reconnect may repeat what was seen; each seq counts once.
          if (last !== undefined && event.seq <= last) continue;
          last = event.seq;
          progressed = true;
          options.onEvent(event);
          if (event.type === 'end') ended = true;
        }
        if (ended) {
          await reader.cancel().catch(() => {});
          break;
        }
      }
    } catch {
      // A dropped connection: fall through to the backoff and resume after the last seq.
    }
    if (ended || options.signal.aborted) return;
    failures = progressed ? 0 : failures + 1;
    if (failures >= maxAttempts) {
      options.onError?.(
        new Error('Lost the connection to the run. Reopen the conversation to retry.'),
      );
      return;
    }
    await sleep(reconnectDelay(failures), options.signal);
  }
}
