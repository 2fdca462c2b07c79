import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from './errors.ts';
import type { Credentials } from './options.ts';

/** Path of the credentials file inside the config directory. */
export function credentialsPath(configDir: string): string {
  return join(configDir, 'credentials.json');
}

/** Reads saved credentials; null when there are none yet. */
export async function readCredentials(configDir: string): Promise<Credentials | null> {
  const path = credentialsPath(configDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (!isCredentials(data)) {
    throw new CliError(
      'bad_credentials_file',
      `${path} is not a valid credentials file; delete it and run \`studio login\` again`,
    );
  }
  return { url: data.url, token: data.token };
}

/** Saves credentials readable by the user only (dir 0700, file 0600); returns the file's path. */
export async function writeCredentials(
  configDir: string,
  credentials: Credentials,
): Promise<string> {
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing directory's mode alone; the directory is ours, so tighten it.
  await chmod(configDir, 0o700);
  const path = credentialsPath(configDir);
  // Loaded here: node:crypto takes milliseconds to load on Node 20, and only `studio login` writes.
  const { randomBytes } = await import('node:crypto');
  // Write then rename, so a crash never leaves a half-written file and the secret is never
  // briefly readable under a wider mode.
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await rename(temp, path);
  return path;
}

function isCredentials(value: unknown): value is Credentials {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.url === 'string' && typeof record.token === 'string';
}
