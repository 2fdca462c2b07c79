import { describe, expect, it } from 'vitest';
import { applySnippet, placeSnippet } from './place-snippet.ts';

const PYTHON = [
  'import math',
  '',
  'def add(a, b):',
  '    return a - b',
  '',
  '',
  'def area(r):',
  '    return math.pi * r * r',
  '',
].join('\n');

const TS = [
  'export function a() {',
  '  return 1;',
  '}',
  '',
  'export function b() {',
  '  return 2;',
  '}',
  '',
].join('\n');

describe('placeSnippet', () => {
  it('puts a rewritten Python function in place of the old one, and nowhere else', () => {
    const code = 'def add(a, b):\n    """Sum."""\n    return a + b\n';
    const placement = placeSnippet(PYTHON, code);
    expect(placement).toEqual({ kind: 'lines', startLine: 3, endLine: 4 });
    expect(applySnippet(PYTHON, code, placement)).toBe(
      PYTHON.replace('    return a - b', '    """Sum."""\n    return a + b'),
    );
  });

  it('takes a braced function up to its closing brace', () => {
    const code = 'export function b() {\n  return 3;\n}';
    const placement = placeSnippet(TS, code);
    expect(placement).toEqual({ kind: 'lines', startLine: 5, endLine: 7 });
    expect(applySnippet(TS, code, placement)).toBe(TS.replace('return 2', 'return 3'));
  });

  it('replaces the selection the person had', () => {
    const placement = placeSnippet(PYTHON, 'import math, sys', { startLine: 1, endLine: 1 });
    expect(applySnippet(PYTHON, 'import math, sys', placement)).toBe(
      PYTHON.replace('import math', 'import math, sys'),
    );
  });

  it('takes the whole file when the first line is nowhere or in two places', () => {
    expect(placeSnippet(PYTHON, 'print("hi")')).toEqual({ kind: 'whole' });
    expect(placeSnippet('x = 1\nx = 1\n', 'x = 1\ny = 2')).toEqual({ kind: 'whole' });
    expect(applySnippet('old\n', 'new', { kind: 'whole' })).toBe('new\n');
  });
});
