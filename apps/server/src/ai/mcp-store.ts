import { randomUUID } from 'node:crypto';
import type { McpEndpoint } from '@studio/agent';
import { schema, type Database } from '@studio/db';
import type { createMcpServerBodySchema, McpServer, UpdateMcpServerBody } from '@studio/protocol';
import { and, asc, eq, inArray, isNotNull, or } from 'drizzle-orm';
import type { z } from 'zod';
import { Sealer } from '../crypto/sealer.ts';
import { AppError } from '../errors.ts';
import { teamNamed, teamNameOf } from '../workspaces/teams.ts';

const { aiMcpServers, teamMembers, teams } = schema;

/** Who is asking: their id and whether they manage teams' servers. */
export interface Caller {
  id: string;
  admin: boolean;
}
type McpServerRow = typeof aiMcpServers.$inferSelect;

/** A configured server ready to connect: its headers opened, in memory only. */
export interface ResolvedMcpServer {
  id: string;
  name: string;
  endpoint: McpEndpoint;
  /** A team's server, made by an admin: it may reach what admins may (the server's network). */
  team: boolean;
}

/**
 * Each person's MCP servers, and teams' (made by admins, offered to the team's people). Header
 * values (tokens) are sealed at rest, bound to the server's id, and leave this class only to
 * connect; the API sees their names.
 */
export class McpServerStore {
  private readonly sealer: Sealer;

  constructor(
    private readonly db: Database,
    serverSecret: string,
  ) {
    this.sealer = new Sealer(serverSecret, 'ai-mcp-headers/v1');
  }

  /** The caller's own servers and their teams' (every team's, to an admin). */
  async list(caller: Caller): Promise<McpServer[]> {
    const rows = await this.db
      .select({ server: aiMcpServers, team: teams.name })
      .from(aiMcpServers)
      .leftJoin(teams, eq(teams.id, aiMcpServers.teamId))
      .where(this.usableBy(caller.id, caller.admin))
      .orderBy(asc(aiMcpServers.createdAt));
    return rows.map(({ server, team }) => view(server, team));
  }

  async create(
    caller: Caller,
    body: z.output<typeof createMcpServerBodySchema>,
  ): Promise<McpServer> {
    const team = body.team === undefined ? null : await teamNamed(this.db, body.team);
    await this.refuseTakenName(team ? { teamId: team.id } : { ownerId: caller.id }, body.name);
    const id = randomUUID();
    const [row] = await this.db
      .insert(aiMcpServers)
      .values({
        id,
        ownerId: team ? null : caller.id,
        teamId: team?.id ?? null,
        name: body.name,
        transport: body.transport,
        enabled: body.enabled,
        ...(body.transport === 'stdio'
          ? { command: body.command, args: body.args }
          : { url: body.url, ...this.sealedHeaders(id, body.headers ?? null) }),
      })
      .returning();
    return view(row!, team?.name ?? null);
  }

  async update(caller: Caller, id: string, body: UpdateMcpServerBody): Promise<McpServer> {
    const row = await this.editable(caller, id);
    const stdioOnly = body.command !== undefined || body.args !== undefined;
    const httpOnly = body.url !== undefined || body.headers !== undefined;
    if ((row.transport === 'http' && stdioOnly) || (row.transport === 'stdio' && httpOnly))
      throw new AppError(
        'bad_request',
        `a ${row.transport} MCP server has ${row.transport === 'http' ? 'url and headers' : 'command and args'}; remove it and add a new one to change its transport`,
      );
    if (body.name !== undefined && body.name !== row.name)
      await this.refuseTakenName(
        row.teamId ? { teamId: row.teamId } : { ownerId: caller.id },
        body.name,
      );
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
    return view(updated!, await teamNameOf(this.db, updated!.teamId));
  }

  async remove(caller: Caller, id: string): Promise<void> {
    await this.editable(caller, id);
    await this.db.delete(aiMcpServers).where(eq(aiMcpServers.id, id));
  }

  /** One of the servers the caller may use, ready to connect. */
  async resolve(caller: Caller, id: string): Promise<ResolvedMcpServer> {
    const [row] = await this.db
      .select()
      .from(aiMcpServers)
      .where(and(eq(aiMcpServers.id, id), this.usableBy(caller.id, caller.admin)));
    // Another person's server answers exactly like a missing one.
    if (!row) throw new AppError('not_found', `no MCP server ${id}`);
    return this.resolved(row);
  }

  /** The person's enabled servers and their teams', ready to connect (for an agent run). */
  async enabled(userId: string): Promise<ResolvedMcpServer[]> {
    const rows = await this.db
      .select()
      .from(aiMcpServers)
      .where(and(this.usableBy(userId), eq(aiMcpServers.enabled, true)))
      .orderBy(asc(aiMcpServers.createdAt));
    return rows.map((row) => this.resolved(row));
  }

  /** The person's own servers and their teams' — every team's when `managing` (an admin). */
  private usableBy(userId: string, managing = false) {
    return or(
      eq(aiMcpServers.ownerId, userId),
      managing
        ? isNotNull(aiMcpServers.teamId)
        : inArray(
            aiMcpServers.teamId,
            this.db
              .select({ id: teamMembers.teamId })
              .from(teamMembers)
              .where(eq(teamMembers.userId, userId)),
          ),
    );
  }

  private resolved(row: McpServerRow): ResolvedMcpServer {
    if (row.transport === 'stdio')
      return {
        id: row.id,
        name: row.name,
        endpoint: { transport: 'stdio', command: row.command ?? '', args: row.args },
        team: row.teamId !== null,
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
      team: row.teamId !== null,
    };
  }

  private sealedHeaders(id: string, headers: Record<string, string> | null) {
    if (!headers || Object.keys(headers).length === 0) return { headers: null, headerNames: [] };
    return {
      headers: this.sealer.seal(JSON.stringify(headers), id),
      headerNames: Object.keys(headers),
    };
  }

  /** A server the caller may change: their own, or (an admin) a team's. */
  private async editable(caller: Caller, id: string): Promise<McpServerRow> {
    const [row] = await this.db
      .select()
      .from(aiMcpServers)
      .where(and(eq(aiMcpServers.id, id), this.usableBy(caller.id, caller.admin)));
    if (row && row.ownerId !== caller.id && !caller.admin)
      throw new AppError('forbidden', 'only admins change a team’s MCP servers');
    // Another person's server answers exactly like a missing one.
    if (!row) throw new AppError('not_found', `no MCP server ${id}`);
    return row;
  }

  private async refuseTakenName(
    whose: { ownerId: string } | { teamId: string },
    name: string,
  ): Promise<void> {
    const [taken] = await this.db
      .select({ id: aiMcpServers.id })
      .from(aiMcpServers)
      .where(
        and(
          'teamId' in whose
            ? eq(aiMcpServers.teamId, whose.teamId)
            : eq(aiMcpServers.ownerId, whose.ownerId),
          eq(aiMcpServers.name, name),
        ),
      );
    if (taken)
      throw new AppError(
        'conflict',
        'teamId' in whose
          ? `the team already has an MCP server named ${name}`
          : `you already have an MCP server named ${name}`,
      );
  }
}

function view(row: McpServerRow, team: string | null): McpServer {
  return {
    id: row.id,
    name: row.name,
    team,
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
