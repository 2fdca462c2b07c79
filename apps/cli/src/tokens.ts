import { apiTokenSchema, type ApiToken } from '@studio/protocol';
import { ApiClient } from './api-client.ts';
import { connect, withLoginHint, type OutputFlags } from './connection.ts';
import type { CliContext } from './context.ts';
import { formatJson, formatTable, formatTime } from './output.ts';

/** `studio tokens list`: the caller's API tokens (secrets are never shown again). */
export async function listTokens(flags: OutputFlags, ctx: CliContext): Promise<void> {
  const connection = await connect(flags, ctx);
  const tokens = await withLoginHint(connection, () =>
    new ApiClient(connection.url).call('/api/tokens', tokenListSchema, {
      auth: { bearer: connection.token },
    }),
  );
  if (flags.json) {
    ctx.stdout.write(formatJson(tokens));
    return;
  }
  const rows = tokens.map((token) => [
    token.name,
    token.prefix,
    formatTime(token.createdAt),
    formatTime(token.lastUsedAt),
    token.expiresAt ? formatTime(token.expiresAt) : 'never',
  ]);
  ctx.stdout.write(formatTable(['NAME', 'PREFIX', 'CREATED', 'LAST USED', 'EXPIRES'], rows));
}

// The protocol names no list schema; accept a bare array or `{ tokens: [...] }`.
const tokenListSchema = {
  parse(value: unknown): ApiToken[] {
    const list = Array.isArray(value) ? value : (value as { tokens?: unknown } | null)?.tokens;
    return apiTokenSchema.array().parse(list);
  },
};
