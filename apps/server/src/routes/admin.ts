import {
  adminCreateUserBodySchema,
  adminCreatedUserSchema,
  adminUpdateUserBodySchema,
  adminWorkspaceSchema,
  dockerfileTemplateBodySchema,
  listedTemplateSchema,
  type DockerfileTemplateEvent,
  saveAsTemplateBodySchema,
  userSchema,
} from '@studio/protocol';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { toApiUser } from '../auth/user-service.ts';
import { AppError } from '../errors.ts';
import { toApiError } from '../http/error-handler.ts';
import { startNdjson } from '../http/ndjson.ts';

/**
 * Admin: people (list, create or invite, change role, disable: which ends every session, socket,
 * token, run and workspace of theirs at once) and every workspace on the server.
 */
export function adminRoutes(app: App, services: Services): void {
  const { users, sockets, audit, config, tokens, runs, workspaces } = services;
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
      let ended = {};
      if (disabled === true && !target.disabled) {
        await users.endSessions(target.id);
        sockets.closeUser(target.id);
        // Revoked, not suspended: enabling the person again does not bring old tokens back.
        ended = {
          tokensRevoked: await tokens.revokeAll(target.id),
          runsStopped: await runs.stopUser(target.id),
          workspacesStopped: await workspaces.stopAllOf(
            target.id,
            'stopped: its owner was disabled by an admin',
          ),
        };
      }
      await audit.record({
        actorId: actor.id,
        action: 'user.updated',
        targetType: 'user',
        targetId: target.id,
        data: { role, disabled, ...ended },
      });
      return toApiUser(updated);
    },
  );

  app.get(
    '/api/admin/workspaces',
    {
      config: admin,
      schema: { tags: ['admin'], response: { 200: z.array(adminWorkspaceSchema) } },
    },
    async () => {
      const people = new Map((await users.list()).map((user) => [user.id, user]));
      return (await workspaces.listAll())
        .filter((row) => row.status !== 'deleting')
        .map((row) => {
          const owner = people.get(row.ownerId);
          return {
            ...workspaces.toApi(row),
            owner: { id: row.ownerId, email: owner?.email ?? '', name: owner?.name ?? '' },
          };
        });
    },
  );

  const idParams = z.object({ id: z.string().max(100) });
  app.post(
    '/api/admin/workspaces/:id/template',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        description:
          'A new template for everyone from a workspace: its template, with an image whose starter project is the workspace’s home as it is now (Docker).',
        params: idParams,
        body: saveAsTemplateBodySchema,
        response: { 201: listedTemplateSchema },
      },
    },
    async (request, reply) => {
      const row = await workspaces.getById(request.params.id);
      const template = await workspaces.saveAsTemplate(row, request.body.name, request.body.title);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'template.saved_from_workspace',
        targetType: 'template',
        targetId: template.name,
        workspaceId: row.id,
        data: { workspace: row.name, ownerId: row.ownerId, image: template.image.ref },
      });
      return reply.status(201).send({ ...template, team: null });
    },
  );
  app.post(
    '/api/admin/templates/dockerfile',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        description:
          'A new template for everyone from a Dockerfile (Docker): answered as NDJSON — the build’s output line by line, then the template or why it failed. A bad body or a taken name is refused before the build.',
        body: dockerfileTemplateBodySchema,
      },
    },
    async (request, reply) => {
      // The answer turns into a stream at the build's first line; a refusal before it is a
      // plain error answer.
      let write: ((event: DockerfileTemplateEvent) => void) | null = null;
      const send = (event: DockerfileTemplateEvent) => (write ??= startNdjson(reply))(event);
      try {
        const template = await workspaces.templateFromDockerfile(request.body, (line) =>
          send({ type: 'log', line }),
        );
        await audit.record({
          actorId: request.principal!.user.id,
          action: 'template.built_from_dockerfile',
          targetType: 'template',
          targetId: template.name,
          data: { image: template.image.ref, dockerfile: request.body.dockerfile.slice(0, 4096) },
        });
        send({ type: 'done', template: { ...template, team: null } });
      } catch (error) {
        if (!write) throw error;
        const { body } = toApiError(error);
        send({ type: 'error', code: body.code, message: body.message });
      }
      reply.raw.end();
      return reply;
    },
  );
  app.post(
    '/api/admin/workspaces/:id/stop',
    { config: admin, schema: { tags: ['admin'], params: idParams } },
    async (request) => {
      const row = await workspaces.getById(request.params.id);
      const stopped = await workspaces.stopRow(row, 'stopped by an admin');
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'admin.workspace.stop',
        targetType: 'workspace',
        targetId: row.id,
        workspaceId: row.id,
        data: { name: row.name, ownerId: row.ownerId },
      });
      return stopped;
    },
  );

  app.delete(
    '/api/admin/workspaces/:id',
    { config: admin, schema: { tags: ['admin'], params: idParams } },
    async (request, reply) => {
      const row = await workspaces.getById(request.params.id);
      await workspaces.removeRow(row);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'admin.workspace.delete',
        targetType: 'workspace',
        targetId: row.id,
        workspaceId: row.id,
        data: { name: row.name, ownerId: row.ownerId },
      });
      return reply.status(202).send();
    },
  );
}
