// A backup folder: `database.ndjson` (a header line, then one `{ table, row }` line per row),
// `homes/<workspace id>.tar`, and `manifest.json` — written last, so a folder without it is a
// backup that did not finish — listing every file with its size and SHA-256.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const MANIFEST = 'manifest.json';
export const DATABASE = 'database.ndjson';

/** `manifest.json`. */
export interface BackupManifest {
  format: 'prometheus-studio-backup';
  version: 1;
  createdAt: string;
  /** Where it was made from: the server's URL. */
  server: string;
  files: BackupFile[];
  workspaces: Array<{
    id: string;
    name: string;
    owner: string;
    /** The home's archive in the backup, or null when it could not be read (`skipped` says why). */
    home: string | null;
    skipped?: string;
  }>;
}

export interface BackupFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** A backup that is not there, not finished or not what was written. */
export class BackupError extends Error {
  override name = 'BackupError';
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The manifest of the backup in `dir`, with every file it lists present and unchanged. */
export async function verifyBackup(
  dir: string,
  say: (line: string) => void = () => {},
): Promise<BackupManifest> {
  const path = join(dir, MANIFEST);
  if (!existsSync(path))
    throw new BackupError(
      `${dir} has no ${MANIFEST}: it is not a backup, or its backup did not finish.`,
    );
  const manifest = JSON.parse(await readFile(path, 'utf8')) as BackupManifest;
  const total = manifest.files.reduce((sum, file) => sum + file.bytes, 0);
  say(`checking ${manifest.files.length} files (${mb(total)}) against the manifest`);
  for (const file of manifest.files) {
    const full = resolve(dir, file.path);
    if (!full.startsWith(resolve(dir) + '/'))
      throw new BackupError(`${MANIFEST} names a file outside ${dir}: ${file.path}`);
    if (!existsSync(full)) throw new BackupError(`${file.path} is missing from ${dir}.`);
    const [size, sum] = [(await stat(full)).size, await sha256Of(full)];
    if (size !== file.bytes || sum !== file.sha256)
      throw new BackupError(
        `${file.path} is not what was backed up (its checksum differs): the backup is damaged.`,
      );
  }
  return manifest;
}

/** Bytes in megabytes, as progress and summaries say them. */
export function mb(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
