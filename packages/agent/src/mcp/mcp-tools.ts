import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { ToolError, capText, type AgentTool, type ToolDaemon } from '../tools/tool.ts';
import { DaemonStdioTransport } from './daemon-stdio-transport.ts';

/** Where an MCP server is: a program in the workspace (through its daemon), or an HTTP endpoint. */
export type McpEndpoint =
  | { transport: 'stdio'; command: string; args: string[]; env?: Record<string, string> }
  | { transport: 'http'; url: string; headers?: Record<string, string> };

/** A connected MCP server and its tools as agent tools; `close` ends the session (and its program). */
export interface McpConnection {
  server: string;
  tools: AgentTool[];
  /** The server's tools as it listed them. */
  listed: Tool[];
  close(): Promise<void>;
}

export interface ConnectMcpOptions {
  /** The configured server's name (a slug); it prefixes every tool name. */
  name: string;
  endpoint: McpEndpoint;
  /** Needed for stdio servers: they run in the workspace. */
  daemon?: ToolDaemon;
  /** Gives up connecting (and closes what started) when it aborts. */
  signal?: AbortSignal;
  /** The server's stderr, for the log. */
  onStderr?(text: string): void;
}

/** Longest a single tool call may wait for its result (the run's own caps still apply). */
const CALL_TIMEOUT_MS = 10 * 60_000;
/** The model's tool names: OpenAI and Anthropic both allow `[a-zA-Z0-9_-]{1,64}`. */
const MAX_TOOL_NAME = 64;

/** `mcp__<server>__<tool>` in the model's allowed characters and length. */
export function mcpToolName(server: string, tool: string): string {
  const clean = (text: string) => text.replace(/[^a-zA-Z0-9_-]/g, '_');
  return `mcp__${clean(server)}__${clean(tool)}`.slice(0, MAX_TOOL_NAME);
}

/**
 * Connects to one MCP server, lists its tools and wraps each as an agent tool. Tools run with the
 * caller's permission policy like the built-in ones: only those the server marks read-only count
 * as reads; everything else is `exec`, so by default the person is asked first.
 */
export async function connectMcp(options: ConnectMcpOptions): Promise<McpConnection> {
  const transport = transportFor(options);
  const client = new Client({ name: 'prometheus-studio', version: '0.1.0' });
  const close = async () => {
    // Closing the client closes the transport, which ends a stdio server's process.
    await client.close().catch(() => undefined);
    await transport.close().catch(() => undefined);
  };
  try {
    options.signal?.throwIfAborted();
    await client.connect(transport, { ...(options.signal ? { signal: options.signal } : {}) });
    const listed: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, {
        ...(options.signal ? { signal: options.signal } : {}),
      });
      listed.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor && listed.length < 1000);
    // Two tools that clean up to the same name would shadow each other; keep the first.
    const byName = new Map<string, AgentTool>();
    for (const tool of listed) {
      const agentTool = agentToolFor(client, options.name, tool);
      if (!byName.has(agentTool.name)) byName.set(agentTool.name, agentTool);
    }
    const tools = [...byName.values()];
    return { server: options.name, tools, listed, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function transportFor(options: ConnectMcpOptions): Transport {
  const { endpoint } = options;
  if (endpoint.transport === 'stdio') {
    if (!options.daemon) throw new ToolError('a stdio MCP server needs a workspace to run in');
    return new DaemonStdioTransport(
      options.daemon,
      {
        command: endpoint.command,
        args: endpoint.args,
        ...(endpoint.env ? { env: endpoint.env } : {}),
      },
      options.onStderr,
    );
  }
  const url = new URL(endpoint.url);
  // A configured endpoint may well be internal; only other schemes (file:, data:) are refused.
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ToolError(`an MCP server URL must be http:// or https://, not ${url.protocol}`);
  return new StreamableHTTPClientTransport(url, {
    requestInit: { headers: { ...endpoint.headers } },
  });
}

/** Arguments as the model sent them; the MCP server validates them against its own schema. */
const argumentsSchema = z.record(z.string(), z.unknown());
type Arguments = z.infer<typeof argumentsSchema>;

function agentToolFor(client: Client, server: string, tool: Tool): AgentTool {
  const name = mcpToolName(server, tool.name);
  const compact = (input: Arguments) => JSON.stringify(input ?? {});
  const mcpTool: AgentTool<Arguments> = {
    name,
    description: capText(
      tool.description?.trim() || tool.title || `${tool.name} from the MCP server ${server}`,
      4000,
    ),
    kind: tool.annotations?.readOnlyHint === true ? 'read' : 'exec',
    inputSchema: argumentsSchema,
    jsonSchema: { ...tool.inputSchema, type: 'object' },
    subject: (input) => `${tool.name} ${compact(input)}`,
    describe: async (input) => ({
      summary: `${name}: ${tool.name} on the MCP server ${server}`,
      command: JSON.stringify(input ?? {}, null, 2),
    }),
    execute: async (input, context) => {
      const result = (await client.callTool(
        { name: tool.name, arguments: input ?? {} },
        undefined,
        {
          signal: context.signal,
          timeout: CALL_TIMEOUT_MS,
          resetTimeoutOnProgress: true,
        },
      )) as CallToolResult;
      const text = capText(flattenContent(result));
      if (result.isError) throw new ToolError(text || `${tool.name} failed`);
      return text || '(no output)';
    },
  };
  return mcpTool as AgentTool;
}

/** An MCP tool result as text for the model: text parts joined, other parts named and summarised. */
export function flattenContent(result: CallToolResult): string {
  const parts = (result.content ?? []).map((part) => {
    switch (part.type) {
      case 'text':
        return part.text;
      case 'image':
      case 'audio':
        return `[${part.type} ${part.mimeType}, ${Math.round((part.data.length * 3) / 4)} bytes]`;
      case 'resource':
        return 'text' in part.resource
          ? `[resource ${part.resource.uri}]\n${part.resource.text}`
          : `[resource ${part.resource.uri}, ${part.resource.mimeType ?? 'binary'}]`;
      case 'resource_link':
        return `[resource link ${part.uri}${part.description ? `: ${part.description}` : ''}]`;
      default:
        return `[${(part as { type: string }).type}]`;
    }
  });
  if (parts.length === 0 && result.structuredContent !== undefined)
    return JSON.stringify(result.structuredContent);
  return parts.join('\n');
}
