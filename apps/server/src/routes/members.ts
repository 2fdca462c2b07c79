import {
  workspaceMemberBodySchema,
  workspaceMemberSchema,
  workspaceTeamSchema,
} from '@studio/protocol';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { workspaceOf } from '../http/access.ts';

const nameParams = z.object({ name: z.string().max(64) });
const memberParams = nameParams.extend({ email: z.string().max(320) });
const teamParams = nameParams.extend({ team: z.string().max(64) });

type Row = Awaited<ReturnType<typeof workspaceOf>>;

/**
 * After people's role on a workspace changed: their open sockets there close (so a smaller role
 * takes effect at once), and their browsers hear that it is shared with them, with which role,
 * or that it is not any more.
 */
export async function accessChanged(
  { members, sockets, workspaces }: Pick<Services, 'members' | 'sockets' | 'workspaces'>,
  row: Row,
  userIds: string[],
): Promise<void> {
  const [owner] = await members.list(row);
  for (const userId of userIds) {
    if (userId === row.ownerId) continue;
    sockets.closeMember(row.id, userId);
    const role = await members.roleOf(userId, row.id);
    workspaces.notify(
      userId,
      role
        ? { type: 'workspace', workspace: workspaces.toApi(row, role, owner?.email) }
        : { type: 'workspace.deleted', id: row.id, name: row.name },
    );
  }
}

/**
 * `/api/workspaces/:name/members` and `…/teams`: who a workspace is shared with, person by
 * person and team by team. Everyone on it sees the lists; its admins (and its owner) change them.
 */
export function memberRoutes(app: App, services: Services): void {
  const { members, teams, audit } = services;
  const tags = ['workspaces'];

  /** After a change of who may reach `row`: those people's sockets and browsers, and the audit log. */
  const changed = async (
    request: FastifyRequest,
    row: Row,
    userIds: string[],
    event: { action: string; targetType: string; targetId: string; data: Record<string, unknown> },
  ) => {
    await accessChanged(services, row, userIds);
    await audit.record({ actorId: request.principal!.user.id, workspaceId: row.id, ...event });
  };

  app.get(
    '/api/workspaces/:name/members',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: { tags, params: nameParams, response: { 200: z.array(workspaceMemberSchema) } },
    },
    async (request) => members.list(await workspaceOf(request)),
  );

  app.put(
    '/api/workspaces/:name/members/:email',
    {
      config: { access: 'user', workspace: 'admin' },
      schema: {
        tags,
        params: memberParams,
        body: workspaceMemberBodySchema,
        response: { 200: workspaceMemberSchema },
      },
    },
    async (request) => {
      const row = await workspaceOf(request);
      const member = await members.set(
        row,
        request.params.email,
        request.body.role,
        request.principal!.user.id,
      );
      await changed(request, row, [member.userId], {
        action: 'workspace.member_set',
        targetType: 'user',
        targetId: member.userId,
        data: { email: member.email, role: member.role },
      });
      return member;
    },
  );

  app.delete(
    '/api/workspaces/:name/members/:email',
    {
      config: { access: 'user', workspace: 'admin' },
      schema: { tags, params: memberParams },
    },
    async (request, reply) => {
      const row = await workspaceOf(request);
      const userId = await members.remove(row, request.params.email);
      await changed(request, row, [userId], {
        action: 'workspace.member_removed',
        targetType: 'user',
        targetId: userId,
        data: { email: request.params.email },
      });
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/workspaces/:name/presence',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: {
        tags,
        description: 'Who has the workspace open in the IDE now, with their role.',
        params: nameParams,
        response: { 200: z.array(workspaceMemberSchema) },
      },
    },
    async (request) => members.present(await workspaceOf(request)),
  );

  app.get(
    '/api/workspaces/:name/teams',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: { tags, params: nameParams, response: { 200: z.array(workspaceTeamSchema) } },
    },
    async (request) => teams.onWorkspace(await workspaceOf(request)),
  );

  app.put(
    '/api/workspaces/:name/teams/:team',
    {
      config: { access: 'user', workspace: 'admin' },
      schema: {
        tags,
        description: 'Gives a team (by id or name) a role on the workspace.',
        params: teamParams,
        body: workspaceMemberBodySchema,
        response: { 200: workspaceTeamSchema },
      },
    },
    async (request) => {
      const row = await workspaceOf(request);
      const shared = await teams.share(
        row,
        request.params.team,
        request.body.role,
        request.principal!.user.id,
      );
      await changed(request, row, await teams.memberIds(shared.teamId), {
        action: 'workspace.team_set',
        targetType: 'team',
        targetId: shared.teamId,
        data: { team: shared.name, role: shared.role },
      });
      return shared;
    },
  );

  app.delete(
    '/api/workspaces/:name/teams/:team',
    {
      config: { access: 'user', workspace: 'admin' },
      schema: { tags, params: teamParams },
    },
    async (request, reply) => {
      const row = await workspaceOf(request);
      const team = await teams.unshare(row, request.params.team);
      await changed(request, row, await teams.memberIds(team.id), {
        action: 'workspace.team_removed',
        targetType: 'team',
        targetId: team.id,
        data: { team: team.name },
      });
      return reply.status(204).send();
    },
  );
}
