import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { replay } from './replay.ts';

function replayed(before: string, after: string, current: string): string {
  const text = new Y.Doc().getText('content');
  text.insert(0, current);
  replay(text, before, after, current);
  return text.toString();
}

describe('replaying what was typed before the shared document arrived', () => {
  it('applies the edit as is when the document is what the editor opened', () => {
    expect(replayed('one\ntwo\n', '// typed\none\ntwo\n', 'one\ntwo\n')).toBe(
      '// typed\none\ntwo\n',
    );
  });

  it('carries the edit past what others changed meanwhile, keeping theirs', () => {
    // Someone added a line above and changed "two"; this editor typed at the end of "three".
    expect(replayed('one\ntwo\nthree\n', 'one\ntwo\nthree!\n', 'zero\none\nTWO\nthree\n')).toBe(
      'zero\none\nTWO\nthree!\n',
    );
  });

  it('a deletion around what another typed meanwhile takes the whole range, as the editor saw it', () => {
    expect(replayed('a b c d', 'a d', 'a b X c d')).toBe('a d');
  });
});
