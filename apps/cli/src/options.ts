// The CLI's one options table. Every value a command uses is resolved here, always in the
// same order: flag > environment variable > credentials file > default. Nothing else in the
// CLI reads the environment.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './errors.ts';

/** The environment as the CLI sees it (`process.env` in production, a plain object in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

/** What the credentials file holds: the server a user logged in to and an API token for it. */
export interface Credentials {
  url: string;
  token: string;
}

/** Environment variables the CLI reads, by option. */
export const ENV_VARS = {
  url: 'STUDIO_URL',
  token: 'STUDIO_TOKEN',
  configDir: 'STUDIO_CONFIG_DIR',
  port: 'PORT',
  host: 'HOST',
  dataDir: 'STUDIO_DATA_DIR',
} as const;

/** Where a resolved value came from; used to word messages and to decide what a token may be sent to. */
export type Source = 'flag' | 'env' | 'file' | 'default';

/** A resolved option and where it came from. */
export interface Resolved<T> {
  value: T;
  source: Source;
}

/** Picks the first defined value in precedence order; empty strings count as unset. */
export function pick<T>(
  candidates: ReadonlyArray<readonly [Source, T | undefined]>,
): Resolved<T> | undefined {
  for (const [source, value] of candidates) {
    if (value !== undefined && value !== '') return { value, source };
  }
  return undefined;
}

/** The directory holding `credentials.json`: STUDIO_CONFIG_DIR, else `$XDG_CONFIG_HOME/prometheus-studio`, else `~/.config/prometheus-studio`. */
export function resolveConfigDir(env: Env): string {
  const explicit = env[ENV_VARS.configDir];
  if (explicit) return explicit;
  // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(env.HOME || homedir(), '.config');
  return join(base, 'prometheus-studio');
}

/** Normalizes a server URL to `scheme://host[:port][/base]` with no trailing slash. */
export function normalizeServerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError('bad_option', `not a URL: ${raw} (expected e.g. http://localhost:3000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError('bad_option', `unsupported URL scheme ${url.protocol} in ${raw}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Flags accepted by commands that talk to a server. */
export interface ConnectionFlags {
  url?: string;
}

/** The server to talk to and the token to present. */
export interface Connection {
  url: string;
  token: string;
  tokenSource: Source;
}

/**
 * Resolves the server URL (flag > STUDIO_URL > file) and token (STUDIO_TOKEN > file).
 * The file's token is only used for the URL it was issued for, so pointing the CLI at another
 * server never sends it a saved secret.
 */
export function resolveConnection(
  flags: ConnectionFlags,
  env: Env,
  file: Credentials | null,
): Connection {
  const url = pick<string>([
    ['flag', flags.url],
    ['env', env[ENV_VARS.url]],
    ['file', file?.url],
  ]);
  if (!url) throw new CliError('not_logged_in', 'not logged in; run `studio login URL` first');
  const normalized = normalizeServerUrl(url.value);
  const fileMatches = file !== null && normalizeServerUrl(file.url) === normalized;
  const token = pick<string>([
    ['env', env[ENV_VARS.token]],
    ['file', fileMatches ? file.token : undefined],
  ]);
  if (!token) {
    throw new CliError(
      'not_logged_in',
      `not logged in to ${normalized}; run \`studio login ${normalized}\` first`,
    );
  }
  return { url: normalized, token: token.value, tokenSource: token.source };
}

/** Flags of `studio start`. */
export interface StartFlags {
  port?: string;
  host?: string;
  dataDir?: string;
}

/** The environment variables `studio start` sets for the server, resolved flag > env; unset ones are left to the server's defaults. */
export function resolveServerEnv(flags: StartFlags, env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  const port = pick<string>([
    ['flag', flags.port],
    ['env', env[ENV_VARS.port]],
  ]);
  if (port) {
    const n = Number(port.value);
    if (!/^\d+$/.test(port.value) || n < 1 || n > 65_535) {
      const where = port.source === 'flag' ? '--port' : ENV_VARS.port;
      throw new CliError(
        'bad_option',
        `${where} must be a port number (1-65535), got ${port.value}`,
      );
    }
    out[ENV_VARS.port] = String(n);
  }
  const host = pick<string>([
    ['flag', flags.host],
    ['env', env[ENV_VARS.host]],
  ]);
  if (host) out[ENV_VARS.host] = host.value;
  const dataDir = pick<string>([
    ['flag', flags.dataDir],
    ['env', env[ENV_VARS.dataDir]],
  ]);
  if (dataDir) out[ENV_VARS.dataDir] = dataDir.value;
  return out;
}

/** Flags of `studio ws logs`. */
export interface TailFlags {
  tail?: string;
}

/** `--tail N`: how many log lines to show (1–10000); undefined leaves it to the server. */
export function resolveTail(flags: TailFlags): number | undefined {
  if (flags.tail === undefined) return undefined;
  const n = Number(flags.tail);
  if (!/^\d+$/.test(flags.tail) || n < 1 || n > 10_000) {
    throw new CliError(
      'bad_option',
      `--tail must be a number of lines (1-10000), got ${flags.tail}`,
    );
  }
  return n;
}
