import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { apiTokens, users, type Database } from '@studio/db';
import type { ApiToken } from '@studio/protocol';
import { and, desc, eq } from 'drizzle-orm';
import { AppError } from '../errors.ts';

const PREFIX = 'studio_';
/** How often a token's `lastUsedAt` is written at most; a write per request would be wasteful. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** SHA-256 suffices for 256-bit random secrets: there is nothing to brute-force, unlike a password. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new random secret with a recognisable prefix (so secret scanners can spot leaked ones). */
export function newSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** API tokens: create (secret shown once), list, revoke, and resolve a Bearer secret to its user. */
export class TokenService {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(
    userId: string,
    name: string,
    expiresInDays?: number,
  ): Promise<{ token: ApiToken; secret: string }> {
    const secret = newSecret();
    const expiresAt = expiresInDays
      ? new Date(this.now().getTime() + expiresInDays * 86_400_000)
      : null;
    const [row] = await this.db
      .insert(apiTokens)
      .values({
        id: randomUUID(),
        userId,
        name,
        prefix: secret.slice(0, PREFIX.length + 6),
        secretHash: hashSecret(secret),
        expiresAt,
      })
      .returning();
    return { token: toApiToken(row!), secret };
  }

  async list(userId: string): Promise<ApiToken[]> {
    const rows = await this.db
      .select()
      .from(apiTokens)
      .where(eq(apiTokens.userId, userId))
      .orderBy(desc(apiTokens.createdAt));
    return rows.map(toApiToken);
  }

  async revoke(userId: string, id: string): Promise<void> {
    const deleted = await this.db
      .delete(apiTokens)
      .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId)))
      .returning({ id: apiTokens.id });
    // Another user's token id answers exactly like a missing one.
    if (deleted.length === 0) throw new AppError('not_found', 'no such API token');
  }

  /** The user a Bearer secret belongs to, or null when it is unknown, expired or its user is disabled. */
  async resolve(
    secret: string,
  ): Promise<{ user: typeof users.$inferSelect; tokenId: string } | null> {
    if (!secret.startsWith(PREFIX)) return null;
    // One query on the hot path: the token and its user together.
    const [row] = await this.db
      .select({
        id: apiTokens.id,
        expiresAt: apiTokens.expiresAt,
        lastUsedAt: apiTokens.lastUsedAt,
        user: users,
      })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .where(eq(apiTokens.secretHash, hashSecret(secret)));
    const now = this.now();
    if (!row || row.user.disabled || (row.expiresAt && row.expiresAt <= now)) return null;
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.id));
    }
    return { user: row.user, tokenId: row.id };
  }
}

function toApiToken(row: typeof apiTokens.$inferSelect): ApiToken {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
  };
}
