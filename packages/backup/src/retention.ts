// Scheduled backups live side by side in one folder, each named after the time it was due.
// Retention keeps the newest few that finished and removes the rest, and only folders named so:
// nothing else in the folder is ever touched.
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST } from './format.ts';

const STAMPED = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/;

/** The folder name of a backup due at `at`: its UTC time, sortable, safe in any file system. */
export function backupFolderName(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
}

/** The scheduled backups in `root`, newest first, and whether each finished. */
export async function listBackups(
  root: string,
): Promise<Array<{ name: string; finished: boolean }>> {
  if (!existsSync(root)) return [];
  const names = (await readdir(root, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && STAMPED.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .reverse();
  return names.map((name) => ({ name, finished: existsSync(join(root, name, MANIFEST)) }));
}

/**
 * Keeps the `keep` newest finished backups in `root`; removes older finished ones, and
 * unfinished ones older than the newest finished (a run that died). Answers what it removed.
 */
export async function pruneBackups(root: string, keep: number): Promise<string[]> {
  const backups = await listBackups(root);
  const newestFinished = backups.find((backup) => backup.finished)?.name;
  let kept = 0;
  const removed: string[] = [];
  for (const backup of backups) {
    const stays = backup.finished
      ? ++kept <= keep
      : newestFinished === undefined || backup.name > newestFinished;
    if (stays) continue;
    await rm(join(root, backup.name), { recursive: true, force: true });
    removed.push(backup.name);
  }
  return removed;
}
