import type { RunEvent } from '@studio/protocol';
import { describe, expect, it } from 'vitest';
import { createSseParser, feedSse, followRun, parseRunEvent, reconnectDelay } from './ai.ts';

describe('feedSse', () => {
  it('keeps a chunk split mid-line until the event ends', () => {
    const parser = createSseParser();
    expect(feedSse(parser, 'data: {"seq":0,')).toEqual([]);
    expect(feedSse(parser, '"type":"text","delta":"hi"}\n')).toEqual([]);
    expect(feedSse(parser, '\n')).toEqual(['{"seq":0,"type":"text","delta":"hi"}']);
    expect(parser.buffer).toBe('');
  });

  it('answers every event of a chunk, in order', () => {
    const parser = createSseParser();
    expect(feedSse(parser, 'data: a\n\ndata: b\n\ndata: c')).toEqual(['a', 'b']);
    expect(feedSse(parser, '\n\n')).toEqual(['c']);
  });

  it('ignores comments, keep-alives and other fields', () => {
    const parser = createSseParser();
    expect(feedSse(parser, ': keep-alive\n\nid: 3\nevent: message\ndata: x\n\n:\n\n')).toEqual([
      'x',
    ]);
  });

  it('joins multi-line data and accepts CRLF', () => {
    const parser = createSseParser();
    expect(feedSse(parser, 'data: one\r\ndata:two\r\n\r\n')).toEqual(['one\ntwo']);
  });
});

describe('parseRunEvent', () => {
  it('parses run events and rejects anything else', () => {
    expect(parseRunEvent('{"seq":1,"type":"text","delta":"x"}')).toEqual({
      seq: 1,
      type: 'text',
      delta: 'x',
    });
    expect(parseRunEvent('{"seq":1,"type":"nope"}')).toBeNull();
    expect(parseRunEvent('not json')).toBeNull();
  });
});

describe('reconnectDelay', () => {
  it('backs off and caps', () => {
    expect(reconnectDelay(0)).toBe(500);
    expect(reconnectDelay(1)).toBe(1000);
    expect(reconnectDelay(20)).toBe(10_000);
  });
});

function sseResponse(chunks: string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

const line = (event: RunEvent) => `data: ${JSON.stringify(event)}\n\n`;

describe('followRun', () => {
  it('resumes after the last seq when the connection drops, until the end event', async () => {
    const urls: string[] = [];
    const responses = [
      sseResponse([
        line({ seq: 0, type: 'text', delta: 'a' }),
        line({ seq: 1, type: 'text', delta: 'b' }),
      ]),
      sseResponse([
        // The server replays one event the client has already seen.
        line({ seq: 1, type: 'text', delta: 'b' }),
        line({ seq: 2, type: 'end', code: 'done', messageId: 'm1' }),
        line({ seq: 3, type: 'text', delta: 'never' }),
      ]),
    ];
    const seen: number[] = [];
    await followRun('r1', {
      signal: new AbortController().signal,
      onEvent: (event) => seen.push(event.seq),
      fetch: async (url) => {
        urls.push(String(url));
        return responses.shift()!;
      },
      sleep: async () => {},
    });
    expect(seen).toEqual([0, 1, 2]);
    expect(urls).toEqual(['/api/ai/runs/r1/events', '/api/ai/runs/r1/events?after=1']);
  });

  it('gives up after repeated failures and on a 404', async () => {
    const errors: string[] = [];
    let calls = 0;
    await followRun('r2', {
      after: 4,
      signal: new AbortController().signal,
      onEvent: () => {},
      onError: (error) => errors.push(error.message),
      maxAttempts: 3,
      fetch: async () => {
        calls += 1;
        throw new TypeError('network');
      },
      sleep: async () => {},
    });
    expect(calls).toBe(3);
    expect(errors).toHaveLength(1);

    await followRun('r3', {
      signal: new AbortController().signal,
      onEvent: () => {},
      onError: (error) => errors.push(error.message),
      fetch: async () => new Response('{}', { status: 404 }),
      sleep: async () => {},
    });
    expect(errors).toHaveLength(2);
  });
});
