import diff from 'fast-diff';
import type * as Y from 'yjs';

/**
 * Apply the change from `before` to `after` onto `text`, which holds `current`: positions in
 * `before` are carried to `current` through the two texts' common parts (where `current` changed
 * the same place too, the edit lands at the start of that change).
 */
export function replay(text: Y.Text, before: string, after: string, current: string): void {
  // Where each position of `before` is in `current`.
  const segments: { from: number; to: number; length: number }[] = [];
  let [inBefore, inCurrent] = [0, 0];
  for (const [op, part] of diff(before, current)) {
    if (op === diff.EQUAL) {
      segments.push({ from: inBefore, to: inCurrent, length: part.length });
      inBefore += part.length;
      inCurrent += part.length;
    } else if (op === diff.DELETE) inBefore += part.length;
    else inCurrent += part.length;
  }
  const carry = (position: number) => {
    let mapped = 0;
    for (const segment of segments) {
      if (position < segment.from) break;
      mapped = segment.to + Math.min(position - segment.from, segment.length);
    }
    return mapped;
  };
  // Edits in `before`'s positions, applied last first so earlier positions still hold.
  const edits: { at: number; remove: number; insert: string }[] = [];
  let index = 0;
  for (const [op, part] of diff(before, after)) {
    if (op === diff.EQUAL) index += part.length;
    else if (op === diff.DELETE) {
      edits.push({ at: index, remove: part.length, insert: '' });
      index += part.length;
    } else edits.push({ at: index, remove: 0, insert: part });
  }
  for (const edit of edits.reverse()) {
    const start = carry(edit.at);
    const end = carry(edit.at + edit.remove);
    if (end > start) text.delete(start, end - start);
    if (edit.insert) text.insert(start, edit.insert);
  }
}
