import { describe, expect, it } from 'vitest';
import { fuzzyFilter, fuzzyMatch } from './fuzzy.ts';

describe('fuzzy file matching', () => {
  it('matches a subsequence, case-insensitively, and reports where', () => {
    expect(fuzzyMatch('hpy', 'src/Hello.py')?.positions).toEqual([4, 10, 11]);
    expect(fuzzyMatch('xyz', 'src/hello.py')).toBeNull();
  });

  it('ranks file-name and word-start matches above scattered ones', () => {
    const paths = ['src/fixtures/other.ts', 'src/FileTree.tsx', 'docs/fit.md'];
    expect(fuzzyFilter('filetree', paths, 10).map((match) => match.path)).toEqual([
      'src/FileTree.tsx',
    ]);
    expect(fuzzyFilter('fitr', paths, 10)[0]?.path).toBe('src/FileTree.tsx');
  });

  it('keeps every path for an empty query, up to the limit', () => {
    expect(fuzzyFilter('', ['a', 'b', 'c'], 2)).toHaveLength(2);
  });
});
