import {
  roleAllows,
  createTerminalBodySchema,
  createWorkspaceBodySchema,
  execBodySchema,
  listedTemplateSchema,
  putWarmPoolBodySchema,
  templateImageStateSchema,
  warmPoolStateSchema,
  putTemplateBodySchema,
  renameTerminalBodySchema,
  terminalClientMessageSchema,
  terminalSchema,
  workspaceSchema,
  workspaceStatsSchema,
  WS_CLOSE,
  type ExecEvent,
  type TerminalServerMessage,
} from '@studio/protocol';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { AppError } from '../errors.ts';
import { refuseGitImport } from '../net/server-network.ts';
import { toApiError } from '../http/error-handler.ts';
import { startNdjson } from '../http/ndjson.ts';
import { joinDaemonStream, peerOf } from './daemon-socket.ts';
import { teamNamed } from '../workspaces/teams.ts';
import { accessOf, workspaceOf } from '../http/access.ts';

const nameParams = z.object({ name: z.string().max(64) });
const terminalParams = nameParams.extend({ id: z.string().max(64) });

/** Workspaces, their terminals and command runs; every route checks ownership through the name. */
export function workspaceRoutes(app: App, services: Services): void {
  const { workspaces, templates, audit, database } = services;
  const tags = ['workspaces'];

  app.get(
    '/api/runtime',
    {
      config: { access: 'user' },
      schema: {
        tags,
        response: {
          200: z.object({
            driver: z.string(),
            isolation: z.enum(['container', 'bwrap', 'none']),
            diskLimits: z
              .boolean()
              .describe(
                'Whether template disk sizes are enforced (a full disk ends inside the workspace).',
              ),
          }),
        },
      },
    },
    async () => ({
      driver: workspaces.driver,
      isolation: workspaces.isolation,
      diskLimits: await workspaces.diskLimits(),
    }),
  );

  app.get(
    '/api/templates',
    {
      config: { access: 'user' },
      schema: {
        tags,
        description:
          'The templates you may use: everyone’s and your teams’ (every one, to admins).',
        response: { 200: z.array(listedTemplateSchema) },
      },
    },
    async (request) => templates.list(request.principal!.user.id),
  );

  app.put(
    '/api/admin/templates/:name',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        description:
          'Saves a template for everyone, or with `team` for that team’s people only (and admins).',
        params: nameParams,
        body: putTemplateBodySchema,
        response: { 200: listedTemplateSchema },
      },
    },
    async (request) => {
      const { team: teamName, ...template } = request.body;
      if (template.name !== request.params.name) {
        throw new AppError('bad_request', 'body.name: must match the name in the URL');
      }
      const team = teamName ? await teamNamed(database.db, teamName) : null;
      await templates.put(template, 'api', team?.id ?? null);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'template.saved',
        targetType: 'template',
        targetId: template.name,
        ...(team ? { data: { team: team.name } } : {}),
      });
      return { ...template, team: team?.name ?? null };
    },
  );

  app.get(
    '/api/admin/warm-pools',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        description:
          'Each template’s warm pool (Docker): how many started workspaces it keeps waiting, and how many are ready or still warming.',
        response: { 200: z.array(warmPoolStateSchema) },
      },
    },
    async () => workspaces.warmPools(),
  );

  app.get(
    '/api/admin/images',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        description:
          'Each built template’s image (Docker): ready, missing (built at its first create), outdated (its recipe changed), or being built again in the background with its latest step, or why that failed. Empty on drivers without images.',
        response: { 200: z.array(templateImageStateSchema) },
      },
    },
    async () => (services.prebuilds ? services.prebuilds.states() : []),
  );

  app.put(
    '/api/admin/templates/:name/warm-pool',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        description:
          'Keeps `size` started workspaces of the template waiting for creates; null goes back to the template’s own `warmPool`.',
        params: nameParams,
        body: putWarmPoolBodySchema,
        response: { 200: listedTemplateSchema },
      },
    },
    async (request) => {
      const template = await templates.setWarmPool(request.params.name, request.body.size);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'template.warm_pool',
        targetType: 'template',
        targetId: template.name,
        data: { size: request.body.size },
      });
      workspaces.refillPools();
      const listed = (await templates.list()).find((item) => item.name === template.name);
      return listed ?? { ...template, team: null };
    },
  );

  app.delete(
    '/api/admin/templates/:name',
    { config: { access: 'admin' }, schema: { tags: ['admin'], params: nameParams } },
    async (request, reply) => {
      await templates.remove(request.params.name);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'template.deleted',
        targetType: 'template',
        targetId: request.params.name,
      });
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/workspaces',
    { config: { access: 'user' }, schema: { tags, response: { 200: z.array(workspaceSchema) } } },
    // Their own, then those shared with them (each with its id, owner and their role).
    async (request) => {
      const userId = request.principal!.user.id;
      const shared = await services.members.sharedWith(userId);
      return [
        ...(await workspaces.list(userId)),
        ...shared.map(({ row, role, ownerEmail }) => workspaces.toApi(row, role, ownerEmail)),
      ];
    },
  );

  app.post(
    '/api/workspaces',
    {
      config: { access: 'user' },
      schema: { tags, body: createWorkspaceBodySchema, response: { 201: workspaceSchema } },
    },
    async (request, reply) => {
      const user = request.principal!.user;
      // A clone runs where the workspace's network reaches: not the server's own (THREATS 18).
      if (request.body.repoUrl)
        await refuseGitImport(
          { admin: user.role === 'admin' },
          request.body.repoUrl,
          services.config.ai.fetchAllow,
        );
      const workspace = await workspaces.create(user.id, request.body);
      await audit.record({
        actorId: user.id,
        action: 'workspace.created',
        targetType: 'workspace',
        targetId: workspace.id,
        workspaceId: workspace.id,
        data: { name: workspace.name, template: workspace.template },
      });
      return reply.status(201).send(workspace);
    },
  );

  app.get(
    '/api/workspaces/:name',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: { tags, params: nameParams, response: { 200: workspaceSchema } },
    },
    async (request) => {
      const { row, role } = await accessOf(request);
      return workspaces.toApi(row, role);
    },
  );

  for (const action of ['start', 'stop', 'restart'] as const) {
    app.post(
      `/api/workspaces/:name/${action}`,
      {
        config: { access: 'user', workspace: 'editor' },
        schema: { tags, params: nameParams, response: { 202: workspaceSchema } },
      },
      async (request, reply) => {
        const { row, role } = await accessOf(request);
        const workspace = await workspaces[`${action}Row`](row);
        return reply.status(202).send({ ...workspace, role });
      },
    );
  }

  app.delete(
    '/api/workspaces/:name',
    { config: { access: 'user', workspace: 'admin' }, schema: { tags, params: nameParams } },
    async (request, reply) => {
      const user = request.principal!.user;
      const row = await workspaceOf(request);
      await workspaces.removeRow(row);
      await audit.record({
        actorId: user.id,
        action: 'workspace.deleted',
        targetType: 'workspace',
        targetId: row.id,
        workspaceId: row.id,
        data: { name: row.name },
      });
      return reply.status(202).send();
    },
  );

  app.get(
    '/api/workspaces/:name/logs',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: {
        tags,
        params: nameParams,
        querystring: z.object({ tail: z.coerce.number().int().min(1).max(10_000).default(200) }),
        response: { 200: z.object({ logs: z.string() }) },
      },
    },
    async (request) => {
      const row = await workspaceOf(request);
      return { logs: await workspaces.logs(row, request.query.tail) };
    },
  );

  app.get(
    '/api/workspaces/:name/stats',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: { tags, params: nameParams, response: { 200: workspaceStatsSchema } },
    },
    async (request) => {
      const row = await workspaceOf(request);
      return workspaces.stats(row);
    },
  );

  // --- terminals ---

  app.get(
    '/api/workspaces/:name/terminals',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: { tags, params: nameParams, response: { 200: z.array(terminalSchema) } },
    },
    async (request) => {
      const row = await workspaceOf(request);
      const daemon = await workspaces.connect(row);
      return (await daemon.call('pty.list', {})).ptys;
    },
  );

  app.post(
    '/api/workspaces/:name/terminals',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: {
        tags,
        params: nameParams,
        body: createTerminalBodySchema,
        response: { 201: terminalSchema },
      },
    },
    async (request, reply) => {
      const row = await workspaceOf(request);
      const daemon = await workspaces.connect(row);
      const terminal = await daemon.call('pty.open', request.body);
      workspaces.touch(row.id);
      return reply.status(201).send(terminal);
    },
  );

  app.patch(
    '/api/workspaces/:name/terminals/:id',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: {
        tags,
        params: terminalParams,
        body: renameTerminalBodySchema,
        response: { 200: terminalSchema },
      },
    },
    async (request) => {
      const row = await workspaceOf(request);
      const daemon = await workspaces.connect(row);
      return daemon.call('pty.rename', { id: request.params.id, title: request.body.title });
    },
  );

  app.delete(
    '/api/workspaces/:name/terminals/:id',
    { config: { access: 'user', workspace: 'editor' }, schema: { tags, params: terminalParams } },
    async (request, reply) => {
      const row = await workspaceOf(request);
      const daemon = await workspaces.connect(row);
      await daemon.call('pty.close', { id: request.params.id });
      return reply.status(204).send();
    },
  );

  // The browser's terminal: binary frames are terminal bytes both ways, text frames are control.
  // A viewer watches: what they type and their window's size never reach the terminal.
  app.get(
    '/api/workspaces/:name/terminals/:id/attach',
    {
      config: { access: 'user', workspace: 'viewer' },
      websocket: true,
      schema: { tags, 'x-websocket': true, params: terminalParams },
    },
    async (socket, request) => {
      const { id } = request.params as z.infer<typeof terminalParams>;
      await joinDaemonStream(socket, request, services, async (daemon, row, role) => {
        const watching = !roleAllows(role, 'editor');
        const stream = await daemon.open(
          'pty.attach',
          { id, user: peerOf(request) },
          { manualAck: true },
        );
        const send = (message: TerminalServerMessage) => socket.send(JSON.stringify(message));
        // Acknowledge only once the bytes left for the browser: a slow browser pauses the PTY.
        stream.onData((payload) => socket.send(payload, () => stream.ack(payload.byteLength)));
        stream.onEvent((event) => {
          if (event.kind === 'exit') send({ type: 'exit', code: event.code, signal: event.signal });
          if (event.kind === 'process') send({ type: 'process', name: event.name });
          if (event.kind === 'typing') send({ type: 'typing', name: event.name });
        });
        stream.onEnd((error) => {
          const close = error?.code === 'not_found' ? WS_CLOSE.notFound : WS_CLOSE.streamEnded;
          socket.close(close.code, error?.message.slice(0, 120) ?? close.reason);
        });
        const forward = (data: Buffer, binary: boolean) => {
          if (watching) return;
          if (binary) {
            stream.write(data);
            workspaces.touch(row.id);
            return;
          }
          const parsed = terminalClientMessageSchema.safeParse(safeJson(data.toString()));
          if (!parsed.success) {
            socket.close(WS_CLOSE.badMessage.code, WS_CLOSE.badMessage.reason);
            return;
          }
          void daemon
            .call('pty.resize', { id, cols: parsed.data.cols, rows: parsed.data.rows })
            .catch(() => {});
        };
        return { stream, forward };
      });
    },
  );

  // --- images ---

  app.post(
    '/api/admin/images/build',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        body: z.strictObject({ template: z.string().max(64).optional() }),
      },
    },
    async (request, reply) => {
      const images = services.images;
      if (!images) {
        throw new AppError(
          'bad_request',
          `This server runs workspaces on the ${workspaces.driver} driver, which uses no images.`,
        );
      }
      const chosen = request.body.template
        ? [await templates.get(request.body.template)]
        : (await templates.list()).filter((template) => template.image.build);
      const write = startNdjson<object>(reply);
      for (const template of chosen) {
        try {
          await images.ensure(template, (step, detail) =>
            write({
              type: 'progress',
              template: template.name,
              step,
              ...(detail ? { detail } : {}),
            }),
          );
          write({ type: 'done', template: template.name, image: template.image.ref });
        } catch (error) {
          const { body } = toApiError(error);
          write({ type: 'error', code: body.code, message: body.message });
          break;
        }
      }
      reply.raw.end();
      return reply;
    },
  );

  // --- commands ---

  app.post(
    '/api/workspaces/:name/exec',
    {
      // Standard input may be any bytes a program reads; it never reaches SQL.
      config: { access: 'user', workspace: 'editor', rawText: true },
      schema: { tags, params: nameParams, body: execBodySchema },
    },
    async (request, reply) => {
      const row = await workspaceOf(request);
      const daemon = await workspaces.connect(row);
      const { stdin, ...params } = request.body;
      const stream = await daemon.open('exec.start', params);
      workspaces.touch(row.id);
      const write = startNdjson<ExecEvent>(reply);
      // The client hanging up kills the command, like a closed terminal would.
      request.raw.once('close', () => stream.cancel());
      const decoders = [new TextDecoder(), new TextDecoder()];
      stream.onData((payload, channel) => {
        const data = decoders[channel === 1 ? 1 : 0]!.decode(payload, { stream: true });
        if (data) write({ type: channel === 1 ? 'stderr' : 'stdout', data });
      });
      if (stdin !== undefined) stream.write(stdin);
      stream.end();
      await new Promise<void>((resolve) => {
        stream.onEvent((event) => {
          if (event.kind === 'exit') {
            write({
              type: 'exit',
              code: event.code,
              signal: event.signal,
              timedOut: event.timedOut,
              truncated: event.truncated,
            });
          }
        });
        stream.onEnd((error) => {
          if (error) write({ type: 'error', code: error.code, message: error.message });
          resolve();
        });
      });
      reply.raw.end();
      return reply;
    },
  );
}

/** Begin a streamed NDJSON answer, once nothing can fail as an ordinary error any more. */
function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
