import {
  mcpServerListSchema,
  mcpServerSchema,
  mcpToolListSchema,
  type CreateMcpServerBody,
  type UpdateMcpServerBody,
} from '@studio/protocol';
import { queryOptions } from '@tanstack/react-query';
import { requestJson, requestVoid } from './http.ts';
import { queryKeys } from './query-keys.ts';

function serverPath(id: string, rest = ''): string {
  return `/api/ai/mcp-servers/${encodeURIComponent(id)}${rest}`;
}

/** `GET /api/ai/mcp-servers`: the person's MCP servers (header names only, never their values). */
export function mcpServersQueryOptions() {
  return queryOptions({
    queryKey: queryKeys.mcpServers(),
    queryFn: async () =>
      (await requestJson('GET', '/api/ai/mcp-servers', mcpServerListSchema)).servers,
  });
}

/** `POST /api/ai/mcp-servers`: 409 `conflict` when the name is taken. */
export function createMcpServer(body: CreateMcpServerBody) {
  return requestJson('POST', '/api/ai/mcp-servers', mcpServerSchema, body);
}

/** `PATCH /api/ai/mcp-servers/:id`: absent fields are kept. */
export function updateMcpServer(id: string, body: UpdateMcpServerBody) {
  return requestJson('PATCH', serverPath(id), mcpServerSchema, body);
}

/** `DELETE /api/ai/mcp-servers/:id`. */
export function deleteMcpServer(id: string): Promise<void> {
  return requestVoid('DELETE', serverPath(id));
}

/**
 * `GET /api/ai/mcp-servers/:id/tools`: what the server offers, or `error` when it did not answer.
 * A stdio server runs inside `workspace`; an http one needs none.
 */
export function mcpToolsQueryOptions(id: string, workspace: string | null) {
  const query = workspace ? `?workspace=${encodeURIComponent(workspace)}` : '';
  return queryOptions({
    queryKey: queryKeys.mcpTools(id, workspace ?? ''),
    queryFn: () => requestJson('GET', serverPath(id, `/tools${query}`), mcpToolListSchema),
    // Each ask starts the server (a program in the workspace, or a call over the network).
    staleTime: 30_000,
    retry: false,
  });
}
