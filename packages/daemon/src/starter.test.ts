import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyStarter } from './starter.ts';

let dir: string;
let home: string;
let starter: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'studio-starter-'));
  home = path.join(dir, 'home');
  starter = path.join(dir, 'starter');
  await mkdir(path.join(starter, 'src'), { recursive: true });
  await mkdir(home);
  await writeFile(path.join(starter, 'README.md'), 'starter readme\n');
  await writeFile(path.join(starter, 'src', 'app.py'), 'print("hi")\n');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the starter project', () => {
  it('is copied into a new home once, never over what the home has', async () => {
    await writeFile(path.join(home, 'README.md'), 'mine\n');
    expect(await copyStarter(home, starter)).toBe(true);
    expect(await readFile(path.join(home, 'src', 'app.py'), 'utf8')).toBe('print("hi")\n');
    expect(await readFile(path.join(home, 'README.md'), 'utf8')).toBe('mine\n');

    // Deleted by the person: not brought back at the next start.
    await rm(path.join(home, 'src'), { recursive: true });
    expect(await copyStarter(home, starter)).toBe(false);
    expect((await readdir(home)).sort()).toEqual(['.local', 'README.md']);
  });

  it('copies nothing when the image has none', async () => {
    expect(await copyStarter(home, path.join(dir, 'nowhere'))).toBe(false);
    expect(await readdir(home)).toEqual([]);
  });
});
