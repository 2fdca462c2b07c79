import { workspaceMemberBodySchema, workspaceMemberSchema } from '@studio/protocol';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { workspaceOf } from '../http/access.ts';

const nameParams = z.object({ name: z.string().max(64) });
const memberParams = nameParams.extend({ email: z.string().max(320) });

/**
 * `/api/workspaces/:name/members`: who a workspace is shared with. Everyone on it sees the list;
 * its admins (and its owner) add, change and remove people. A change closes the person's open
 * sockets on the workspace at once, so a smaller role takes effect on them too.
 */
export function memberRoutes(app: App, { members, audit, sockets, workspaces }: Services): void {
  const tags = ['workspaces'];

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
      sockets.closeMember(row.id, member.userId);
      const [owner] = await members.list(row);
      workspaces.notify(member.userId, {
        type: 'workspace',
        workspace: workspaces.toApi(row, member.role, owner?.email),
      });
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'workspace.member_set',
        targetType: 'user',
        targetId: member.userId,
        workspaceId: row.id,
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
      sockets.closeMember(row.id, userId);
      workspaces.notify(userId, { type: 'workspace.deleted', id: row.id, name: row.name });
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'workspace.member_removed',
        targetType: 'user',
        targetId: userId,
        workspaceId: row.id,
        data: { email: request.params.email },
      });
      return reply.status(204).send();
    },
  );
}
