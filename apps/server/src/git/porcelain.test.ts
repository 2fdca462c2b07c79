import { describe, expect, it } from 'vitest';
import { parsePorcelainStatus } from './porcelain.ts';

const HASH = 'a'.repeat(40);
const Z = '\0';

describe('parsePorcelainStatus', () => {
  it('reads the branch headers', () => {
    const output = [
      `# branch.oid ${'1234567'}${'0'.repeat(33)}`,
      '# branch.head feature/x',
      '# branch.upstream origin/feature/x',
      '# branch.ab +3 -2',
      '',
    ].join(Z);
    expect(parsePorcelainStatus(output)).toEqual({
      branch: 'feature/x',
      head: '1234567',
      upstream: 'origin/feature/x',
      ahead: 3,
      behind: 2,
      files: [],
    });
  });

  it('reads an empty repository and a detached HEAD', () => {
    expect(parsePorcelainStatus(`# branch.oid (initial)${Z}# branch.head main${Z}`)).toMatchObject({
      branch: 'main',
      head: null,
      upstream: null,
      ahead: 0,
      behind: 0,
    });
    expect(
      parsePorcelainStatus(`# branch.oid ${HASH}${Z}# branch.head (detached)${Z}`),
    ).toMatchObject({ branch: null, head: 'aaaaaaa' });
  });

  it('reads changes, renames with spaces, Unicode names, conflicts and untracked files', () => {
    const output = [
      `1 .M N... 100644 100644 100644 ${HASH} ${HASH} src/a file.ts`,
      `1 A. N... 000000 100644 100644 ${'0'.repeat(40)} ${HASH} ünïcödé ✓.md`,
      `1 D. N... 100644 000000 000000 ${HASH} ${'0'.repeat(40)} gone.txt`,
      `1 .T N... 100644 100644 120000 ${HASH} ${HASH} link`,
      `2 R. N... 100644 100644 100644 ${HASH} ${HASH} R100 new name.txt`,
      'old name.txt',
      `2 RM N... 100644 100644 100644 ${HASH} ${HASH} C75 copy 2.txt`,
      'copy.txt',
      `u UU N... 100644 100644 100644 100644 ${HASH} ${HASH} ${HASH} both edited.txt`,
      `u AA N... 000000 100644 100644 100644 ${'0'.repeat(40)} ${HASH} ${HASH} both added`,
      '? new folder/with\nnewline.txt',
      '! ignored.log',
      '',
    ].join(Z);
    expect(parsePorcelainStatus(output).files).toEqual([
      { path: 'src/a file.ts', index: '.', worktree: 'M' },
      { path: 'ünïcödé ✓.md', index: 'A', worktree: '.' },
      { path: 'gone.txt', index: 'D', worktree: '.' },
      { path: 'link', index: '.', worktree: 'M' },
      { path: 'new name.txt', origPath: 'old name.txt', index: 'R', worktree: '.' },
      { path: 'copy 2.txt', origPath: 'copy.txt', index: 'R', worktree: 'M' },
      { path: 'both edited.txt', index: 'U', worktree: 'U' },
      { path: 'both added', index: 'U', worktree: 'U' },
      { path: 'new folder/with\nnewline.txt', index: '?', worktree: '?' },
    ]);
  });

  it('reads nothing from nothing', () => {
    expect(parsePorcelainStatus('').files).toEqual([]);
  });
});
