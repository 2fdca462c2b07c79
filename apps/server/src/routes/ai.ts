import { listModels } from '@studio/agent';
import {
  aiModelListSchema,
  aiProviderListSchema,
  aiProviderSchema,
  aiSettingsSchema,
  approvalBodySchema,
  completionBodySchema,
  completionResultSchema,
  conversationDetailSchema,
  conversationListSchema,
  conversationSchema,
  createAiProviderBodySchema,
  createConversationBodySchema,
  policySchema,
  runMessageBodySchema,
  sendMessageBodySchema,
  sendMessageResultSchema,
  updateAiProviderBodySchema,
  updateAiSettingsBodySchema,
  updateConversationBodySchema,
  updatePolicyBodySchema,
  type RunEvent,
} from '@studio/protocol';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DEFAULT_TITLE, type Person } from '../ai/assistant.ts';
import { conversationView } from '../ai/conversation-store.ts';
import type { App, Services } from '../app.ts';
import { missionRoutes } from './missions.ts';
import { workspaceOf } from '../http/access.ts';

const idParams = z.object({ id: z.string().max(100) });
const nameParams = z.object({ name: z.string().max(64) });
const conversationParams = nameParams.extend({ id: z.string().max(100) });
const mainConversationParams = z.object({ id: z.string().max(100) });
const runParams = z.object({ id: z.string().max(100) });
const approvalParams = runParams.extend({ callId: z.string().max(200) });
const eventsQuery = z.object({ after: z.coerce.number().int().min(-1).default(-1) });
/** SSE comments keep proxies from closing a quiet stream (a run waiting for an approval). */
const KEEPALIVE_MS = 15_000;

/** The signed-in person the assistant works for. */
export function person(request: FastifyRequest): Person {
  const { user } = request.principal!;
  return { id: user.id, admin: user.role === 'admin', name: user.name, email: user.email };
}

/**
 * The assistant: providers and model roles, conversations, agent runs and their approvals, the
 * policy, completions; and Mission Control, whose main agent deploys environments for workers.
 */
