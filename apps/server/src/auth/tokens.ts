import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { apiTokens, users, workspaces, type Database } from '@studio/db';
import type { ApiToken, TokenScope } from '@studio/protocol';
import { and, desc, eq } from 'drizzle-orm';
import { AppError } from '../errors.ts';
import type { PrincipalCache } from './principal-cache.ts';

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

/** A Bearer secret's token and person, as the access check needs them. */
export interface ResolvedToken {
  user: typeof users.$inferSelect;
  tokenId: string;
  scope: TokenScope;
  workspaceId: string | null;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

/** API tokens: create (secret shown once), list, revoke, and resolve a Bearer secret to its user. */
export class TokenService {
  constructor(
    private readonly db: Database,
    /** Resolved tokens, forgotten on every replica when revoked or when their person changes. */
    private readonly cache: PrincipalCache<ResolvedToken>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(
    userId: string,
    input: { name: string; expiresInDays?: number; scope?: TokenScope; workspaceId?: string },
  ): Promise<{ token: ApiToken; secret: string }> {
    const secret = newSecret();
    const expiresAt = input.expiresInDays
      ? new Date(this.now().getTime() + input.expiresInDays * 86_400_000)
      : null;
    const id = randomUUID();
    await this.db.insert(apiTokens).values({
      id,
      userId,
      name: input.name,
      prefix: secret.slice(0, PREFIX.length + 6),
      secretHash: hashSecret(secret),
      expiresAt,
      scope: input.scope ?? 'full',
      workspaceId: input.workspaceId ?? null,
    });
    const token = (await this.list(userId)).find((listed) => listed.id === id)!;
    return { token, secret };
  }

  async list(userId: string): Promise<ApiToken[]> {
    const rows = await this.db
      .select({ token: apiTokens, workspaceName: workspaces.name })
      .from(apiTokens)
      .leftJoin(workspaces, eq(workspaces.id, apiTokens.workspaceId))
      .where(eq(apiTokens.userId, userId))
      .orderBy(desc(apiTokens.createdAt));
    return rows.map(({ token, workspaceName }) => toApiToken(token, workspaceName));
  }

  /** Ends every token of a user: a disabled person's tokens stay revoked when they come back. */
  async revokeAll(userId: string): Promise<number> {
    const deleted = await this.db
      .delete(apiTokens)
      .where(eq(apiTokens.userId, userId))
      .returning({ id: apiTokens.id });
    await this.cache.forget({ userId });
    return deleted.length;
  }

  async revoke(userId: string, id: string): Promise<void> {
    const deleted = await this.db
      .delete(apiTokens)
      .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId)))
      .returning({ id: apiTokens.id });
    // Another user's token id answers exactly like a missing one.
    if (deleted.length === 0) throw new AppError('not_found', 'no such API token');
    await this.cache.forget({ tokenId: id });
  }

  /** The user a Bearer secret belongs to, or null when it is unknown, expired or its user is disabled. */
  async resolve(secret: string): Promise<ResolvedToken | null> {
    if (!secret.startsWith(PREFIX)) return null;
    const hash = hashSecret(secret);
    const resolved = this.cache.get(hash) ?? (await this.lookup(hash));
    const now = this.now();
    if (!resolved || resolved.user.disabled || (resolved.expiresAt && resolved.expiresAt <= now))
      return null;
    if (
      !resolved.lastUsedAt ||
      now.getTime() - resolved.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS
    ) {
      resolved.lastUsedAt = now;
      await this.db
        .update(apiTokens)
        .set({ lastUsedAt: now })
        .where(eq(apiTokens.id, resolved.tokenId));
    }
    return resolved;
  }

  /** One query on a cache miss: the token and its user together. */
  private async lookup(hash: string): Promise<ResolvedToken | null> {
    const [row] = await this.db
      .select({
        tokenId: apiTokens.id,
        expiresAt: apiTokens.expiresAt,
        lastUsedAt: apiTokens.lastUsedAt,
        scope: apiTokens.scope,
        workspaceId: apiTokens.workspaceId,
        user: users,
      })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .where(eq(apiTokens.secretHash, hash));
    if (!row) return null;
    const resolved = { ...row, scope: row.scope as TokenScope };
    this.cache.set(hash, resolved, { userId: row.user.id, tokenId: row.tokenId });
    return resolved;
  }
}

function toApiToken(row: typeof apiTokens.$inferSelect, workspaceName: string | null): ApiToken {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scope: row.scope as TokenScope,
    workspace:
      row.workspaceId && workspaceName ? { id: row.workspaceId, name: workspaceName } : null,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
  };
}
