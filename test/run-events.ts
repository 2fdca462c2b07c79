// Test helper: follows an assistant run's Server-Sent Events to its end, answering each approval
// card the way the person in the test would.
import { runEventSchema, type RunEvent } from '@studio/protocol';

export type ApprovalEvent = Extract<RunEvent, { type: 'approval' }>;

/**
 * Reads `GET /api/ai/runs/:id/events` until the `end` event. `answer` posts the person's answer
 * to each approval card (return `null` to leave the card open).
 */
export async function followRun(options: {
  origin: string;
  cookie: string;
  runId: string;
  answer?: (event: ApprovalEvent) => Promise<void>;
  /** Each event as it arrives, with `performance.now()` at its arrival (benches). */
  onEvent?: (event: RunEvent, at: number) => void;
}): Promise<RunEvent[]> {
  const response = await fetch(`${options.origin}/api/ai/runs/${options.runId}/events`, {
    headers: { cookie: options.cookie },
  });
  if (!response.ok || !response.body) throw new Error(`run events: ${response.status}`);
  const events: RunEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let cut;
    while ((cut = buffer.indexOf('\n\n')) !== -1) {
      const data = buffer
        .slice(0, cut)
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      buffer = buffer.slice(cut + 2);
      if (!data) continue;
      const event = runEventSchema.parse(JSON.parse(data));
      options.onEvent?.(event, performance.now());
      events.push(event);
      if (event.type === 'approval') await options.answer?.(event);
    }
  }
  if (events.at(-1)?.type !== 'end')
    throw new Error('the run’s event stream ended before its end event');
  return events;
}

/** The text the assistant streamed. */
export function streamedText(events: readonly RunEvent[]): string {
  return events.map((event) => (event.type === 'text' ? event.delta : '')).join('');
}
