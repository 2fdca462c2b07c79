// Model Context Protocol servers a person adds as agent tools, and what the API shows of them.
// Header values (an Authorization token) are sealed at rest and never come back: only their names.
import { z } from 'zod';
import { oneLine } from './text.ts';

/** A server's name: part of every tool name the model sees (`mcp__<name>__<tool>`). */
export const mcpServerNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9-]+$/, 'use lowercase letters, digits and "-"');

/** How the server is reached: a program run inside the workspace, or an HTTP endpoint. */
export const mcpTransportSchema = z.enum(['stdio', 'http']);
export type McpTransport = z.infer<typeof mcpTransportSchema>;

const commandSchema = z.string().trim().min(1).max(4096);
const argsSchema = z.array(z.string().max(8192)).max(200);
const urlSchema = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .max(2000);
const headerName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'not a valid HTTP header name');
const headersSchema = z
  .record(headerName, z.string().max(8192))
  .refine((headers) => Object.keys(headers).length <= 20, 'at most 20 headers');

/** A configured server as the API shows it: header names, never their values. */
export const mcpServerSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** A team's server (admins make and change it; its people's agent runs get its tools). */
  team: z.string().nullable(),
  transport: mcpTransportSchema,
  /** stdio: the program and its arguments, run in the workspace. */
  command: z.string().nullable(),
  args: z.array(z.string()),
  /** http: the endpoint. */
  url: z.string().nullable(),
  hasHeaders: z.boolean(),
  headerNames: z.array(z.string()),
  enabled: z.boolean(),
  createdAt: z.string(),
});
export type McpServer = z.infer<typeof mcpServerSchema>;

export const mcpServerListSchema = z.object({ servers: z.array(mcpServerSchema) });

/** The team that owns a new server (admins only); absent, it is the caller's own. */
const teamNameSchema = oneLine(1, 64);

/** `POST /api/ai/mcp-servers`. */
export const createMcpServerBodySchema = z.discriminatedUnion('transport', [
  z.strictObject({
    name: mcpServerNameSchema,
    transport: z.literal('stdio'),
    command: commandSchema,
    args: argsSchema.default([]),
    enabled: z.boolean().default(true),
    team: teamNameSchema.optional(),
  }),
  z.strictObject({
    name: mcpServerNameSchema,
    transport: z.literal('http'),
    url: urlSchema,
    /** Sent with every request (e.g. `Authorization`); sealed at rest, never shown again. */
    headers: headersSchema.optional(),
    enabled: z.boolean().default(true),
    team: teamNameSchema.optional(),
  }),
]);
export type CreateMcpServerBody = z.input<typeof createMcpServerBodySchema>;

/** `PATCH /api/ai/mcp-servers/:id`: absent fields are kept; fields of the other transport are refused. */
export const updateMcpServerBodySchema = z.strictObject({
  name: mcpServerNameSchema.optional(),
  enabled: z.boolean().optional(),
  command: commandSchema.optional(),
  args: argsSchema.optional(),
  url: urlSchema.optional(),
  /** New headers replace the old ones; `null` removes them. */
  headers: headersSchema.nullable().optional(),
});
export type UpdateMcpServerBody = z.input<typeof updateMcpServerBodySchema>;

/** One tool a server offers, as the agent will see it. */
export const mcpToolSchema = z.object({
  /** The server's own name for it. */
  name: z.string(),
  /** The name the model calls (`mcp__<server>__<tool>`) and policy rules match. */
  agentName: z.string(),
  description: z.string(),
  /** Runs without asking by default (the server marks it read-only); otherwise it asks. */
  readOnly: z.boolean(),
});
export type McpTool = z.infer<typeof mcpToolSchema>;

/** `GET /api/ai/mcp-servers/:id/tools`: the tools, or why the server could not be reached. */
export const mcpToolListSchema = z.object({
  tools: z.array(mcpToolSchema),
  error: z.string().optional(),
});
export type McpToolList = z.infer<typeof mcpToolListSchema>;

export const mcpToolsQuerySchema = z.object({
  /** The workspace a stdio server runs in; http servers need none. */
  workspace: z.string().max(64).optional(),
});
