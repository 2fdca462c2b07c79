import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ToolContext } from '../tools/tool.ts';
import { connectMcp, flattenContent, mcpToolName } from './mcp-tools.ts';

let http: Server;
let url: string;
const seenAuthorization: Array<string | undefined> = [];

/** A real MCP server (the official SDK) over Streamable HTTP, stateless. */
function mcpServer(): McpServer {
  const server = new McpServer({ name: 'weather', version: '1.0.0' });
  server.registerTool(
    'forecast',
    {
      description: 'The forecast for a city',
      inputSchema: { city: z.string() },
      annotations: { readOnlyHint: true },
    },
    async ({ city }) => ({ content: [{ type: 'text', text: `Sunny in ${city}` }] }),
  );
  server.registerTool(
    'set.alarm',
    { description: 'Sets an alarm', inputSchema: { at: z.string() } },
    async ({ at }) =>
      at === 'never'
        ? { isError: true, content: [{ type: 'text', text: 'no such time' }] }
        : { content: [{ type: 'text', text: `alarm at ${at}` }] },
  );
  return server;
}

beforeAll(async () => {
  http = createServer((request, response) => {
    seenAuthorization.push(request.headers.authorization);
    const server = mcpServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    response.on('close', () => void server.close());
    void server.connect(transport).then(() => transport.handleRequest(request, response));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
});

afterAll(async () => {
  await new Promise((resolve) => http.close(resolve));
});

const context = { signal: new AbortController().signal } as ToolContext;

describe('connectMcp over http', () => {
  it('turns the server’s tools into agent tools that call it', async () => {
    const connection = await connectMcp({
      name: 'weather',
      endpoint: { transport: 'http', url, headers: { Authorization: 'Bearer t0ken' } },
    });
    try {
      expect(seenAuthorization).toContain('Bearer t0ken');
      const [forecast, alarm] = connection.tools;
      expect(forecast).toMatchObject({ name: 'mcp__weather__forecast', kind: 'read' });
      expect(alarm).toMatchObject({ name: 'mcp__weather__set_alarm', kind: 'exec' });
      expect(forecast!.jsonSchema).toMatchObject({
        type: 'object',
        properties: { city: { type: 'string' } },
      });
      expect(forecast!.subject({ city: 'Oslo' })).toBe('forecast {"city":"Oslo"}');
      expect(await forecast!.execute({ city: 'Oslo' }, context)).toBe('Sunny in Oslo');
      expect(await alarm!.describe({ at: '7:00' }, context)).toMatchObject({
        command: '{\n  "at": "7:00"\n}',
      });
      await expect(alarm!.execute({ at: 'never' }, context)).rejects.toThrow('no such time');
    } finally {
      await connection.close();
    }
  });

  it('refuses other schemes and says why a server is unreachable', async () => {
    await expect(
      connectMcp({ name: 'x', endpoint: { transport: 'http', url: 'file:///etc/passwd' } }),
    ).rejects.toThrow('http:// or https://');
    await expect(
      connectMcp({ name: 'x', endpoint: { transport: 'stdio', command: 'x', args: [] } }),
    ).rejects.toThrow('workspace');
  });
});

describe('names and results', () => {
  it('keeps tool names in the model’s charset and length', () => {
    expect(mcpToolName('my-server', 'read file.v2')).toBe('mcp__my-server__read_file_v2');
    expect(mcpToolName('s', 'x'.repeat(100))).toHaveLength(64);
  });

  it('flattens content to text, summarising what is not text', () => {
    expect(
      flattenContent({
        content: [
          { type: 'text', text: 'one' },
          { type: 'image', data: 'AAAA', mimeType: 'image/png' },
          { type: 'resource', resource: { uri: 'file:///a.txt', text: 'inside' } },
          { type: 'resource_link', uri: 'file:///b.bin', name: 'b' },
        ],
      }),
    ).toBe(
      'one\n[image image/png, 3 bytes]\n[resource file:///a.txt]\ninside\n[resource link file:///b.bin]',
    );
    expect(flattenContent({ content: [], structuredContent: { n: 1 } })).toBe('{"n":1}');
  });
});
