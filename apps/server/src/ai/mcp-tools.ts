import { connectMcp, type AgentTool, type McpConnection, type ToolDaemon } from '@studio/agent';
import type { schema } from '@studio/db';
import type { FastifyBaseLogger } from 'fastify';
import { refuseServerNetwork } from '../net/server-network.ts';
import type { Person, ToolSource } from './assistant.ts';
import type { McpServerStore, ResolvedMcpServer } from './mcp-store.ts';

type WorkspaceRow = typeof schema.workspaces.$inferSelect;

/** How long one server gets to start and list its tools before the run goes on without it. */
export const MCP_CONNECT_TIMEOUT_MS = 10_000;

/**
 * The person's enabled MCP servers as tools for one agent run: all connected at once, each with
 * its own time limit; one that fails is left out and logged, never the reason a run fails.
 * Stdio servers run inside the workspace through its daemon.
 */
export class McpToolSource implements ToolSource {
  constructor(
    private readonly servers: McpServerStore,
    private readonly logger: FastifyBaseLogger,
    private readonly connectTimeoutMs = MCP_CONNECT_TIMEOUT_MS,
  ) {}

  async toolsFor(
    person: Person,
    workspace: WorkspaceRow,
    daemon: ToolDaemon,
    signal: AbortSignal,
  ): Promise<{ tools: AgentTool[]; close(): Promise<void> }> {
    let servers: ResolvedMcpServer[];
    try {
      servers = await this.servers.enabled(person.id);
    } catch (error) {
      this.logger.warn({ err: error, userId: person.id }, 'could not read the MCP servers');
      servers = [];
    }
    const settled = await Promise.allSettled(
      servers.map(async (server) => {
        // A team's server was made by an admin, who may point it at the server's own network.
        if (server.endpoint.transport === 'http' && !server.team)
          await refuseServerNetwork(person, server.endpoint.url, 'url');
        return this.connect(server, workspace, daemon, signal);
      }),
    );
    const connections: McpConnection[] = [];
    settled.forEach((result, index) => {
      const server = servers[index]!;
      if (result.status === 'fulfilled') connections.push(result.value);
      else
        this.logger.warn(
          { err: result.reason, mcpServer: server.name, workspace: workspace.name },
          `MCP server ${server.name} did not start; the run goes on without its tools`,
        );
    });
    return {
      tools: connections.flatMap((connection) => connection.tools),
      close: async () => {
        await Promise.all(connections.map((connection) => connection.close()));
      },
    };
  }

  private connect(
    server: ResolvedMcpServer,
    workspace: WorkspaceRow,
    daemon: ToolDaemon,
    signal: AbortSignal,
  ): Promise<McpConnection> {
    return connectMcp({
      name: server.name,
      endpoint: server.endpoint,
      daemon,
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.connectTimeoutMs)]),
      onStderr: (text) =>
        this.logger.debug(
          { mcpServer: server.name, workspace: workspace.name, stderr: text.slice(0, 2000) },
          'MCP server stderr',
        ),
    });
  }
}
