import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backupFolderName, pruneBackups } from './retention.ts';

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function backup(name: string, finished: boolean) {
  await mkdir(join(root!, name), { recursive: true });
  if (finished) await writeFile(join(root!, name, 'manifest.json'), '{}');
}

describe('backup retention', () => {
  it('names a folder after the time it was due', () => {
    expect(backupFolderName(new Date('2026-12-07T01:05:00.123Z'))).toBe('2026-12-07T01-05-00Z');
  });

  it('keeps the newest finished backups and leaves everything else in the folder alone', async () => {
    root = await mkdtemp(join(tmpdir(), 'backups-'));
    await backup('2026-12-01T00-00-00Z', true);
    await backup('2026-12-02T00-00-00Z', false); // died, and a later one finished
    await backup('2026-12-03T00-00-00Z', true);
    await backup('2026-12-04T00-00-00Z', true);
    await backup('2026-12-05T00-00-00Z', false); // newer than every finished one: still running
    await mkdir(join(root, 'my-notes'));
    await writeFile(join(root, 'README'), 'mine');

    const removed = await pruneBackups(root, 2);
    expect(removed.sort()).toEqual(['2026-12-01T00-00-00Z', '2026-12-02T00-00-00Z']);
    expect((await readdir(root)).sort()).toEqual([
      '2026-12-03T00-00-00Z',
      '2026-12-04T00-00-00Z',
      '2026-12-05T00-00-00Z',
      'README',
      'my-notes',
    ]);
    expect(existsSync(join(root, '2026-12-04T00-00-00Z', 'manifest.json'))).toBe(true);
  });
});
