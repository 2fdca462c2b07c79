import type { ChatMessage } from '@studio/protocol';
import { describe, expect, it } from 'vitest';
import { historyMessages } from './prompt.ts';

describe('historyMessages', () => {
  it('replays a message sent during a run where the model read it', () => {
    const reply: ChatMessage = {
      id: 'a1',
      role: 'assistant',
      mode: 'agent',
      context: [],
      createdAt: '',
      parts: [
        { type: 'tool', callId: 'c1', tool: 'add', input: { a: 1 }, status: 'done', output: '1' },
        { type: 'user-note', text: 'use the other file' },
        { type: 'text', text: 'Switched.' },
      ],
    };
    expect(historyMessages([reply]).map((message) => message.role)).toEqual([
      'assistant',
      'tool',
      'user',
      'assistant',
    ]);
    expect(historyMessages([reply])[2]).toEqual({ role: 'user', content: 'use the other file' });
  });
});
