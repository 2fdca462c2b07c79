import { createTeamBodySchema, teamSchema } from '@studio/protocol';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { accessChanged } from './members.ts';

const teamParams = z.object({ team: z.string().max(64) });
const teamMemberParams = teamParams.extend({ email: z.string().max(320) });

/**
 * Teams: admins make them and decide who is in them; anyone sees the teams they are in. A change
 * reaches every workspace the team has a role on at once (sockets, live lists).
 */
export function teamRoutes(app: App, services: Services): void {
  const { teams, audit, workspaces } = services;
  const tags = ['teams'];

  /** The audit log's line for a change to a team. */
  const record = (
    request: FastifyRequest,
    action: string,
    teamId: string,
    data: Record<string, unknown>,
  ) =>
    audit.record({
      actorId: request.principal!.user.id,
      action,
      targetType: 'team',
      targetId: teamId,
      data,
    });

  /** After the people of a team changed: each workspace the team has a role on, for `userIds`. */
  const teamAccessChanged = async (teamId: string, userIds: string[], workspaceIds?: string[]) => {
    for (const id of workspaceIds ?? (await teams.workspaceIds(teamId))) {
      const row = await workspaces.getById(id).catch(() => null);
      if (row) await accessChanged(services, row, userIds);
    }
  };

  app.get(
    '/api/teams',
    {
      config: { access: 'user' },
      schema: {
        tags,
        description: 'Every team for an admin; the teams you are in for anyone else.',
        response: { 200: z.array(teamSchema) },
      },
    },
    async (request) => {
      const user = request.principal!.user;
      return teams.list(user.role === 'admin' ? undefined : user.id);
    },
  );

  app.post(
    '/api/admin/teams',
    {
      config: { access: 'admin' },
      schema: { tags, body: createTeamBodySchema, response: { 201: teamSchema } },
    },
    async (request, reply) => {
      const team = await teams.create(request.body.name);
      await record(request, 'team.created', team.id, { name: team.name });
      return reply.status(201).send(team);
    },
  );

  app.delete(
    '/api/admin/teams/:team',
    { config: { access: 'admin' }, schema: { tags, params: teamParams } },
    async (request, reply) => {
      const team = await teams.get(request.params.team);
      const [people, workspaceIds] = await Promise.all([
        teams.memberIds(team.id),
        teams.workspaceIds(team.id),
      ]);
      await teams.remove(team);
      await teamAccessChanged(team.id, people, workspaceIds);
      await record(request, 'team.deleted', team.id, { name: team.name });
      return reply.status(204).send();
    },
  );

  app.put(
    '/api/admin/teams/:team/members/:email',
    { config: { access: 'admin' }, schema: { tags, params: teamMemberParams } },
    async (request, reply) => {
      const team = await teams.get(request.params.team);
      const userId = await teams.addMember(team, request.params.email);
      await teamAccessChanged(team.id, [userId]);
      await record(request, 'team.member_added', team.id, {
        team: team.name,
        email: request.params.email,
      });
      return reply.status(204).send();
    },
  );

  app.delete(
    '/api/admin/teams/:team/members/:email',
    { config: { access: 'admin' }, schema: { tags, params: teamMemberParams } },
    async (request, reply) => {
      const team = await teams.get(request.params.team);
      const userId = await teams.removeMember(team, request.params.email);
      await teamAccessChanged(team.id, [userId]);
      await record(request, 'team.member_removed', team.id, {
        team: team.name,
        email: request.params.email,
      });
      return reply.status(204).send();
    },
  );
}
