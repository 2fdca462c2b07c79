import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInRoot, toWorkspacePath } from './paths.ts';

let base: string;
let root: string;
let outside: string;

beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(tmpdir(), 'studio-paths-')));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  await mkdir(path.join(root, 'src'), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret.txt'), 'secret');
  await writeFile(path.join(root, 'src', 'a.ts'), 'a');
  await symlink(outside, path.join(root, 'escape'));
  await symlink(path.join(outside, 'secret.txt'), path.join(root, 'secret-link'));
  await symlink('/nonexistent-studio-target', path.join(root, 'dangling-out'));
  await symlink('src', path.join(root, 'inside-link'));
  await symlink('src/new-file.txt', path.join(root, 'dangling-in'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: { code?: string }) => error.code,
  );

describe('resolveInRoot', () => {
  it('keeps ordinary relative paths inside the root', async () => {
    expect(await resolveInRoot(root, 'src/a.ts')).toBe(path.join(root, 'src', 'a.ts'));
    expect(await resolveInRoot(root, '.')).toBe(root);
    expect(await resolveInRoot(root, 'src/new/deeper.txt')).toBe(
      path.join(root, 'src', 'new', 'deeper.txt'),
    );
  });

  it('takes absolute paths relative to the root', async () => {
    expect(await resolveInRoot(root, '/etc/passwd')).toBe(path.join(root, 'etc', 'passwd'));
    expect(await resolveInRoot(root, '/')).toBe(root);
  });

  it('refuses ../ that climbs out, but allows ../ that stays inside', async () => {
    expect(await code(resolveInRoot(root, '../outside/secret.txt'))).toBe('path_outside_workspace');
    expect(await code(resolveInRoot(root, 'src/../../outside'))).toBe('path_outside_workspace');
    expect(await code(resolveInRoot(root, '/../../etc/passwd'))).toBe('path_outside_workspace');
    expect(await resolveInRoot(root, 'src/../src/a.ts')).toBe(path.join(root, 'src', 'a.ts'));
  });

  it('keeps encoded dots and Unicode look-alikes as literal names inside the root', async () => {
    for (const name of [
      '%2e%2e/%2e%2e/etc',
      '..%2f..%2fetc',
      '\uff0e\uff0e/x',
      '\u2024\u2024/x',
      '..\\..\\x',
    ]) {
      const resolved = await resolveInRoot(root, name);
      expect(resolved.startsWith(root + path.sep)).toBe(true);
      expect(toWorkspacePath(root, resolved)).toBe(name);
    }
  });

  it('refuses NUL bytes', async () => {
    expect(await code(resolveInRoot(root, 'src/a.ts\0.png'))).toBe('bad_request');
  });

  it('refuses symlinks that lead outside, including dangling ones', async () => {
    expect(await code(resolveInRoot(root, 'escape'))).toBe('path_outside_workspace');
    expect(await code(resolveInRoot(root, 'escape/secret.txt'))).toBe('path_outside_workspace');
    expect(await code(resolveInRoot(root, 'escape/new.txt'))).toBe('path_outside_workspace');
    expect(await code(resolveInRoot(root, 'secret-link'))).toBe('path_outside_workspace');
    expect(await code(resolveInRoot(root, 'dangling-out'))).toBe('path_outside_workspace');
  });

  it('follows symlinks that stay inside', async () => {
    expect(await resolveInRoot(root, 'inside-link/a.ts')).toBe(path.join(root, 'src', 'a.ts'));
    expect(await resolveInRoot(root, 'dangling-in')).toBe(path.join(root, 'src', 'new-file.txt'));
  });

  it('addresses a symlink itself when asked not to follow it', async () => {
    expect(await resolveInRoot(root, 'escape', { followLast: false })).toBe(
      path.join(root, 'escape'),
    );
    expect(await code(resolveInRoot(root, 'escape/secret.txt', { followLast: false }))).toBe(
      'path_outside_workspace',
    );
  });
});
