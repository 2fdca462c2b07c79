// Teams: groups of people an admin makes. A team given a role on a workspace gives each of its
// people that role there (`WorkspaceMembers` takes the highest of a person's own role and their
// teams'). Leaving a team, or the team losing its role, takes the access away.
import { randomBytes } from 'node:crypto';
import { teamMembers, teams, users, workspaceTeams, type Database } from '@studio/db';
import type { Team, WorkspaceTeam } from '@studio/protocol';
import { and, asc, desc, eq, inArray, or } from 'drizzle-orm';
import { AppError, isUniqueViolation } from '../errors.ts';
import { personByEmail, type MemberRole } from './members.ts';

type WorkspaceRow = { id: string };

/** The team named `name`, for a body's `team` field: a bad request naming the field if none. */
export async function teamNamed(db: Database, name: string): Promise<{ id: string; name: string }> {
  const [team] = await db
    .select({ id: teams.id, name: teams.name })
    .from(teams)
    .where(eq(teams.name, name));
  if (!team) throw new AppError('bad_request', `team: there is no team "${name}"`);
  return team;
}

/** The name of the team with id `teamId`, or null for none (an organisation's or a person's). */
export async function teamNameOf(db: Database, teamId: string | null): Promise<string | null> {
  if (teamId === null) return null;
  const [team] = await db.select({ name: teams.name }).from(teams).where(eq(teams.id, teamId));
  return team?.name ?? null;
}

export class Teams {
  constructor(private readonly db: Database) {}

  /** Every team (for admins), or the teams `userId` is in, with their people. */
  async list(userId?: string): Promise<Team[]> {
    const rows = userId
      ? await this.db
          .select({ id: teams.id, name: teams.name })
          .from(teams)
          .innerJoin(teamMembers, eq(teamMembers.teamId, teams.id))
          .where(eq(teamMembers.userId, userId))
          .orderBy(asc(teams.name))
      : await this.db
          .select({ id: teams.id, name: teams.name })
          .from(teams)
          .orderBy(asc(teams.name));
    if (rows.length === 0) return [];
    const people = await this.db
      .select({
        teamId: teamMembers.teamId,
        userId: users.id,
        email: users.email,
        name: users.name,
      })
      .from(teamMembers)
      .innerJoin(users, eq(users.id, teamMembers.userId))
      .where(
        inArray(
          teamMembers.teamId,
          rows.map((row) => row.id),
        ),
      )
      .orderBy(asc(users.email));
    return rows.map((row) => ({
      ...row,
      members: people
        .filter((person) => person.teamId === row.id)
        .map(({ userId: id, email, name }) => ({ userId: id, email, name })),
    }));
  }

  async create(name: string): Promise<Team> {
    const id = randomBytes(8).toString('hex');
    try {
      await this.db.insert(teams).values({ id, name });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new AppError('conflict', `There is already a team named "${name}".`);
      throw error;
    }
    return { id, name, members: [] };
  }

  /** The team `ref` names: its id or its name. */
  async get(ref: string): Promise<{ id: string; name: string }> {
    const [team] = await this.db
      .select({ id: teams.id, name: teams.name })
      .from(teams)
      .where(or(eq(teams.id, ref), eq(teams.name, ref)))
      // Its id wins over another team's name.
      .orderBy(desc(eq(teams.id, ref)))
      .limit(1);
    if (!team) throw new AppError('not_found', `There is no team "${ref}".`);
    return team;
  }

  /** The ids of the people in a team. */
  async memberIds(teamId: string): Promise<string[]> {
    const rows = await this.db
      .select({ userId: teamMembers.userId })
      .from(teamMembers)
      .where(eq(teamMembers.teamId, teamId));
    return rows.map((row) => row.userId);
  }

  /** The ids of the workspaces a team has a role on. */
  async workspaceIds(teamId: string): Promise<string[]> {
    const rows = await this.db
      .select({ workspaceId: workspaceTeams.workspaceId })
      .from(workspaceTeams)
      .where(eq(workspaceTeams.teamId, teamId));
    return rows.map((row) => row.workspaceId);
  }

  async remove(team: { id: string }): Promise<void> {
    await this.db.delete(teams).where(eq(teams.id, team.id));
  }

  /** Adds the person who signs in as `email`; their id. */
  async addMember(team: { id: string }, email: string): Promise<string> {
    const person = await personByEmail(this.db, email);
    if (!person) throw new AppError('not_found', `Nobody here signs in as ${email}.`);
    await this.db
      .insert(teamMembers)
      .values({ teamId: team.id, userId: person.id })
      .onConflictDoNothing();
    return person.id;
  }

  /** Takes `email` out of the team; their id. */
  async removeMember(team: { id: string; name: string }, email: string): Promise<string> {
    const person = await personByEmail(this.db, email);
    const [removed] = person
      ? await this.db
          .delete(teamMembers)
          .where(and(eq(teamMembers.teamId, team.id), eq(teamMembers.userId, person.id)))
          .returning({ userId: teamMembers.userId })
      : [];
    if (!removed) throw new AppError('not_found', `${email} is not in the team ${team.name}.`);
    return removed.userId;
  }

  /** The teams with a role on a workspace. */
  async onWorkspace(row: WorkspaceRow): Promise<WorkspaceTeam[]> {
    return this.db
      .select({ teamId: teams.id, name: teams.name, role: workspaceTeams.role })
      .from(workspaceTeams)
      .innerJoin(teams, eq(teams.id, workspaceTeams.teamId))
      .where(eq(workspaceTeams.workspaceId, row.id))
      .orderBy(asc(teams.name));
  }

  /** Gives the team `ref` the role `role` on the workspace. */
  async share(
    row: WorkspaceRow,
    ref: string,
    role: MemberRole,
    by: string,
  ): Promise<WorkspaceTeam> {
    const team = await this.get(ref);
    await this.db
      .insert(workspaceTeams)
      .values({ workspaceId: row.id, teamId: team.id, role, addedBy: by })
      .onConflictDoUpdate({
        target: [workspaceTeams.workspaceId, workspaceTeams.teamId],
        set: { role, addedBy: by },
      });
    return { teamId: team.id, name: team.name, role };
  }

  /** Takes the team's role on the workspace away; the team. */
  async unshare(row: WorkspaceRow, ref: string): Promise<{ id: string; name: string }> {
    const team = await this.get(ref);
    const [removed] = await this.db
      .delete(workspaceTeams)
      .where(and(eq(workspaceTeams.workspaceId, row.id), eq(workspaceTeams.teamId, team.id)))
      .returning({ teamId: workspaceTeams.teamId });
    if (!removed) throw new AppError('not_found', `The team ${team.name} has no role here.`);
    return team;
  }
}
