// Who may do what on a workspace: its owner, and the people it is shared with as `viewer`,
// `editor` or `admin`. Every route on a workspace declares the role it needs
// (`config.workspace`); one hook resolves the caller's role from what the router matched and
// asks `allows` — nothing else decides. Someone with no role gets the same 404 as for a
// workspace that does not exist (no probing); too small a role is a 403 naming the one needed.
import {
  teamMembers,
  users,
  workspaceMembers,
  workspacePresence,
  workspaceTeams,
  workspaces,
  type Database,
  type WORKSPACE_MEMBER_ROLES,
} from '@studio/db';
import { aRole, roleAllows, type WorkspaceMember, type WorkspaceRole } from '@studio/protocol';
import { and, asc, eq, gt, ne, or, sql } from 'drizzle-orm';
import { AppError } from '../errors.ts';

type Row = typeof workspaces.$inferSelect;
export type MemberRole = (typeof WORKSPACE_MEMBER_ROLES)[number];

/** A 403 naming the role an action needs, unless `role` has it. */
export function requireRole(role: WorkspaceRole, needed: WorkspaceRole, workspace: string): void {
  if (roleAllows(role, needed)) return;
  throw new AppError(
    'forbidden',
    `This needs the ${needed} role on workspace "${workspace}"; you are ${aRole(role)} there.`,
  );
}

/** The person who signs in as `email` (stored lower-case), or undefined. */
export async function personByEmail(
  db: Database,
  email: string,
): Promise<{ id: string; email: string; name: string } | undefined> {
  const [person] = await db
    .select({ id: users.id, email: users.email, name: users.name })
    .from(users)
    .where(eq(users.email, email.toLowerCase()));
  return person;
}

/** The highest of `roles`, or null for none. */
function highest(roles: MemberRole[]): MemberRole | null {
  return roles.reduce<MemberRole | null>(
    (best, role) => (best === null || roleAllows(role, best) ? role : best),
    null,
  );
}

/** A workspace as one person reaches it, with their role on it. */
export interface WorkspaceAccess {
  row: Row;
  role: WorkspaceRole;
}

/** How often an open IDE says it is there, and how long after the last time it counts as gone. */
export const PRESENCE_BEAT_MS = 15_000;
const PRESENCE_MS = 40_000;

export class WorkspaceMembers {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** `userId` has the workspace open now (a heartbeat of their IDE). */
  async seen(workspaceId: string, userId: string): Promise<void> {
    const seenAt = this.now();
    await this.db
      .insert(workspacePresence)
      .values({ workspaceId, userId, seenAt })
      .onConflictDoUpdate({
        target: [workspacePresence.workspaceId, workspacePresence.userId],
        set: { seenAt },
      });
  }

  /** `userId` closed the workspace (they count as there again at their next heartbeat elsewhere). */
  async left(workspaceId: string, userId: string): Promise<void> {
    await this.db
      .delete(workspacePresence)
      .where(
        and(eq(workspacePresence.workspaceId, workspaceId), eq(workspacePresence.userId, userId)),
      );
  }

  /** Who has the workspace open now, with their role on it. */
  async present(row: Row): Promise<WorkspaceMember[]> {
    const since = new Date(this.now().getTime() - PRESENCE_MS);
    const people = await this.db
      .select({ userId: users.id, email: users.email, name: users.name })
      .from(workspacePresence)
      .innerJoin(users, eq(users.id, workspacePresence.userId))
      .where(and(eq(workspacePresence.workspaceId, row.id), gt(workspacePresence.seenAt, since)))
      .orderBy(asc(users.email));
    const withRoles: WorkspaceMember[] = [];
    for (const person of people) {
      const role =
        person.userId === row.ownerId ? 'owner' : await this.roleOf(person.userId, row.id);
      if (role) withRoles.push({ ...person, role });
    }
    return withRoles;
  }

  /**
   * The workspace `ref` names for `userId`: one of their own by name, or by its id one of their
   * own or one shared with them. Anything else, and a workspace being deleted, is `not_found`.
   */
  async resolve(userId: string, ref: string): Promise<WorkspaceAccess> {
    // One round trip: it runs on every request to a workspace. Their own by name wins over any
    // workspace whose id happens to be that name.
    const rows = await this.db
      .select({
        row: workspaces,
        // Qualified by hand: drizzle names the outer columns without their table.
        memberRole: sql<MemberRole | null>`(select wm.role from workspace_members wm
          where wm.workspace_id = "workspaces"."id" and wm.user_id = ${userId})`,
        teamRoles: sql<MemberRole[] | null>`(select array_agg(wt.role) from workspace_teams wt
          join team_members tm on tm.team_id = wt.team_id
          where wt.workspace_id = "workspaces"."id" and tm.user_id = ${userId})`,
      })
      .from(workspaces)
      .where(
        and(
          ne(workspaces.status, 'deleting'),
          or(and(eq(workspaces.ownerId, userId), eq(workspaces.name, ref)), eq(workspaces.id, ref)),
        ),
      );
    const own = rows.find(({ row }) => row.ownerId === userId && row.name === ref);
    if (own) return { row: own.row, role: 'owner' };
    const byId = rows.find(({ row }) => row.id === ref);
    if (byId) {
      if (byId.row.ownerId === userId) return { row: byId.row, role: 'owner' };
      const role = highest([
        ...(byId.memberRole ? [byId.memberRole] : []),
        ...(byId.teamRoles ?? []),
      ]);
      if (role) return { row: byId.row, role };
    }
    throw new AppError('not_found', `You have no workspace named "${ref}".`);
  }

