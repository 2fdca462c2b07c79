import type { ChatMessage, RunEvent } from '@studio/protocol';
import { describe, expect, it } from 'vitest';
import { applyRunEvent, initialRunState, mergeTranscript, type RunState } from './run-state.ts';

function fold(events: RunEvent[]): RunState {
  return events.reduce(applyRunEvent, initialRunState('r1'));
}

describe('applyRunEvent', () => {
  it('knows whether the run is paused, so a reloaded page shows Resume', () => {
    const paused = fold([
      { seq: 0, type: 'text', delta: 'Working' },
      { seq: 1, type: 'paused', paused: true },
    ]);
    expect(paused.paused).toBe(true);
    expect(paused.parts).toEqual([{ type: 'text', text: 'Working' }]);
    expect(applyRunEvent(paused, { seq: 2, type: 'paused', paused: false }).paused).toBe(false);
  });

  it('joins text deltas into one part until a tool call', () => {
    const state = fold([
      { seq: 0, type: 'text', delta: 'Hel' },
      { seq: 1, type: 'text', delta: 'lo' },
      { seq: 2, type: 'tool-call', callId: 'c1', tool: 'read_file', input: { path: 'a.ts' } },
      { seq: 3, type: 'tool-result', callId: 'c1', status: 'done', output: 'x' },
      { seq: 4, type: 'text', delta: 'Done' },
      { seq: 5, type: 'end', code: 'done', messageId: 'm1' },
    ]);
    expect(state.parts).toEqual([
      { type: 'text', text: 'Hello' },
      {
        type: 'tool',
        callId: 'c1',
        tool: 'read_file',
        input: { path: 'a.ts' },
        status: 'done',
        output: 'x',
      },
      { type: 'text', text: 'Done' },
    ]);
    expect(state.ended).toBe(true);
    expect(state.messageId).toBe('m1');
  });

  it('streams tool output, then keeps the final result and decision', () => {
    // The server announces every call before its approval card.
    const state = fold([
      {
        seq: -1,
        type: 'tool-call',
        callId: 'c1',
        tool: 'run_command',
        input: { command: 'npm test' },
      },
      {
        seq: 0,
        type: 'approval',
        callId: 'c1',
        tool: 'run_command',
        input: { command: 'npm test' },
        detail: { summary: 'run_command: npm test', command: 'npm test' },
      },
      { seq: 1, type: 'tool-output', callId: 'c1', chunk: 'PASS ' },
      { seq: 2, type: 'tool-output', callId: 'c1', chunk: 'a.test.ts\n' },
    ]);
    expect(state.parts[0]).toMatchObject({ status: 'running', output: 'PASS a.test.ts\n' });
    expect(Object.keys(state.approvals)).toEqual(['c1']);
    const done = applyRunEvent(state, {
      seq: 3,
      type: 'tool-result',
      callId: 'c1',
      status: 'done',
      output: 'exit 0',
      decision: { by: 'user' },
    });
    expect(done.parts[0]).toMatchObject({
      status: 'done',
      output: 'exit 0',
      decision: { by: 'user' },
    });
    expect(done.approvals).toEqual({});
  });

  it('marks a call awaiting approval and records what the card shows', () => {
    const state = fold([
      { seq: 0, type: 'tool-call', callId: 'c1', tool: 'write_file', input: { path: 'a' } },
      {
        seq: 1,
        type: 'approval',
        callId: 'c1',
        tool: 'write_file',
        input: { path: 'a' },
        detail: { summary: 'write_file: a', diff: '+x' },
      },
    ]);
    expect(state.parts).toHaveLength(1);
    expect(state.parts[0]).toMatchObject({ status: 'awaiting_approval' });
    expect(state.approvals.c1?.detail.diff).toBe('+x');
  });

  it('ignores repeated events after a reconnect', () => {
    const once = fold([{ seq: 0, type: 'text', delta: 'a' }]);
    expect(applyRunEvent(once, { seq: 0, type: 'text', delta: 'a' })).toBe(once);
  });

  it('adds a notice when the run does not simply finish', () => {
    const capped = fold([
      {
        seq: 0,
        type: 'end',
        code: 'provider_auth',
        message: 'The key was refused (401).',
        messageId: 'm',
      },
    ]);
    expect(capped.parts).toEqual([
      {
        type: 'notice',
        level: 'error',
        code: 'provider_auth',
        message: 'The key was refused (401).',
      },
    ]);
    const stopped = fold([{ seq: 0, type: 'end', code: 'stopped', messageId: 'm' }]);
    expect(stopped.parts[0]).toMatchObject({ type: 'notice', level: 'info', code: 'stopped' });
  });
});

const message = (id: string, role: 'user' | 'assistant', text = id): ChatMessage => ({
  id,
  role,
  parts: [{ type: 'text', text }],
  context: [],
  mode: 'chat',
  createdAt: '2026-01-01T00:00:00Z',
});

describe('mergeTranscript', () => {
  const run = fold([{ seq: 0, type: 'text', delta: 'live' }]);

  it('appends the live user message and reply', () => {
    const merged = mergeTranscript([message('u1', 'user'), message('a1', 'assistant')], {
      run,
      userMessage: message('u2', 'user'),
      mode: 'chat',
    });
    expect(merged.map((item) => item.id)).toEqual(['u1', 'a1', 'u2', 'live-r1']);
  });

  it('replaces a partial stored reply of the run', () => {
    const merged = mergeTranscript([message('u1', 'user'), message('a1', 'assistant', 'li')], {
      run,
      userMessage: null,
      mode: 'chat',
    });
    expect(merged.map((item) => item.id)).toEqual(['u1', 'live-r1']);
    expect(merged[1]?.parts).toEqual([{ type: 'text', text: 'live' }]);
  });

  it('shows the stored transcript alone once it holds the reply', () => {
    const ended = applyRunEvent(run, { seq: 1, type: 'end', code: 'done', messageId: 'a2' });
    const stored = [message('u2', 'user'), message('a2', 'assistant', 'live')];
    expect(
      mergeTranscript(stored, { run: ended, userMessage: message('u2', 'user'), mode: 'chat' }),
    ).toBe(stored);
  });
});
