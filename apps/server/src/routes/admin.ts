import {
  adminCreateUserBodySchema,
  adminCreatedUserSchema,
  adminUpdateUserBodySchema,
  userSchema,
} from '@studio/protocol';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { toApiUser } from '../auth/user-service.ts';
import { AppError } from '../errors.ts';

/** Admin: list, create or invite, change role, disable (which ends every session and socket at once). */
export function adminRoutes(app: App, services: Services): void {
  const { users, sockets, audit, config } = services;
  const admin = { access: 'admin' } as const;

  app.get(
    '/api/admin/users',
    { config: admin, schema: { tags: ['admin'], response: { 200: z.array(userSchema) } } },
    async () => (await users.list()).map(toApiUser),
  );

  app.post(
    '/api/admin/users',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        body: adminCreateUserBodySchema,
        response: { 201: adminCreatedUserSchema },
      },
    },
    async (request, reply) => {
      const actor = request.principal!.user;
      const user = await users.create(request.body);
      const inviteUrl = request.body.password
        ? null
        : new URL(
            `/invite/${await users.createInvite(user.id, actor.id)}`,
            config.publicUrl,
          ).toString();
      await audit.record({
        actorId: actor.id,
        action: 'user.created',
        targetType: 'user',
        targetId: user.id,
        data: { email: user.email, role: user.role, invited: inviteUrl !== null },
      });
      return reply.status(201).send({ user: toApiUser(user), inviteUrl });
    },
  );

  app.patch(
    '/api/admin/users/:id',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        params: z.object({ id: z.string().max(100) }),
        body: adminUpdateUserBodySchema,
        response: { 200: userSchema },
      },
    },
    async (request) => {
      const actor = request.principal!.user;
      const target = await users.find(request.params.id);
      if (!target) throw new AppError('not_found', 'no such user');
      const { role, disabled } = request.body;
      const losesAdmin =
        target.role === 'admin' && !target.disabled && (role === 'member' || disabled === true);
      if (losesAdmin && (await users.countActiveAdmins()) <= 1) {
        throw new AppError(
          'conflict',
          'this is the last active admin; make someone else admin first',
        );
      }
      const updated = await users.update(target.id, { role, disabled });
      if (disabled === true) {
        await users.endSessions(target.id);
        sockets.closeUser(target.id);
      }
      await audit.record({
        actorId: actor.id,
        action: 'user.updated',
        targetType: 'user',
        targetId: target.id,
        data: { role, disabled },
      });
      return toApiUser(updated);
    },
  );
}