export function aiRoutes(app: App, services: Services): void {
  const { audit } = services;
  const tags = ['ai'];
  const { runs, providers, conversations, policies, assistant, missions } = services;
  missionRoutes(app, missions);

  // ---- Providers and model roles ----
  app.get(
    '/api/ai/providers',
    { config: { access: 'user' }, schema: { tags, response: { 200: aiProviderListSchema } } },
    async (request) => ({
      providers: await providers.list(person(request)),
    }),
  );

  app.post(
    '/api/ai/providers',
    {
      config: { access: 'user' },
      schema: { tags, body: createAiProviderBodySchema, response: { 201: aiProviderSchema } },
    },
    async (request, reply) => {
      const created = await providers.create(person(request), request.body);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'ai.provider.create',
        targetType: 'ai_provider',
        targetId: created.id,
        data: {
          name: created.name,
          kind: created.kind,
          scope: created.scope,
          baseUrl: created.baseUrl,
        },
      });
      return reply.status(201).send(created);
    },
  );

  app.patch(
    '/api/ai/providers/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        params: idParams,
        body: updateAiProviderBodySchema,
        response: { 200: aiProviderSchema },
      },
    },
    async (request) => {
      const updated = await providers.update(person(request), request.params.id, request.body);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'ai.provider.update',
        targetType: 'ai_provider',
        targetId: updated.id,
        data: { fields: Object.keys(request.body) },
      });
      return updated;
    },
  );

  app.delete(
    '/api/ai/providers/:id',
    { config: { access: 'user' }, schema: { tags, params: idParams } },
    async (request, reply) => {
      await providers.remove(person(request), request.params.id);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'ai.provider.delete',
        targetType: 'ai_provider',
        targetId: request.params.id,
      });
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/ai/providers/:id/models',
    {
      config: { access: 'user' },
      schema: { tags, params: idParams, response: { 200: aiModelListSchema } },
    },
    async (request) => {
      const provider = await providers.resolve(person(request), request.params.id);
      try {
        const models = await listModels(provider);
        return { models, source: 'endpoint' as const };
      } catch (error) {
        return {
          models: provider.models,
          source: 'configured' as const,
          error: `The endpoint did not list its models: ${(error as Error).message}`,
        };
      }
    },
  );

  app.get(
    '/api/ai/settings',
    { config: { access: 'user' }, schema: { tags, response: { 200: aiSettingsSchema } } },
    async (request) => providers.settings(person(request)),
  );

  app.put(
    '/api/ai/settings',
    {
      config: { access: 'user' },
      schema: { tags, body: updateAiSettingsBodySchema, response: { 200: aiSettingsSchema } },
    },
    async (request) => providers.updateSettings(person(request), request.body),
  );

  // ---- Policy ----
  app.get(
    '/api/ai/policy',
    { config: { access: 'user' }, schema: { tags, response: { 200: policySchema } } },
    async (request) => policies.policy(request.principal!.user.id),
  );

  app.put(
    '/api/ai/policy',
    {
      config: { access: 'user' },
      schema: { tags, body: updatePolicyBodySchema, response: { 200: policySchema } },
    },
    async (request) => {
      const policy = await policies.replace(request.principal!.user.id, request.body.rules);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'ai.policy.update',
        data: { rules: request.body.rules },
      });
      return policy;
    },
  );

  // ---- Conversations ----
  const conversation = async (request: FastifyRequest, id: string) => {
    const workspace = await workspaceOf(request);
    return {
      workspace,
      row: await conversations.get(request.principal!.user.id, workspace.id, id),
    };
  };

  app.get(
    '/api/workspaces/:name/ai/conversations',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: { tags, params: nameParams, response: { 200: conversationListSchema } },
    },
    async (request) => {
      const workspace = await workspaceOf(request);
      const rows = await conversations.list(request.principal!.user.id, workspace.id);
      return {
        conversations: await (async () => {
          const active = await runs.activeIn(rows.map((row) => row.id));
          return rows.map((row) => conversationView(row, active.get(row.id) ?? null));
        })(),
      };
    },
  );

  app.post(
    '/api/workspaces/:name/ai/conversations',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: {
        tags,
        params: nameParams,
        body: createConversationBodySchema.optional(),
        response: { 201: conversationSchema },
      },
    },
    async (request, reply) => {
      const workspace = await workspaceOf(request);
      const row = await conversations.create(
        request.principal!.user.id,
        workspace.id,
        request.body?.title ?? DEFAULT_TITLE,
      );
      return reply.status(201).send(conversationView(row, null));
    },
  );

  app.get(
    '/api/workspaces/:name/ai/conversations/:id',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: { tags, params: conversationParams, response: { 200: conversationDetailSchema } },
    },
    async (request) => {
      const { row } = await conversation(request, request.params.id);
      return {
        ...conversationView(row, (await runs.activeIn([row.id])).get(row.id) ?? null),
        messages: await conversations.messages(row.id),
      };
    },
  );

  app.patch(
    '/api/workspaces/:name/ai/conversations/:id',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: {
        tags,
        params: conversationParams,
        body: updateConversationBodySchema,
        response: { 200: conversationSchema },
      },
    },
    async (request) => {
      const { row } = await conversation(request, request.params.id);
      const renamed = await conversations.rename(row, request.body.title);
      return conversationView(renamed, (await runs.activeIn([row.id])).get(row.id) ?? null);
    },
  );

  app.delete(
    '/api/workspaces/:name/ai/conversations/:id',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: { tags, params: conversationParams },
    },
    async (request, reply) => {
      const { row } = await conversation(request, request.params.id);
      await runs.stopIn(row.id);
      await conversations.remove(row);
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/workspaces/:name/ai/conversations/:id/messages',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: {
        tags,
        params: conversationParams,
        body: sendMessageBodySchema,
        response: { 202: sendMessageResultSchema },
      },
    },
    async (request, reply) => {
      const { workspace, row } = await conversation(request, request.params.id);
      const { run, message } = await assistant.send(person(request), workspace, row, request.body);
      return reply.status(202).send({ runId: run.id, message });
    },
  );

  // ---- Mission Control's conversations with the main agent (no workspace) ----
  const mainTags = ['missions'];
  const mainConversation = (request: FastifyRequest, id: string) =>
    conversations.get(request.principal!.user.id, null, id);

  app.get(
    '/api/ai/conversations',
    {
      config: { access: 'user' },
      schema: { tags: mainTags, response: { 200: conversationListSchema } },
    },
    async (request) => {
      const rows = await conversations.list(request.principal!.user.id, null);
      return {
        conversations: await (async () => {
          const active = await runs.activeIn(rows.map((row) => row.id));
          return rows.map((row) => conversationView(row, active.get(row.id) ?? null));
        })(),
      };
    },
  );

  app.post(
    '/api/ai/conversations',
    {
      config: { access: 'user' },
      schema: {
        tags: mainTags,
        body: createConversationBodySchema.optional(),
        response: { 201: conversationSchema },
      },
    },
    async (request, reply) => {
      const row = await conversations.create(
        request.principal!.user.id,
        null,
        request.body?.title ?? DEFAULT_TITLE,
      );
      return reply.status(201).send(conversationView(row, null));
    },
  );

  app.get(
    '/api/ai/conversations/:id',
    {
      config: { access: 'user' },
      schema: {
        tags: mainTags,
        params: mainConversationParams,
        response: { 200: conversationDetailSchema },
      },
    },
    async (request) => {
      const row = await mainConversation(request, request.params.id);
      return {
        ...conversationView(row, (await runs.activeIn([row.id])).get(row.id) ?? null),
        messages: await conversations.messages(row.id),
      };
    },
  );

  app.patch(
    '/api/ai/conversations/:id',
    {
      config: { access: 'user' },
      schema: {
        tags: mainTags,
        params: mainConversationParams,
        body: updateConversationBodySchema,
        response: { 200: conversationSchema },
      },
    },
    async (request) => {
      const row = await mainConversation(request, request.params.id);
      const renamed = await conversations.rename(row, request.body.title);
      return conversationView(renamed, (await runs.activeIn([row.id])).get(row.id) ?? null);
    },
  );

  app.delete(
    '/api/ai/conversations/:id',
    { config: { access: 'user' }, schema: { tags: mainTags, params: mainConversationParams } },
    async (request, reply) => {
      const row = await mainConversation(request, request.params.id);
      await runs.stopIn(row.id);
      await conversations.remove(row);
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/ai/conversations/:id/messages',
    {
      config: { access: 'user' },
      schema: {
        tags: mainTags,
        description: 'A message for the main agent, which deploys environments for workers.',
        params: mainConversationParams,
        body: sendMessageBodySchema,
        response: { 202: sendMessageResultSchema },
      },
    },
    async (request, reply) => {
      const row = await mainConversation(request, request.params.id);
      const { run, message } = await assistant.send(person(request), null, row, request.body);
      return reply.status(202).send({ runId: run.id, message });
    },
  );

  // ---- Runs ----
  app.get(
    '/api/ai/runs/:id/events',
    {
      config: { access: 'user' },
      schema: {
        tags,
        params: runParams,
        querystring: eventsQuery,
        description:
          "Server-Sent Events: one `runEventSchema` JSON object per `data:` line, its `id` the event's seq (resume with `Last-Event-ID` or `?after=`); ends after `end`. Served by any replica.",
      },
    },
    async (request, reply) => {
      const run = await runs.get(request.principal!.user.id, request.params.id);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      });
      raw.write(': run events\n\n');
      const keepalive = setInterval(() => raw.write(': keep-alive\n\n'), KEEPALIVE_MS);
      let unsubscribe = () => {};
      const close = () => {
        clearInterval(keepalive);
        unsubscribe();
        raw.end();
      };
      // Each event's id is its seq: a browser's EventSource resumes with Last-Event-ID.
      const send = (event: RunEvent) => {
        raw.write(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);
        if (event.type === 'end') queueMicrotask(close);
      };
      const lastEventId = Number(request.headers['last-event-id']);
      const after = Number.isInteger(lastEventId)
        ? Math.max(lastEventId, request.query.after)
        : request.query.after;
      unsubscribe = runs.follow(run.id, after, send);
      // The response's close is the client going away (the request's fires once its body is read).
      raw.once('close', close);
    },
  );

  app.post(
    '/api/ai/runs/:id/approvals/:callId',
    {
      config: { access: 'user' },
      schema: { tags, params: approvalParams, body: approvalBodySchema },
    },
    async (request, reply) => {
      const run = await runs.get(request.principal!.user.id, request.params.id);
      await assistant.answer(person(request), run, request.params.callId, request.body);
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/ai/runs/:id/messages',
    {
      config: { access: 'user' },
      schema: {
        tags,
        description:
          'A message for a running agent: it reads it before its next step (shown as a `user-note` part).',
        params: runParams,
        body: runMessageBodySchema,
      },
    },
    async (request, reply) => {
      await runs.say(
        await runs.get(request.principal!.user.id, request.params.id),
        request.body.text,
      );
      return reply.status(202).send();
    },
  );

  app.post(
    '/api/ai/runs/:id/pause',
    {
      config: { access: 'user' },
      schema: {
        tags,
        description: 'The run finishes its current step, then waits for `resume` (or `stop`).',
        params: runParams,
      },
    },
    async (request, reply) => {
      await runs.pause(await runs.get(request.principal!.user.id, request.params.id));
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/ai/runs/:id/resume',
    { config: { access: 'user' }, schema: { tags, params: runParams } },
    async (request, reply) => {
      await runs.resume(await runs.get(request.principal!.user.id, request.params.id));
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/ai/runs/:id/stop',
    { config: { access: 'user' }, schema: { tags, params: runParams } },
    async (request, reply) => {
      await runs.stop((await runs.get(request.principal!.user.id, request.params.id)).id);
      return reply.status(204).send();
    },
  );

  // ---- Completions ----
  app.post(
    '/api/workspaces/:name/ai/complete',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: {
        tags,
        params: nameParams,
        body: completionBodySchema,
        response: { 200: completionResultSchema },
      },
    },
    async (request, reply) => {
      await workspaceOf(request);
      const controller = new AbortController();
      // Monaco cancels on typing by aborting the fetch: stop paying for an answer nobody reads.
      reply.raw.once('close', () => controller.abort());
      return { text: await assistant.complete(person(request), request.body, controller.signal) };
    },
  );
}
