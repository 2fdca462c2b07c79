import { schema, type Database } from '@studio/db';
import type { GitCredential } from '@studio/protocol';
import { and, asc, eq } from 'drizzle-orm';
import { Sealer } from '../crypto/sealer.ts';

const { gitCredentials } = schema;

/** The user name sent with a token when the person named none; GitHub, GitLab and Gitea accept any. */
export const DEFAULT_GIT_USERNAME = 'x-access-token';

/**
 * People's tokens for git hosts, sealed at rest with AES-256-GCM. The key is derived (HKDF) from
 * the server's secret for this one purpose; the row's user and host are authenticated with the
 * ciphertext, so a sealed token copied to another row does not open.
 */
export class GitCredentialStore {
  private readonly sealer: Sealer;

  constructor(
    private readonly db: Database,
    serverSecret: string,
  ) {
    this.sealer = new Sealer(serverSecret, 'git-credentials/v1');
  }

  /** The user's credentials, by host, without their tokens. */
  async list(userId: string): Promise<GitCredential[]> {
    const rows = await this.db
      .select({
        host: gitCredentials.host,
        username: gitCredentials.username,
        createdAt: gitCredentials.createdAt,
      })
      .from(gitCredentials)
      .where(eq(gitCredentials.userId, userId))
      .orderBy(asc(gitCredentials.host));
    return rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }));
  }

  /** Add or replace the user's token for `host` (already validated and lower-cased). */
  async put(
    userId: string,
    host: string,
    input: { username?: string | undefined; token: string },
  ): Promise<GitCredential> {
    const username = input.username ?? DEFAULT_GIT_USERNAME;
    const secret = this.seal(userId, host, input.token);
    const [row] = await this.db
      .insert(gitCredentials)
      .values({ userId, host, username, secret })
      .onConflictDoUpdate({
        target: [gitCredentials.userId, gitCredentials.host],
        set: { username, secret, createdAt: new Date() },
      })
      .returning();
    return { host, username, createdAt: row!.createdAt.toISOString() };
  }

  /** Remove the user's token for `host`; false when there was none. */
  async remove(userId: string, host: string): Promise<boolean> {
    const deleted = await this.db
      .delete(gitCredentials)
      .where(and(eq(gitCredentials.userId, userId), eq(gitCredentials.host, host)))
      .returning({ host: gitCredentials.host });
    return deleted.length > 0;
  }

  /** The user name and token for `host`, for git's credential helper; `null` when there is none. */
  async lookup(userId: string, host: string): Promise<{ username: string; token: string } | null> {
    const [row] = await this.db
      .select()
      .from(gitCredentials)
      .where(and(eq(gitCredentials.userId, userId), eq(gitCredentials.host, host.toLowerCase())));
    if (!row) return null;
    const token = this.open(userId, row.host, row.secret);
    return token === null ? null : { username: row.username, token };
  }

  private seal(userId: string, host: string, token: string): string {
    return this.sealer.seal(token, associatedData(userId, host));
  }

  private open(userId: string, host: string, value: string): string | null {
    return this.sealer.open(value, associatedData(userId, host));
  }
}

function associatedData(userId: string, host: string): string {
  return `${userId}\0${host}`;
}
