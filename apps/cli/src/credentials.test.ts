import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentialsPath, readCredentials, writeCredentials } from './credentials.ts';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'studio-cli-credentials-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('credentials file', () => {
  it('is created readable by the user only, in a directory only the user can enter', async () => {
    const dir = join(root, 'nested', 'prometheus-studio');
    const path = await writeCredentials(dir, { url: 'http://a', token: 'secret' });
    expect(path).toBe(credentialsPath(dir));
    expect(await mode(path)).toBe(0o600);
    expect(await mode(dir)).toBe(0o700);
  });

  it('tightens an existing directory and replaces an existing file', async () => {
    const dir = join(root, 'prometheus-studio');
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    await writeFile(credentialsPath(dir), '{}', { mode: 0o644 });
    await writeCredentials(dir, { url: 'http://b', token: 'second' });
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(credentialsPath(dir))).toBe(0o600);
    expect(await readCredentials(dir)).toEqual({ url: 'http://b', token: 'second' });
    // No temporary file is left beside it.
    expect(await readdir(dir)).toEqual(['credentials.json']);
  });

  it('reads back what was written', async () => {
    await writeCredentials(root, { url: 'http://c', token: 't' });
    expect(await readCredentials(root)).toEqual({ url: 'http://c', token: 't' });
  });

  it('reads as null when nobody has logged in', async () => {
    expect(await readCredentials(join(root, 'missing'))).toBeNull();
  });

  it('names the file when it is corrupt', async () => {
    await writeFile(credentialsPath(root), 'not json');
    await expect(readCredentials(root)).rejects.toThrow(/credentials\.json is not a valid/);
  });
});
