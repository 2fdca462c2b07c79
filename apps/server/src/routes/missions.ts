import {
  deployMissionBodySchema,
  missionConnectionSchema,
  missionListSchema,
  missionSchema,
  updateMissionBodySchema,
} from '@studio/protocol';
import { z } from 'zod';
import type { App } from '../app.ts';
import type { MissionService } from '../missions/mission-service.ts';
import { person } from './ai.ts';

const params = z.object({ id: z.string().max(100) });
const tags = ['missions'];

/**
 * Missions as REST resources, so programs can start and watch jobs: deploy, status, connection
 * details, keep or extend, stop, remove. The main agent on the Mission Control page uses the same
 * service through its tools.
 */
export function missionRoutes(app: App, missions: MissionService): void {
  app.post(
    '/api/missions',
    {
      config: { access: 'user' },
      schema: {
        tags,
        description:
          'Deploy an environment from a template and start a worker agent on the requirement. ' +
          'Answers at once with status `queued`; poll `GET /api/missions/:id` until `ready`.',
        body: deployMissionBodySchema,
        response: { 202: missionSchema },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await missions.deploy(person(request), request.body)),
  );

  app.get(
    '/api/missions',
    { config: { access: 'user' }, schema: { tags, response: { 200: missionListSchema } } },
    async (request) => ({ missions: await missions.list(request.principal!.user.id) }),
  );

  app.get(
    '/api/missions/:id',
    { config: { access: 'user' }, schema: { tags, params, response: { 200: missionSchema } } },
    async (request) => missions.get(request.principal!.user.id, request.params.id),
  );

  app.get(
    '/api/missions/:id/connect',
    {
      config: { access: 'user' },
      schema: {
        tags,
        description:
          'Where a ready mission is reached: its IDE page, its desktop WebSocket (VNC over RFB, ' +
          'with the session or an API token) and its worker run. 409 until it is ready.',
        params,
        response: { 200: missionConnectionSchema },
      },
    },
    async (request) => missions.connection(request.principal!.user.id, request.params.id),
  );

  app.patch(
    '/api/missions/:id',
    {
      config: { access: 'user' },
      schema: { tags, params, body: updateMissionBodySchema, response: { 200: missionSchema } },
    },
    async (request) => missions.change(request.principal!.user.id, request.params.id, request.body),
  );

  app.post(
    '/api/missions/:id/stop',
    { config: { access: 'user' }, schema: { tags, params, response: { 200: missionSchema } } },
    async (request) => missions.stop(request.principal!.user.id, request.params.id),
  );

  app.delete(
    '/api/missions/:id',
    { config: { access: 'user' }, schema: { tags, params } },
    async (request, reply) => {
      await missions.remove(request.principal!.user.id, request.params.id);
      return reply.status(204).send();
    },
  );
}
