import { spawn } from 'node:child_process';
import {
  chmod,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  realpath,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileService, contentVersion, isBinary, writeFileAtomic } from './files.ts';

let root: string;
let files: FileService;

beforeAll(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), 'studio-files-')));
  files = new FileService(root);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const write = (params: { path: string; content: string; expectedVersion?: string | null }) =>
  files.write({ encoding: 'utf8', createParents: true, ...params });

describe('files', () => {
  it('reads text and binary content with a version', async () => {
    await writeFile(path.join(root, 'text.txt'), 'héllo\n');
    await writeFile(path.join(root, 'bin.dat'), Buffer.from([0x89, 0x50, 0x00, 0x01]));
    await writeFile(path.join(root, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    const text = await files.read({ path: 'text.txt' });
    expect(text).toMatchObject({ content: 'héllo\n', encoding: 'utf8', binary: false, size: 7 });
    expect(text.version).toBe(contentVersion(Buffer.from('héllo\n')));
    const binary = await files.read({ path: 'bin.dat' });
    expect(binary).toMatchObject({ encoding: 'base64', binary: true, content: 'iVAAAQ==' });
    expect((await files.read({ path: 'latin1.txt' })).binary).toBe(true);
    expect(isBinary(Buffer.from('plain'))).toBe(false);
  });

  it('refuses files over the read cap and directories', async () => {
    await writeFile(path.join(root, 'big.txt'), 'x'.repeat(2000));
    await expect(files.read({ path: 'big.txt', maxBytes: 1000 })).rejects.toMatchObject({
      code: 'payload_too_large',
    });
    await mkdir(path.join(root, 'dir'), { recursive: true });
    await expect(files.read({ path: 'dir' })).rejects.toMatchObject({ code: 'is_a_directory' });
  });

  it('writes with version checks: conflict on a newer change, already_exists for new files', async () => {
    const first = await write({ path: 'notes/a.md', content: 'one', expectedVersion: null });
    await expect(
      write({ path: 'notes/a.md', content: 'x', expectedVersion: null }),
    ).rejects.toMatchObject({
      code: 'already_exists',
    });
    const second = await write({
      path: 'notes/a.md',
      content: 'two',
      expectedVersion: first.version,
    });
    await expect(
      write({ path: 'notes/a.md', content: 'stale', expectedVersion: first.version }),
    ).rejects.toMatchObject({ code: 'conflict', detail: { currentVersion: second.version } });
    expect(await readFile(path.join(root, 'notes/a.md'), 'utf8')).toBe('two');
  });

  it('keeps the old file mode and leaves no temp file behind', async () => {
    const script = path.join(root, 'run.sh');
    await writeFile(script, '#!/bin/sh\n');
    await chmod(script, 0o750);
    const before = await stat(script);
    await write({ path: 'run.sh', content: '#!/bin/sh\necho new\n' });
    const after = await stat(script);
    expect(after.mode & 0o777).toBe(0o750);
    // A new inode proves the content was swapped in by rename, not rewritten in place.
    expect(after.ino).not.toBe(before.ino);
    expect((await readdir(root)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('does not list a save in flight (its temporary file)', async () => {
    await mkdir(path.join(root, 'saving'));
    await writeFile(path.join(root, 'saving', 'main.py'), 'x = 1\n');
    await writeFile(path.join(root, 'saving', '.main.py.studio-0123456789ab.tmp'), 'x = 2\n');
    expect((await files.list({ path: 'saving' })).entries.map((entry) => entry.name)).toEqual([
      'main.py',
    ]);
  });

  it('a reader never sees a mix of old and new content during writes', async () => {
    const target = path.join(root, 'hot.txt');
    const a = Buffer.alloc(4 * 1024 * 1024, 'a');
    const b = Buffer.alloc(4 * 1024 * 1024, 'b');
    await writeFile(target, a);
    let writing = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (writing) {
        const content = await readFile(target);
        const first = content[0]!;
        expect(content.byteLength).toBe(a.byteLength);
        expect(content.every((byte) => byte === first)).toBe(true);
        seen.add(String.fromCharCode(first));
      }
    })();
    for (let i = 0; i < 10; i++) await writeFileAtomic(target, i % 2 ? a : b, await stat(target));
    writing = false;
    await reader;
    expect(seen.size).toBeGreaterThan(0);
  });

  it('a process killed mid-write leaves the old content intact', async () => {
    const target = path.join(root, 'crash.txt');
    await writeFile(target, 'old content');
    const module = fileURLToPath(new URL('./files.ts', import.meta.url));
    const script = `
      const { writeFileAtomic } = await import(${JSON.stringify(module)});
      const big = Buffer.alloc(512 * 1024 * 1024, 'n');
      process.stdout.write('start\\n');
      await writeFileAtomic(${JSON.stringify(target)}, big);
    `;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    // Kill while the temp file is being written (512 MiB takes far longer than this).
    await new Promise((resolve) => setTimeout(resolve, 150));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await readFile(target, 'utf8')).toBe('old content');
    for (const name of await readdir(root)) {
      if (name.startsWith('.crash.txt.studio-')) await rm(path.join(root, name));
    }
  });

  it('moves, lists, and deletes; a non-empty directory needs recursive', async () => {
    await write({ path: 'm/one.txt', content: '1' });
    await files.move({ from: 'm/one.txt', to: 'm/two.txt', overwrite: false });
    expect((await files.list({ path: 'm' })).entries.map((e) => e.path)).toEqual(['m/two.txt']);
    await write({ path: 'm/three.txt', content: '3' });
    await expect(
      files.move({ from: 'm/two.txt', to: 'm/three.txt', overwrite: false }),
    ).rejects.toMatchObject({ code: 'already_exists' });
    await expect(files.delete({ path: 'm', recursive: false })).rejects.toMatchObject({
      code: 'conflict',
    });
    await files.delete({ path: 'm', recursive: true });
    // The errno is mapped to `not_found` by the one wire error handler (errors.ts).
    await expect(files.stat({ path: 'm' })).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(files.delete({ path: '/', recursive: true })).rejects.toMatchObject({
      code: 'bad_request',
    });
  });
});
