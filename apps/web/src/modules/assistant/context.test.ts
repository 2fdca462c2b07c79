import { describe, expect, it } from 'vitest';
import {
  buildContext,
  CHIPS_OFF_BY_DEFAULT,
  editorChips,
  insertMention,
  mentionAt,
  mentionsInText,
  TERMINAL_CONTEXT_LINES,
  terminalChips,
} from './context.ts';
import {
  diffLineKind,
  monacoLanguage,
  quickActionContext,
  titleFrom,
  toolSummary,
} from './format.ts';

const editor = {
  path: 'src/app.ts',
  selection: { startLine: 3, endLine: 5, text: 'const a = 1;' },
  diagnostics: [{ line: 4, severity: 'error' as const, message: 'bad' }],
};

describe('editorChips and buildContext', () => {
  it('offers the file, the selection, the problems and the open tabs', () => {
    const chips = editorChips(editor, ['src/app.ts', 'README.md', 'diff:staged:x']);
    expect(chips.map((chip) => chip.kind)).toEqual(['file', 'selection', 'diagnostics', 'tabs']);
    expect(chips[1]?.label).toBe('Selection app.ts:3–5');
    expect(chips[3]?.item).toEqual({ kind: 'tabs', paths: ['src/app.ts', 'README.md'] });
  });

  it('offers nothing without an editor and one tab', () => {
    expect(editorChips(null, ['a.ts'])).toEqual([]);
  });

  it('leaves out switched-off chips and repeated mentions', () => {
    const chips = editorChips(editor, []);
    const items = buildContext(chips, new Set(['selection', 'diagnostics']), [
      'src/app.ts',
      'lib/x.ts',
    ]);
    expect(items).toEqual([
      { kind: 'file', path: 'src/app.ts' },
      { kind: 'file', path: 'lib/x.ts' },
    ]);
  });
});

describe('terminalChips', () => {
  it('offers the shown terminal, off until the person switches it on', () => {
    expect(terminalChips(null)).toEqual([]);
    const reads: number[] = [];
    const chips = terminalChips({
      title: 'bash',
      readOutput: (maxLines) => {
        reads.push(maxLines);
        return '$ npm test\nFAIL src/a.test.ts';
      },
    });
    expect(chips.map((chip) => chip.label)).toEqual(['Terminal: bash']);
    expect(buildContext(chips, CHIPS_OFF_BY_DEFAULT, [])).toEqual([]);
    // The buffer is read when the message is sent, not when the chip is offered.
    expect(reads).toEqual([]);
    expect(buildContext(chips, new Set(), [])).toEqual([
      { kind: 'terminal', title: 'bash', text: '$ npm test\nFAIL src/a.test.ts' },
    ]);
    expect(reads).toEqual([TERMINAL_CONTEXT_LINES]);
  });

  it('attaches nothing for a blank terminal, and at most what the server takes', () => {
    const blank = terminalChips({ title: 't', readOutput: () => '  \n' });
    expect(buildContext(blank, new Set(), [])).toEqual([]);
    const long = terminalChips({ title: 't', readOutput: () => `start${'x'.repeat(300_000)}` });
    const [item] = buildContext(long, new Set(), []);
    expect(item?.kind === 'terminal' && item.text.length).toBe(200_000);
  });
});

describe('mentions', () => {
  it('finds the @ being typed at the caret', () => {
    expect(mentionAt('look at @src/a', 14)).toEqual({ start: 8, query: 'src/a' });
    expect(mentionAt('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionAt('mail me@host', 12)).toBeNull();
    expect(mentionAt('@a b', 4)).toBeNull();
  });

  it('inserts the chosen path and moves the caret after it', () => {
    const text = 'see @ap please';
    const mention = mentionAt(text, 7)!;
    expect(insertMention(text, mention, 7, 'src/app.ts')).toEqual({
      text: 'see @src/app.ts  please',
      caret: 16,
    });
  });

  it('keeps only the mentions still in the text', () => {
    expect(mentionsInText('fix @a.ts now', ['a.ts', 'b.ts'])).toEqual(['a.ts']);
    expect(mentionsInText('fix @a.tsx', ['a.ts'])).toEqual([]);
  });
});

describe('format', () => {
  it('maps fence names to Monaco languages', () => {
    expect(monacoLanguage('ts')).toBe('typescript');
    expect(monacoLanguage('language-bash')).toBe('shell');
    expect(monacoLanguage('lua', ['lua'])).toBe('lua');
    expect(monacoLanguage('klingon')).toBe('plaintext');
    expect(monacoLanguage(undefined)).toBe('plaintext');
  });

  it('summarises tool input in one line', () => {
    expect(toolSummary('run_command', { command: 'npm test\nmore' })).toBe('npm test');
    expect(toolSummary('read_file', { path: 'a.ts' })).toBe('a.ts');
    expect(toolSummary('computer', { action: 'left_click', coordinate: [300, 200] })).toBe(
      'left_click 300,200',
    );
    expect(toolSummary('computer', { action: 'type', text: 'echo done' })).toBe('type echo done');
    expect(
      toolSummary('deploy_environment', { template: 'desktop', requirement: 'Compare\nprices' }),
    ).toBe('desktop: Compare');
    expect(toolSummary('git_status', {})).toBe('');
    expect(toolSummary('x', { n: 1 })).toBe('{"n":1}');
  });

  it('colours unified diff lines', () => {
    expect(['--- a/x', '+++ b/x', '@@ -1 +1 @@', '+a', '-b', ' c'].map(diffLineKind)).toEqual([
      'meta',
      'meta',
      'hunk',
      'add',
      'remove',
      'context',
    ]);
  });

  it('attaches the selection, and its problems only to "Fix"', () => {
    const action = {
      path: 'a.ts',
      selection: { startLine: 1, endLine: 2, text: 'x' },
      diagnostics: [{ line: 1, severity: 'error' as const, message: 'm' }],
    };
    expect(quickActionContext({ ...action, kind: 'explain' })).toHaveLength(1);
    expect(quickActionContext({ ...action, kind: 'fix' })[1]).toEqual({
      kind: 'diagnostics',
      path: 'a.ts',
      items: action.diagnostics,
    });
  });

  it('titles a conversation from its first line', () => {
    expect(titleFrom('  hello\nworld')).toBe('hello');
    expect(titleFrom('x'.repeat(80))).toHaveLength(58);
  });
});