  /**
   * `userId`'s role on someone else's workspace `workspaceId`: the highest of their own and their
   * teams' roles there, or null when they have none.
   */
  async roleOf(userId: string, workspaceId: string): Promise<MemberRole | null> {
    const own = await this.db
      .select({ role: workspaceMembers.role })
      .from(workspaceMembers)
      .where(
        and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)),
      );
    const viaTeams = await this.db
      .select({ role: workspaceTeams.role })
      .from(workspaceTeams)
      .innerJoin(teamMembers, eq(teamMembers.teamId, workspaceTeams.teamId))
      .where(and(eq(workspaceTeams.workspaceId, workspaceId), eq(teamMembers.userId, userId)));
    return highest([...own, ...viaTeams].map((row) => row.role));
  }

  /**
   * The workspaces shared with `userId` (not their own), directly or through a team, with their
   * highest role and the owner.
   */
  async sharedWith(
    userId: string,
  ): Promise<Array<{ row: Row; role: MemberRole; ownerEmail: string }>> {
    const direct = await this.db
      .select({ row: workspaces, role: workspaceMembers.role, ownerEmail: users.email })
      .from(workspaceMembers)
      .innerJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
      .innerJoin(users, eq(users.id, workspaces.ownerId))
      .where(and(eq(workspaceMembers.userId, userId), ne(workspaces.status, 'deleting')));
    const viaTeams = await this.db
      .select({ row: workspaces, role: workspaceTeams.role, ownerEmail: users.email })
      .from(workspaceTeams)
      .innerJoin(teamMembers, eq(teamMembers.teamId, workspaceTeams.teamId))
      .innerJoin(workspaces, eq(workspaces.id, workspaceTeams.workspaceId))
      .innerJoin(users, eq(users.id, workspaces.ownerId))
      .where(
        and(
          eq(teamMembers.userId, userId),
          ne(workspaces.status, 'deleting'),
          ne(workspaces.ownerId, userId),
        ),
      );
    const byId = new Map<string, { row: Row; role: MemberRole; ownerEmail: string }>();
    for (const found of [...direct, ...viaTeams]) {
      const seen = byId.get(found.row.id);
      if (!seen || roleAllows(found.role, seen.role)) byId.set(found.row.id, found);
    }
    return [...byId.values()].sort((a, b) => a.row.name.localeCompare(b.row.name));
  }

  /** The owner first, then the members by email. */
  async list(row: Row): Promise<WorkspaceMember[]> {
    const [owner] = await this.db
      .select({ userId: users.id, email: users.email, name: users.name })
      .from(users)
      .where(eq(users.id, row.ownerId));
    const members = await this.db
      .select({
        userId: users.id,
        email: users.email,
        name: users.name,
        role: workspaceMembers.role,
      })
      .from(workspaceMembers)
      .innerJoin(users, eq(users.id, workspaceMembers.userId))
      .where(eq(workspaceMembers.workspaceId, row.id))
      .orderBy(asc(users.email));
    return [...(owner ? [{ ...owner, role: 'owner' as const }] : []), ...members];
  }

  /** Gives `email` the role `role` on the workspace (adding them, or changing their role). */
  async set(row: Row, email: string, role: MemberRole, by: string): Promise<WorkspaceMember> {
    const person = await personByEmail(this.db, email);
    if (!person)
      throw new AppError(
        'not_found',
        `Nobody here signs in as ${email}; invite them to the platform first.`,
      );
    if (person.id === row.ownerId)
      throw new AppError('bad_request', `${email} owns this workspace; an owner has every role.`);
    await this.db
      .insert(workspaceMembers)
      .values({ workspaceId: row.id, userId: person.id, role, addedBy: by })
      .onConflictDoUpdate({
        target: [workspaceMembers.workspaceId, workspaceMembers.userId],
        set: { role, addedBy: by },
      });
    return { userId: person.id, email: person.email, name: person.name, role };
  }

  /** Removes `email` from the workspace; their id, so their sockets can be closed. */
  async remove(row: Row, email: string): Promise<string> {
    const [removed] = await this.db
      .delete(workspaceMembers)
      .where(
        and(
          eq(workspaceMembers.workspaceId, row.id),
          eq(
            workspaceMembers.userId,
            this.db
              .select({ id: users.id })
              .from(users)
              .where(eq(users.email, email.toLowerCase())),
          ),
        ),
      )
      .returning({ userId: workspaceMembers.userId });
    if (!removed) throw new AppError('not_found', `${email} is not a member of this workspace.`);
    return removed.userId;
  }
}
