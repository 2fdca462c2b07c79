import { connectMcp, mcpToolName } from '@studio/agent';
import {
  createMcpServerBodySchema,
  mcpServerListSchema,
  mcpServerSchema,
  mcpToolListSchema,
  mcpToolsQuerySchema,
  updateMcpServerBodySchema,
} from '@studio/protocol';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { refuseServerNetwork } from '../net/server-network.ts';
import { MCP_CONNECT_TIMEOUT_MS } from '../ai/mcp-tools.ts';
import { workspaceMcpServer } from '../ai/workspace-mcp.ts';
import type { App, Services } from '../app.ts';
import { AppError } from '../errors.ts';
import { workspaceOf } from '../http/access.ts';

const idParams = z.object({ id: z.string().max(100) });

/** Who asks, as the server store needs it. */
function callerOf(request: FastifyRequest) {
  return { id: request.principal!.user.id, admin: request.principal!.user.role === 'admin' };
}
const nameParams = z.object({ name: z.string().max(64) });

/**
 * Model Context Protocol, both ways: the person's MCP servers (offered to agent runs as tools),
 * and each workspace as an MCP server for outside clients (`/api/workspaces/:name/mcp`).
 */
export function mcpRoutes(app: App, services: Services): void {
  const { config, workspaces, audit, policies, mcpServers: servers } = services;
  const tags = ['ai'];

  app.get(
    '/api/ai/mcp-servers',
    { config: { access: 'user' }, schema: { tags, response: { 200: mcpServerListSchema } } },
    async (request) => ({ servers: await servers.list(callerOf(request)) }),
  );

  app.post(
    '/api/ai/mcp-servers',
    {
      config: { access: 'user' },
      schema: { tags, body: createMcpServerBodySchema, response: { 201: mcpServerSchema } },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      if (request.body.team !== undefined && !caller.admin)
        throw new AppError('forbidden', 'only admins add MCP servers for a team');
      if (request.body.transport === 'http')
        await refuseServerNetwork(caller, request.body.url, 'url');
      const created = await servers.create(caller, request.body);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'ai.mcp_server.create',
        targetType: 'ai_mcp_server',
        targetId: created.id,
        data: {
          name: created.name,
          team: created.team,
          transport: created.transport,
          command: created.command,
          args: created.args,
          url: created.url,
          headerNames: created.headerNames,
        },
      });
      return reply.status(201).send(created);
    },
  );

  app.patch(
    '/api/ai/mcp-servers/:id',
    {
      config: { access: 'user' },
      schema: {
        tags,
        params: idParams,
        body: updateMcpServerBodySchema,
        response: { 200: mcpServerSchema },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      if (request.body.url) await refuseServerNetwork(caller, request.body.url, 'url');
      const updated = await servers.update(caller, request.params.id, request.body);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'ai.mcp_server.update',
        targetType: 'ai_mcp_server',
        targetId: updated.id,
        data: { name: updated.name, fields: Object.keys(request.body) },
      });
      return updated;
    },
  );

  app.delete(
    '/api/ai/mcp-servers/:id',
    { config: { access: 'user' }, schema: { tags, params: idParams } },
    async (request, reply) => {
      await servers.remove(callerOf(request), request.params.id);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'ai.mcp_server.delete',
        targetType: 'ai_mcp_server',
        targetId: request.params.id,
      });
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/ai/mcp-servers/:id/tools',
    {
      config: { access: 'user' },
      schema: {
        tags,
        params: idParams,
        querystring: mcpToolsQuerySchema,
        response: { 200: mcpToolListSchema },
      },
    },
    async (request) => {
      const userId = request.principal!.user.id;
      const server = await servers.resolve(callerOf(request), request.params.id);
      // A team's server was made by an admin, who may point it at the server's own network.
      if (server.endpoint.transport === 'http' && !server.team)
        await refuseServerNetwork(
          { admin: request.principal!.user.role === 'admin' },
          server.endpoint.url,
          'url',
        );
      const workspaceName = request.query.workspace;
      if (server.endpoint.transport === 'stdio' && !workspaceName)
        throw new AppError(
          'bad_request',
          'workspace: a stdio MCP server runs inside a workspace; name one with ?workspace=',
        );
      const daemon = workspaceName
        ? await workspaces.connect(await workspaces.get(userId, workspaceName))
        : undefined;
      try {
        const connection = await connectMcp({
          name: server.name,
          endpoint: server.endpoint,
          ...(daemon ? { daemon } : {}),
          signal: AbortSignal.timeout(MCP_CONNECT_TIMEOUT_MS),
        });
        await connection.close();
        return {
          tools: connection.listed.map((tool) => ({
            name: tool.name,
            agentName: mcpToolName(server.name, tool.name),
            description: tool.description ?? '',
            readOnly: tool.annotations?.readOnlyHint === true,
          })),
        };
      } catch (error) {
        return {
          tools: [],
          error: `The MCP server ${server.name} did not answer: ${(error as Error).message}`,
        };
      }
    },
  );

  // Each workspace as an MCP server (Streamable HTTP, stateless: one server and transport per
  // request, so any replica can answer any request). Authenticated like every /api route.
  app.route({
    config: { access: 'user', workspace: 'editor' },
    method: ['GET', 'POST', 'DELETE'],
    url: '/api/workspaces/:name/mcp',
    schema: { tags, params: nameParams },
    handler: async (request, reply) => {
      const principal = request.principal!;
      const workspace = await workspaceOf(request);
      const server = workspaceMcpServer({
        person: principal.user,
        ...(principal.tokenId ? { tokenId: principal.tokenId } : {}),
        workspace,
        rules: await policies.rules(principal.user.id),
        connect: () => workspaces.connect(workspace),
        audit,
        secrets: [config.secret],
      });
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      reply.hijack();
      reply.raw.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    },
  });
}
