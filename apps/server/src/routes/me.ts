import {
  apiTokenSchema,
  changePasswordBodySchema,
  createTokenBodySchema,
  createdTokenSchema,
  meSchema,
  updateProfileBodySchema,
} from '@studio/protocol';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { toApiUser } from '../auth/user-service.ts';
import { AppError } from '../errors.ts';
import { throttle } from './auth.ts';

/** The signed-in user: profile, password, API tokens. */
export function meRoutes(app: App, services: Services): void {
  const { users, tokens, sockets, audit, limits } = services;

  app.get(
    '/api/me',
    { config: { access: 'user' }, schema: { tags: ['me'], response: { 200: meSchema } } },
    async (request) => {
      const { user, via } = request.principal!;
      return { user: toApiUser(user), via };
    },
  );

  app.patch(
    '/api/me',
    {
      config: { access: 'user' },
      schema: { tags: ['me'], body: updateProfileBodySchema, response: { 200: meSchema } },
    },
    async (request) => {
      const { user, via } = request.principal!;
      const updated = await users.update(user.id, { name: request.body.name });
      return { user: toApiUser(updated), via };
    },
  );

  app.post(
    '/api/me/password',
    { config: { access: 'user' }, schema: { tags: ['me'], body: changePasswordBodySchema } },
    async (request, reply) => {
      const { user, sessionId } = request.principal!;
      throttle(reply, await limits.account.hit(`password:${user.id}`));
      if (!(await users.verifyPassword(user.id, request.body.currentPassword))) {
        throw new AppError('invalid_credentials', 'the current password is wrong');
      }
      await users.setPassword(user.id, request.body.newPassword, 'newPassword');
      // Every other session (and its sockets) ends; the one that changed the password stays.
      await users.endSessions(user.id, sessionId);
      sockets.closeUser(user.id, sessionId);
      await limits.account.reset(`password:${user.id}`);
      await audit.record({
        actorId: user.id,
        action: 'user.password_changed',
        targetType: 'user',
        targetId: user.id,
      });
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/tokens',
    {
      config: { access: 'user' },
      schema: { tags: ['tokens'], response: { 200: z.array(apiTokenSchema) } },
    },
    async (request) => tokens.list(request.principal!.user.id),
  );

  app.post(
    '/api/tokens',
    {
      config: { access: 'user' },
      schema: {
        tags: ['tokens'],
        body: createTokenBodySchema,
        response: { 201: createdTokenSchema },
      },
    },
    async (request, reply) => {
      const { user } = request.principal!;
      const { name, expiresInDays, scope, workspace } = request.body;
      // Another person's workspace answers like a missing one.
      const workspaceId = workspace
        ? (await services.workspaces.get(user.id, workspace)).id
        : undefined;
      const created = await tokens.create(user.id, { name, expiresInDays, scope, workspaceId });
      await audit.record({
        actorId: user.id,
        action: 'token.created',
        targetType: 'api_token',
        targetId: created.token.id,
        data: { name: created.token.name, scope, workspace: workspace ?? null },
      });
      return reply.status(201).send(created);
    },
  );

  app.delete(
    '/api/tokens/:id',
    {
      config: { access: 'user' },
      schema: { tags: ['tokens'], params: z.object({ id: z.string().max(100) }) },
    },
    async (request, reply) => {
      const { user } = request.principal!;
      await tokens.revoke(user.id, request.params.id);
      await audit.record({
        actorId: user.id,
        action: 'token.revoked',
        targetType: 'api_token',
        targetId: request.params.id,
      });
      return reply.status(204).send();
    },
  );
}
