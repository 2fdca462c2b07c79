// Preview links: a port's preview opened to people without a role on the workspace — `team`
// (anyone signed in to this server) or `public` (anyone with the link). The token is 256 random
// bits in the URL; only its SHA-256 is stored, so the database alone cannot open a link. A link
// works until it expires or is revoked, and never past the workspace.
import { createHash, randomBytes } from 'node:crypto';
import { previewLinks, users, workspaces, type Database } from '@studio/db';
import type { PreviewLink } from '@studio/protocol';
import { and, desc, eq, gt, inArray, isNull, ne, type SQL } from 'drizzle-orm';
import { AppError } from '../errors.ts';

type LinkRow = typeof previewLinks.$inferSelect;
type WorkspaceRow = typeof workspaces.$inferSelect;

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function toApi(row: LinkRow, createdBy: string | null): PreviewLink {
  return {
    id: row.id,
    port: row.port,
    audience: row.audience,
    createdBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export class PreviewLinks {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A new link; its token is returned this once. */
  async create(
    workspaceId: string,
    input: { port: number; audience: 'team' | 'public'; expiresInHours: number },
    userId: string,
  ): Promise<{ link: PreviewLink; token: string }> {
    const token = randomBytes(32).toString('base64url');
    const [row] = await this.db
      .insert(previewLinks)
      .values({
        id: randomBytes(8).toString('hex'),
        workspaceId,
        port: input.port,
        audience: input.audience,
        tokenHash: hashOf(token),
        createdBy: userId,
        expiresAt: new Date(this.now().getTime() + input.expiresInHours * 3600_000),
      })
      .returning();
    const [creator] = await this.db
      .select({ email: users.email })
      .from(users)
      .where(eq(users.id, userId));
    return { link: toApi(row!, creator?.email ?? null), token };
  }

  /** A workspace's links, newest first, revoked and expired ones included. */
  async list(workspaceId: string): Promise<PreviewLink[]> {
    const rows = await this.db
      .select({ link: previewLinks, email: users.email })
      .from(previewLinks)
      .leftJoin(users, eq(users.id, previewLinks.createdBy))
      .where(eq(previewLinks.workspaceId, workspaceId))
      .orderBy(desc(previewLinks.createdAt));
    return rows.map(({ link, email }) => toApi(link, email));
  }

  /** Ends a link at once; answers the link as it was. */
  async revoke(workspaceId: string, id: string): Promise<PreviewLink> {
    const [row] = await this.db
      .update(previewLinks)
      .set({ revokedAt: this.now() })
      .where(and(eq(previewLinks.id, id), eq(previewLinks.workspaceId, workspaceId)))
      .returning();
    if (!row) throw new AppError('not_found', `This workspace has no preview link "${id}".`);
    return toApi(row, null);
  }

  /** Which of the links `ids` still work (not revoked, not expired, their workspace there). */
  async live(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db
      .select({ id: previewLinks.id })
      .from(previewLinks)
      .innerJoin(workspaces, eq(workspaces.id, previewLinks.workspaceId))
      .where(and(inArray(previewLinks.id, ids), this.working()));
    return new Set(rows.map((row) => row.id));
  }

  /**
   * The live link a token opens, with its workspace; null for a token that is malformed,
   * unknown, revoked, expired, or whose workspace is gone — all alike, so none can be told apart.
   */
  async resolve(token: string): Promise<{ link: LinkRow; row: WorkspaceRow } | null> {
    if (!TOKEN.test(token)) return null;
    return this.liveWhere(eq(previewLinks.tokenHash, hashOf(token)));
  }

  /** The live link with id `id` (subdomain mode names it in the host), as `resolve` answers. */
  async byId(id: string): Promise<{ link: LinkRow; row: WorkspaceRow } | null> {
    return this.liveWhere(eq(previewLinks.id, id));
  }

  private async liveWhere(which: SQL): Promise<{ link: LinkRow; row: WorkspaceRow } | null> {
    const [found] = await this.db
      .select({ link: previewLinks, row: workspaces })
      .from(previewLinks)
      .innerJoin(workspaces, eq(workspaces.id, previewLinks.workspaceId))
      .where(and(which, this.working()));
    return found ?? null;
  }

  /** A link that works: not revoked, not expired, its workspace not being deleted. */
  private working() {
    return and(
      isNull(previewLinks.revokedAt),
      gt(previewLinks.expiresAt, this.now()),
      ne(workspaces.status, 'deleting'),
    );
  }
}
