import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRipgrep, searchText } from './search.ts';

let root: string;

beforeAll(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), 'studio-search-')));
  await mkdir(path.join(root, 'src'), { recursive: true });
  await mkdir(path.join(root, 'node_modules/dep'), { recursive: true });
  await mkdir(path.join(root, '.git'), { recursive: true });
  await writeFile(path.join(root, 'src/a.ts'), 'let x = 1;\nconst Needle = 2;\n');
  await writeFile(path.join(root, 'src/b.ts'), 'needle needle\n');
  // Columns and lengths count characters, whatever their size in UTF-8.
  await writeFile(path.join(root, 'src/c.md'), 'é → needles\n');
  await writeFile(path.join(root, 'node_modules/dep/index.js'), 'needle\n');
  await writeFile(path.join(root, '.git/config'), 'needle\n');
  await writeFile(path.join(root, 'src/bin.dat'), Buffer.from('needle\0\0binary'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const params = { path: '.', regex: false, caseSensitive: false, maxResults: 100 };

describe('searchText', () => {
  it('finds matches with the builtin walker, skipping .git, node_modules and binaries', async () => {
    const result = await searchText(root, { ...params, query: 'needle' }, null);
    expect(result.engine).toBe('builtin');
    expect(result.matches.map((m) => `${m.path}:${m.line}:${m.column}+${m.length}`).sort()).toEqual(
      ['src/a.ts:2:7+6', 'src/b.ts:1:1+6', 'src/c.md:1:5+6'],
    );
    const exact = await searchText(root, { ...params, query: 'Needle', caseSensitive: true }, null);
    expect(exact.matches).toHaveLength(1);
    const regex = await searchText(root, { ...params, query: 'n[e]+dles?\\b', regex: true }, null);
    expect(regex.matches.map((m) => m.length).sort()).toEqual([6, 6, 7]);
    const capped = await searchText(root, { ...params, query: 'needle', maxResults: 1 }, null);
    expect(capped).toMatchObject({ truncated: true });
    await expect(
      searchText(root, { ...params, query: '(', regex: true }, null),
    ).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('gives the same answers with ripgrep when it is installed', async () => {
    const rg = await findRipgrep(process.env.PATH);
    if (!rg) return;
    const result = await searchText(root, { ...params, query: 'needle' }, rg);
    expect(result.engine).toBe('ripgrep');
    const regex = await searchText(root, { ...params, query: 'n[e]+dles?\\b', regex: true }, rg);
    expect(regex.matches.map((m) => m.length).sort()).toEqual([6, 6, 7]);
    expect(result.matches.map((m) => `${m.path}:${m.line}:${m.column}+${m.length}`).sort()).toEqual(
      ['src/a.ts:2:7+6', 'src/b.ts:1:1+6', 'src/c.md:1:5+6'],
    );
  });
});
