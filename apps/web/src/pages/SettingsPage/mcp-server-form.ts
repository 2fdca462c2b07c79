// The pure parts of Settings → AI → MCP servers: the add form to a request body, and error placement.
import type { CreateMcpServerBody, McpTransport } from '@studio/protocol';
import { hasCode } from '../../api/http.ts';

/** What the add-server form holds; `args` and `headers` are typed one per line. */
export interface McpServerForm {
  name: string;
  transport: McpTransport;
  command: string;
  args: string;
  url: string;
  headers: string;
  /** A team's name for a team's server (admins choose); blank for one's own. */
  team: string;
}

/** An empty add-server form. */
export const EMPTY_MCP_SERVER_FORM: McpServerForm = {
  name: '',
  transport: 'stdio',
  command: '',
  args: '',
  url: '',
  headers: '',
  team: '',
};

const FIELDS = ['name', 'transport', 'command', 'args', 'url', 'headers', 'team'] as const;
/** A field of the add form that an error can point at. */
export type McpServerField = (typeof FIELDS)[number];

/** Field messages, or one message over the form. */
export interface McpServerErrors {
  fields: Partial<Record<McpServerField, string>>;
  general: string | null;
}

/**
 * Arguments, one per line: a line is one argument as typed, spaces included (a path with a space
 * needs no quoting), so only blank lines are dropped.
 */
export function parseArgs(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '');
}

/** `Name: value` lines as a record; the lines that are not headers come back as an error. */
export function parseHeaders(text: string): { headers: Record<string, string>; error?: string } {
  const headers: Record<string, string> = {};
  const bad: number[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!name) bad.push(index + 1);
    else headers[name] = line.slice(colon + 1).trim();
  });
  if (bad.length === 0) return { headers };
  return {
    headers,
    error: `Line ${bad.join(', ')}: write each header as Name: value, one per line.`,
  };
}

/** The `POST /api/ai/mcp-servers` body, or the errors found before sending it. */
export function createMcpServerBody(
  form: McpServerForm,
): { body: CreateMcpServerBody } | { errors: McpServerErrors } {
  const name = form.name.trim();
  const team = form.team ? { team: form.team } : {};
  if (form.transport === 'stdio') {
    return {
      body: {
        name,
        transport: 'stdio',
        command: form.command.trim(),
        args: parseArgs(form.args),
        ...team,
      },
    };
  }
  const { headers, error } = parseHeaders(form.headers);
  if (error) return { errors: { fields: { headers: error }, general: null } };
  return {
    body: {
      name,
      transport: 'http',
      url: form.url.trim(),
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      ...team,
    },
  };
}

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Where to show a failed save: a `bad_request` issue under the field its path names
 * (`body.headers.X-Api-Key` belongs to "Headers"), a taken name (409) under "Name", anything
 * else as one message over the form.
 */
export function mcpServerErrors(error: unknown): McpServerErrors {
  if (!error) return { fields: {}, general: null };
  if (hasCode(error, 'conflict')) return { fields: { name: error.message }, general: null };
  const fields: Partial<Record<McpServerField, string>> = {};
  if (hasCode(error, 'bad_request')) {
    const issues = Array.isArray(error.detail) ? (error.detail as unknown[]) : [];
    for (const issue of issues) {
      if (typeof issue !== 'object' || issue === null) continue;
      const { path, message } = issue as { path?: unknown; message?: unknown };
      if (typeof message !== 'string') continue;
      // The segment after `body` names the field; later ones are header names, which hold dots.
      const segments = String(path ?? '').split('.');
      const field = FIELDS.find((name) => name === segments[segments[0] === 'body' ? 1 : 0]);
      if (field && !fields[field]) fields[field] = sentence(message);
    }
  }
  if (Object.keys(fields).length > 0) return { fields, general: null };
  return { fields, general: error instanceof Error ? error.message : 'The change failed.' };
}
