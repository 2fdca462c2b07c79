// The security suite's world: the built server as a real process (local driver, as a fresh
// `npm start` picks it), an admin and two people with a workspace each, a raw HTTP client that
// sends exactly the bytes a probe needs, and the routes as the server's own OpenAPI document
// lists them — so a route added tomorrow is probed the day it lands.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { startServer, type ServerProcess } from '../e2e/server-process.ts';

export const ADMIN = { email: 'root@example.com', password: 'security-suite-admin-password' };

/** A signed-in person: their session cookie and an API token. */
export interface Person {
  id: string;
  email: string;
  password: string;
  cookie: string;
  token: string;
  /** Their workspace, running. */
  workspace: { id: string; name: string };
}

/** One operation of the API, from the OpenAPI document. */
export interface Operation {
  method: string;
  /** The router's form: `/api/workspaces/:name`. */
  route: string;
  access: 'public' | 'user' | 'admin';
  /** The role the caller needs on the workspace the route names (`x-workspace-role`). */
  workspaceRole: 'viewer' | 'editor' | 'admin' | 'owner' | undefined;
  websocket: boolean;
  /** Its body is file contents or program input, where any byte is the person's own. */
  rawText: boolean;
  params: string[];
  /** Required query parameters with sample values, as a query string (`?path=x`) or ''. */
  query: string;
  /** The JSON request body's schema, when the operation takes one. */
  body: JsonSchema | undefined;
}

/** The part of JSON Schema the body generator reads. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  minItems?: number;
  format?: string;
  pattern?: string;
  default?: unknown;
}

/** An HTTP answer as the raw client read it. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends one request with exactly this target and these headers over a fresh TCP connection
 * (no client library normalises the path), and reads the answer until the server closes.
 */
