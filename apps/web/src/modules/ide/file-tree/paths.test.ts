import { describe, expect, it } from 'vitest';
import { baseName, joinPath, parentOf } from './paths.ts';

describe('tree paths', () => {
  it('treats "." as the workspace root', () => {
    expect(parentOf('hello.py')).toBe('.');
    expect(parentOf('src/app/main.ts')).toBe('src/app');
    expect(joinPath('.', 'hello.py')).toBe('hello.py');
    expect(joinPath('src', 'main.ts')).toBe('src/main.ts');
    expect(baseName('src/main.ts')).toBe('main.ts');
    expect(baseName('README')).toBe('README');
  });
});
