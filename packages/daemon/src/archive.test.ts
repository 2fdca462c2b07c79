import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DaemonServerMessage } from '@studio/protocol';
import { startUpload } from './archive.ts';
import { OutStream } from './streams.ts';

interface Entry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'FIFO';
  body?: string;
  /** Declared size (a header may claim more than the body that follows). */
  size?: number;
  linkpath?: string;
}

/** A raw tar archive, byte by byte, so hostile entries are exactly what an attacker would send. */
function tarOf(entries: Entry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    const header = new Header({
      path: entry.path,
      type: entry.type ?? 'File',
      size: entry.size ?? body.byteLength,
      mode: entry.type === 'Directory' ? 0o755 : 0o644,
      mtime: new Date(),
      ...(entry.linkpath ? { linkpath: entry.linkpath } : {}),
    });
    const block = Buffer.alloc(512);
    header.encode(block);
    blocks.push(block);
    if (body.byteLength > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.byteLength % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

let base: string;
let root: string;

beforeEach(async () => {
  base = await realpath(await mkdtemp(path.join(tmpdir(), 'studio-archive-')));
  root = path.join(base, 'root');
  await mkdir(root);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Drive a real upload stream and collect what the daemon would send. */
async function upload(archive: Buffer, target = 'dest', maxBytes?: number) {
  const messages: DaemonServerMessage[] = [];
  let resolveEnd!: () => void;
  const ended = new Promise<void>((resolve) => (resolveEnd = resolve));
  const stream = new OutStream(
    1,
    {
      sendBinary: () => undefined,
      sendMessage: (message) => {
        messages.push(message);
        if (message.type === 'end') resolveEnd();
      },
      pauseInput: () => undefined,
      resumeInput: () => undefined,
    },
    () => undefined,
  );
  await startUpload(root, target, maxBytes ? { maxBytes } : {}, stream);
  stream.start();
  for (let offset = 0; offset < archive.byteLength; offset += 1000) {
    stream.handlers.onInput?.(archive.subarray(offset, offset + 1000), 0);
  }
  stream.handlers.onClientEnd?.();
  await ended;
  const end = messages.find((message) => message.type === 'end');
  const uploaded = messages.find((message) => message.type === 'event');
  return {
    error: end?.type === 'end' ? end.error : undefined,
    uploaded: uploaded?.type === 'event' ? uploaded.event : undefined,
  };
}

async function everythingUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe('archive upload', () => {
  it('unpacks an ordinary archive and reports the totals', async () => {
    const result = await upload(
      tarOf([
        { path: 'src/', type: 'Directory' },
        { path: 'src/a.txt', body: 'hello' },
        { path: 'b.txt', body: 'world!' },
      ]),
    );
    expect(result.error).toBeUndefined();
    expect(result.uploaded).toEqual({ kind: 'uploaded', files: 2, bytes: 11 });
    expect(await readFile(path.join(root, 'dest/src/a.txt'), 'utf8')).toBe('hello');
  });

  it('refuses zip-slip entries and writes nothing outside', async () => {
    const result = await upload(tarOf([{ path: '../../escaped.txt', body: 'pwned' }]));
    expect(result.error?.code).toBe('path_outside_workspace');
    expect(existsSync(path.join(base, 'escaped.txt'))).toBe(false);
    expect(existsSync(path.join(root, 'escaped.txt'))).toBe(false);
  });

  it('refuses absolute entries', async () => {
    const result = await upload(tarOf([{ path: '/tmp/studio-absolute-escape.txt', body: 'x' }]));
    expect(result.error?.code).toBe('path_outside_workspace');
    expect(existsSync('/tmp/studio-absolute-escape.txt')).toBe(false);
    expect(await everythingUnder(root)).toEqual(['dest']);
  });

  it('refuses symlink, hardlink and device entries', async () => {
    for (const entry of [
      { path: 'link', type: 'SymbolicLink', linkpath: '/etc' },
      { path: 'hard', type: 'Link', linkpath: '/etc/passwd' },
      { path: 'dev', type: 'CharacterDevice' },
      { path: 'fifo', type: 'FIFO' },
    ] as Entry[]) {
      const result = await upload(tarOf([entry, { path: 'link/passwd', body: 'x' }]));
      expect(result.error?.code).toBe('bad_request');
    }
    expect(await everythingUnder(root)).toEqual(['dest']);
  });

  it('does not write through a symlink already in the workspace that points outside', async () => {
    await mkdir(path.join(root, 'dest'));
    await mkdir(path.join(base, 'outside'));
    await symlink(path.join(base, 'outside'), path.join(root, 'dest', 'out'));
    const result = await upload(tarOf([{ path: 'out/x.txt', body: 'x' }]));
    expect(result.error?.code).toBe('path_outside_workspace');
    expect(await readdir(path.join(base, 'outside'))).toEqual([]);
  });

  it('refuses a size bomb before writing it', async () => {
    // Declares 10 MiB (gzip makes the zeros tiny on the wire) against a 1 MiB cap.
    const body = '\0'.repeat(10 * 1024 * 1024);
    const archive = gzipSync(
      tarOf([
        { path: 'small.txt', body: 'ok' },
        { path: 'bomb.bin', body },
      ]),
    );
    expect(archive.byteLength).toBeLessThan(100 * 1024);
    const result = await upload(archive, 'dest', 1024 * 1024);
    expect(result.error?.code).toBe('payload_too_large');
    expect(existsSync(path.join(root, 'dest/bomb.bin'))).toBe(false);
  });
});