export function raw(
  server: ServerProcess,
  request: { method: string; target: string; headers?: Record<string, string>; body?: string },
): Promise<RawResponse> {
  const { port, host } = new URL(server.origin);
  const headers: Record<string, string> = {
    host: `${host}`,
    connection: 'close',
    ...request.headers,
  };
  if (request.body !== undefined)
    headers['content-length'] = String(Buffer.byteLength(request.body));
  const head = [
    `${request.method} ${request.target} HTTP/1.1`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no answer to ${request.target}`)));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [top = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = top.split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
      resolve({
        status,
        headers: Object.fromEntries(
          headerLines.map((line) => {
            const at = line.indexOf(':');
            return [line.slice(0, at).toLowerCase(), line.slice(at + 1).trim()];
          }),
        ),
        body: rest.join('\r\n\r\n'),
      });
    });
    socket.write(`${head}\r\n\r\n${request.body ?? ''}`);
  });
}

/** Same-origin JSON requests, as the web app makes them. */
export function api(server: ServerProcess, who: { cookie?: string; token?: string } = {}) {
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.origin}${path}`, {
      method,
      headers: {
        origin: server.origin,
        ...(who.cookie ? { cookie: who.cookie } : {}),
        ...(who.token ? { authorization: `Bearer ${who.token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    // The suite reads whatever fields it probes for.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, json: json as any };
  };
}

export async function signIn(server: ServerProcess, email: string, password: string) {
  const response = await fetch(`${server.origin}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.origin },
    body: JSON.stringify({ email, password }),
  });
  expect(response.status, `sign-in of ${email}`).toBe(200);
  return response.headers
    .getSetCookie()
    .map((header) => header.split(';', 1)[0])
    .join('; ');
}

async function waitForRunning(server: ServerProcess, cookie: string, name: string) {
  const call = api(server, { cookie });
  for (let i = 0; i < 600; i++) {
    const { json } = await call('GET', `/api/workspaces/${name}`);
    if (json?.status === 'running') return json as { id: string; name: string };
    if (json?.status === 'error') throw new Error(`workspace ${name}: ${json.statusReason}`);
    await sleep(100);
  }
  throw new Error(`workspace ${name} never started`);
}

/** The world every security test starts from. */
export interface World {
  server: ServerProcess;
  admin: { cookie: string };
  alice: Person;
  bob: Person;
  operations: Operation[];
  /** A real value for each path parameter, owned by `alice`. */
  aliceParams: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts the built server and sets up two people, each with a running workspace. */
export async function startWorld(env: Record<string, string> = {}): Promise<World> {
  const server = await startServer({
    STUDIO_ADMIN_EMAIL: ADMIN.email,
    STUDIO_ADMIN_PASSWORD: ADMIN.password,
    // As `npm start` runs for a team: the local driver, each workspace with its own network.
    STUDIO_RUNTIME: 'local',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const adminCookie = await signIn(server, ADMIN.email, ADMIN.password);
  const asAdmin = api(server, { cookie: adminCookie });
  const person = async (name: string): Promise<Person> => {
    const email = `${name}@example.com`;
    const password = `${name} has a long passphrase`;
    const created = await asAdmin('POST', '/api/admin/users', {
      email,
      name,
      role: 'member',
      password,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const cookie = await signIn(server, email, password);
    const call = api(server, { cookie });
    const token = await call('POST', '/api/tokens', { name: 'suite' });
    expect((await call('POST', '/api/workspaces', { name: `${name}-ws` })).status).toBe(201);
    const workspace = await waitForRunning(server, cookie, `${name}-ws`);
    return {
      id: created.json.user.id,
      email,
      password,
      cookie,
      token: token.json.secret,
      workspace: { id: workspace.id, name: workspace.name },
    };
  };
  const alice = await person('alice');
  const bob = await person('bob');

  const spec = (await asAdmin('GET', '/api/openapi.json')).json;
  const operations = operationsOf(spec);

  // Things of alice's that routes name by id.
  const asAlice = api(server, { cookie: alice.cookie });
  const tokens = (await asAlice('GET', '/api/tokens')).json as Array<{ id: string }>;
  const terminal = (await asAlice('POST', `/api/workspaces/${alice.workspace.name}/terminals`, {}))
    .json as { id: string };
  const conversation = (
    await asAlice('POST', `/api/workspaces/${alice.workspace.name}/ai/conversations`, {
      title: 'alice private',
    })
  ).json as { id: string };
  const provider = (
    await asAlice('POST', '/api/ai/providers', {
      name: 'alice provider',
      kind: 'openai-compatible',
      baseUrl: 'https://models.example.com/v1',
    })
  ).json as { id: string };
  const aliceParams: Record<string, string> = {
    name: alice.workspace.name,
    port: '8080',
    id: conversation.id,
    token: 'not-a-real-invite',
    callId: 'call_1',
    host: 'github.com',
    '*': 'index.html',
    terminal: terminal.id,
    tokenId: tokens[0]!.id,
    providerId: provider.id,
  };
  return {
    server,
    admin: { cookie: adminCookie },
    alice,
    bob,
    operations,
    aliceParams,
    stop: () => server.stop().then(() => undefined),
  };
}

/** The operations of an OpenAPI document, in the router's path form. */
export function operationsOf(spec: {
  paths: Record<string, Record<string, Record<string, unknown>>>;
}): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (method === 'parameters') continue;
      const route = path.replace(/\{\*\}/g, '*').replace(/\{([^}]+)\}/g, ':$1');
      const content = (
        operation.requestBody as { content?: Record<string, { schema: JsonSchema }> }
      )?.content;
      operations.push({
        method: method.toUpperCase(),
        route,
        access: operation['x-access'] as Operation['access'],
        workspaceRole: operation['x-workspace-role'] as Operation['workspaceRole'],
        websocket: operation['x-websocket'] === true,
        rawText: operation['x-raw-text'] === true,
        params: [...route.matchAll(/:([A-Za-z]+)|\*/g)].map((match) => match[1] ?? '*'),
        query: queryOf(operation.parameters as QueryParameter[] | undefined),
        body: content?.['application/json']?.schema,
      });
    }
  }
  return operations;
}

interface QueryParameter {
  in: string;
  name: string;
  required?: boolean;
  schema?: JsonSchema;
}

function queryOf(parameters: QueryParameter[] | undefined): string {
  const required = (parameters ?? []).filter((item) => item.in === 'query' && item.required);
  if (required.length === 0) return '';
  const values = required.map((item) => {
    const value =
      item.name === 'path' ? 'README.md' : String(sample(item.schema ?? { type: 'string' }));
    return `${encodeURIComponent(item.name)}=${encodeURIComponent(value)}`;
  });
  return `?${values.join('&')}`;
}

/** The path of `operation` with each parameter filled from `values` (ids chosen per route). */
export function fill(operation: Operation, values: Record<string, string>): string {
  return `${fillPath(operation, values)}${operation.query}`;
}

function fillPath(operation: Operation, values: Record<string, string>): string {
  return operation.route
    .replace(/:([A-Za-z]+)/g, (_, name: string) => {
      if (name === 'id') return encodeURIComponent(idFor(operation.route, values));
      return encodeURIComponent(values[name] ?? 'x');
    })
    .replace('*', values['*'] ?? 'x');
}

/** Which of alice's ids a route's `:id` names. */
function idFor(route: string, values: Record<string, string>): string {
  if (route.includes('/terminals/')) return values.terminal!;
  if (route.startsWith('/api/tokens/')) return values.tokenId!;
  if (route.startsWith('/api/ai/providers/')) return values.providerId!;
  return values.id!;
}

/** A body the operation's schema accepts, as far as a generator can tell: required fields only. */
export function sampleBody(schema: JsonSchema | undefined): unknown {
  if (!schema) return undefined;
  return sample(schema);
}

function sample(schema: JsonSchema): unknown {
  if (schema.default !== undefined) return schema.default;
  if (schema.enum?.length) return schema.enum[0];
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return sample(alternatives[0]!);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const result: Record<string, unknown> = {};
      for (const key of schema.required ?? []) result[key] = sample(schema.properties?.[key] ?? {});
      return result;
    }
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => sample(schema.items ?? {}));
    case 'integer':
    case 'number':
      return Math.max(1, schema.minimum ?? 1);
    case 'boolean':
      return false;
    case 'string':
      if (schema.format === 'email') return 'someone@example.com';
      if (schema.format === 'uri') return 'https://example.com/';
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    default:
      return {};
  }
}

/** The top-level string fields of a body schema. */
export function stringFields(schema: JsonSchema | undefined): string[] {
  if (!schema) return [];
  const object = schema.anyOf?.[0] ?? schema.oneOf?.[0] ?? schema;
  return Object.entries(object.properties ?? {})
    .filter(([, field]) => {
      const type = Array.isArray(field.type) ? field.type : [field.type];
      return type.includes('string') && !field.enum && !field.format;
    })
    .map(([name]) => name);
}
