import type { CliContext } from './context.ts';
import { readCredentials } from './credentials.ts';
import { ApiError } from './errors.ts';
import {
  resolveConfigDir,
  resolveConnection,
  type Connection,
  type ConnectionFlags,
} from './options.ts';

/** Flags of commands that print something a script may want as JSON. */
export interface OutputFlags extends ConnectionFlags {
  json?: boolean;
}

/** The server and token for a command, from flags, environment and the credentials file. */
export async function connect(flags: ConnectionFlags, ctx: CliContext): Promise<Connection> {
  const file = await readCredentials(resolveConfigDir(ctx.env));
  return resolveConnection(flags, ctx.env, file);
}

/** Runs an API call, adding a hint to a 401 caused by a saved token (which usually means it was revoked). */
export async function withLoginHint<T>(connection: Connection, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401 && connection.tokenSource === 'file') {
      throw new ApiError(
        error.code,
        `${error.message}; the saved token may have been revoked, run \`studio login ${connection.url}\``,
        error.status,
        error.detail,
      );
    }
    throw error;
  }
}
