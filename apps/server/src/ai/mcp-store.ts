import { randomUUID } from 'node:crypto';
import type { McpEndpoint } from '@studio/agent';
import { schema, type Database } from '@studio/db';
import type { createMcpServerBodySchema, McpServer, UpdateMcpServerBody } from '@studio/protocol';
import { and, asc, eq } from 'drizzle-orm';
import type { z } from 'zod';
import { Sealer } from '../crypto/sealer.ts';
import { AppError } from '../errors.ts';

const { aiMcpServers } = schema;
type McpServerRow = typeof aiMcpServers.$inferSelect;

/** A configured server ready to connect: its headers opened, in memory only. */
export interface ResolvedMcpServer {
  id: string;
  name: string;
  endpoint: McpEndpoint;
}

/**
 * Each person's MCP servers. Header values (tokens) are sealed at rest, bound to the server's id,
 * and leave this class only to connect; the API sees their names.
 */
export class McpServerStore {
  private readonly sealer: Sealer;

  constructor(
    private readonly db: Database,
    serverSecret: string,
  ) {
    this.sealer = new Sealer(serverSecret, 'ai-mcp-headers/v1');
  }

  async list(userId: string): Promise<McpServer[]> {
    const rows = await this.db
      .select()
      .from(aiMcpServers)
      .where(eq(aiMcpServers.ownerId, userId))
      .orderBy(asc(aiMcpServers.createdAt));
    return rows.map(view);
  }

  async create(
    userId: string,
    body: z.output<typeof createMcpServerBodySchema>,
  ): Promise<McpServer> {
    await this.refuseTakenName(userId, body.name);
    const id = randomUUID();
    const [row] = await this.db
      .insert(aiMcpServers)
      .values({
        id,
        ownerId: userId,
        name: body.name,
        transport: body.transport,
        enabled: body.enabled,
        ...(body.transport === 'stdio'
          ? { command: body.command, args: body.args }
          : { url: body.url, ...this.sealedHeaders(id, body.headers ?? null) }),
      })
      .returning();
    return view(row!);
  }

  async update(userId: string, id: string, body: UpdateMcpServerBody): Promise<McpServer> {
    const row = await this.owned(userId, id);
    const stdioOnly = body.command !== undefined || body.args !== undefined;
    const httpOnly = body.url !== undefined || body.headers !== undefined;
    if ((row.transport === 'http' && stdioOnly) || (row.transport === 'stdio' && httpOnly))
      throw new AppError(
        'bad_request',
        `a ${row.transport} MCP server has ${row.transport === 'http' ? 'url and headers' : 'command and args'}; remove it and add a new one to change its transport`,
      );
    if (body.name !== undefined && body.name !== row.name)
      await this.refuseTakenName(userId, body.name);
    const [updated] = await this.db
      .update(aiMcpServers)
      .set({
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
        ...(body.command !== undefined ? { command: body.command } : {}),
        ...(body.args !== undefined ? { args: body.args } : {}),
        ...(body.url !== undefined ? { url: body.url } : {}),
        ...(body.headers !== undefined ? this.sealedHeaders(id, body.headers) : {}),
      })
      .where(eq(aiMcpServers.id, id))
      .returning();
    return view(updated!);
  }

  async remove(userId: string, id: string): Promise<void> {
    await this.owned(userId, id);
    await this.db.delete(aiMcpServers).where(eq(aiMcpServers.id, id));
  }

  /** One of the person's servers, ready to connect. */
  async resolve(userId: string, id: string): Promise<ResolvedMcpServer> {
    return this.resolved(await this.owned(userId, id));
  }

  /** The person's enabled servers, ready to connect (for an agent run). */
  async enabled(userId: string): Promise<ResolvedMcpServer[]> {
    const rows = await this.db
      .select()
      .from(aiMcpServers)
      .where(and(eq(aiMcpServers.ownerId, userId), eq(aiMcpServers.enabled, true)))
      .orderBy(asc(aiMcpServers.createdAt));
    return rows.map((row) => this.resolved(row));
  }

  private resolved(row: McpServerRow): ResolvedMcpServer {
    if (row.transport === 'stdio')
      return {
        id: row.id,
        name: row.name,
        endpoint: { transport: 'stdio', command: row.command ?? '', args: row.args },
      };
    let headers: Record<string, string> = {};
    if (row.headers) {
      const opened = this.sealer.open(row.headers, row.id);
      if (opened === null)
        throw new AppError(
          'bad_request',
          `the headers of the MCP server ${row.name} no longer open (the server's secret changed); enter them again`,
        );
      headers = JSON.parse(opened) as Record<string, string>;
    }
    return {
      id: row.id,
      name: row.name,
      endpoint: { transport: 'http', url: row.url ?? '', headers },
    };
  }

  private sealedHeaders(id: string, headers: Record<string, string> | null) {
    if (!headers || Object.keys(headers).length === 0) return { headers: null, headerNames: [] };
    return {
      headers: this.sealer.seal(JSON.stringify(headers), id),
      headerNames: Object.keys(headers),
    };
  }

  private async owned(userId: string, id: string): Promise<McpServerRow> {
    const [row] = await this.db.select().from(aiMcpServers).where(eq(aiMcpServers.id, id));
    // Another person's server answers exactly like a missing one.
    if (!row || row.ownerId !== userId) throw new AppError('not_found', `no MCP server ${id}`);
    return row;
  }

  private async refuseTakenName(userId: string, name: string): Promise<void> {
    const [taken] = await this.db
      .select({ id: aiMcpServers.id })
      .from(aiMcpServers)
      .where(and(eq(aiMcpServers.ownerId, userId), eq(aiMcpServers.name, name)));
    if (taken) throw new AppError('conflict', `you already have an MCP server named ${name}`);
  }
}

function view(row: McpServerRow): McpServer {
  return {
    id: row.id,
    name: row.name,
    transport: row.transport,
    command: row.command,
    args: row.args,
    url: row.url,
    hasHeaders: row.headers !== null,
    headerNames: row.headerNames,
    enabled: row.enabled,
    createdAt: row.createdAt.toISOString(),
  };
}
