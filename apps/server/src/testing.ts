// Test harness: a real app on a real database (PGlite in a temp dir, or PostgreSQL), listening on a free port.
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '@studio/db';
import { workspaceSchema, type Workspace } from '@studio/protocol';
import { LocalRuntime, localNetworkAvailable, type LocalRuntimeOptions } from '@studio/runtime';
import WebSocket from 'ws';
import { createApp, type App, type Services } from './app.ts';
import { RateLimiter } from './auth/rate-limiter.ts';
import { loadConfig } from './config.ts';

/** A running test server. */
export interface TestServer {
  app: App;
  services: Services;
  origin: string;
  close(): Promise<void>;
}

/** Starts the whole server in-process; `env` adds configuration variables. */
export async function startTestServer(
  env: Record<string, string> = {},
  options: {
    runtime?: Partial<LocalRuntimeOptions>;
    /**
     * A data dir shared with another test server (replicas on one PostgreSQL reach the same
     * local workspaces); the caller removes it, and closing leaves its workspaces running.
     */
    dataDir?: string;
    runLeaseMs?: number;
  } = {},
): Promise<TestServer> {
  const shared = options.dataDir !== undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'studio-server-')));
  const config = await loadConfig({
    STUDIO_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    PORT: '3000',
    ...env,
  });
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  // Local workspaces run as an unprivileged user, who must pass through the data dir to its own.
  await chmod(dataDir, 0o711);
  const runtime = await LocalRuntime.open({
    dir: join(dataDir, 'workspaces'),
    runtimeDir: fileURLToPath(new URL('../../../packages/daemon/dist/runtime', import.meta.url)),
    // As the server runs them for several people: each workspace with its own network.
    network: localNetworkAvailable() ? 'isolated' : 'host',
    ...options.runtime,
  });
  const { app, services } = await createApp({
    config,
    database,
    runtime,
    templatesDir: fileURLToPath(new URL('../../../images/templates', import.meta.url)),
    socketRecheckMs: 200,
    ...(options.runLeaseMs ? { runLeaseMs: options.runLeaseMs } : {}),
  });
  await services.workspaces.startBackground();
  // Every test signs in from 127.0.0.1; the per-IP limit would otherwise trip across tests.
  services.limits.ip = new RateLimiter(database.db, 'ip', 100_000, 60_000);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const origin = `http://127.0.0.1:${port}`;
  return {
    app,
    services,
    origin,
    close: async () => {
      await app.close();
      // Local workspaces outlive the server on purpose; a test's must not outlive the test.
      if (!shared) for (const workspace of await runtime.list()) await runtime.remove(workspace.id);
      await runtime.close();
      await database.close();
      if (!shared) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates a user directly (not through the API) and signs them in; returns their session cookie. */
export async function signedInUser(
  server: TestServer,
  input: { email: string; role?: 'admin' | 'member'; password?: string },
): Promise<{ id: string; cookie: string; password: string }> {
  const password = input.password ?? 'a long enough password';
  const user = await server.services.users.create({
    email: input.email,
    name: input.email.split('@')[0]!,
    role: input.role ?? 'member',
    password,
  });
  return { id: user.id, cookie: await signIn(server, input.email, password), password };
}

/** Signs in through the API and returns the `name=value` cookie pair. */
export async function signIn(server: TestServer, email: string, password: string): Promise<string> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/session',
    headers: sameOrigin(server),
    payload: { email, password },
  });
  if (response.statusCode !== 200)
    throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`);
  return cookiePair(response.headers['set-cookie']);
}

/** The `name=value` part of the session cookie from Set-Cookie headers. */
export function cookiePair(setCookie: string | string[] | undefined): string {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  const session = all.find((cookie) => cookie.includes('session_token='));
  if (!session) throw new Error(`no session cookie in ${JSON.stringify(all)}`);
  return session.split(';')[0]!;
}

/** Headers of a same-origin browser request (inject would otherwise send Host: localhost:80). */
export function sameOrigin(server: TestServer): Record<string, string> {
  return { origin: server.origin, host: new URL(server.origin).host };
}

/** Who, how and what of an `injectAs` request. */
export type InjectArgs = [
  who: { cookie: string },
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH',
  url: string,
  payload?: unknown,
  headers?: Record<string, string>,
];

/** A same-origin request from a signed-in user (`who.cookie` from `signedInUser`). */
export function injectAs(server: TestServer, ...[who, method, url, payload, headers]: InjectArgs) {
  return server.app.inject({
    method,
    url,
    headers: { ...sameOrigin(server), cookie: who.cookie, ...headers },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

/**
 * Poll a workspace until it reaches `status`; a workspace in `error` fails with its reason.
 * 45 s: a create with a clone took over 20 s in CI while a test cluster started beside it.
 */
export async function waitForWorkspace(
  server: TestServer,
  who: { cookie: string },
  name: string,
  status: Workspace['status'],
): Promise<Workspace> {
  for (const deadline = Date.now() + 45_000; Date.now() < deadline;) {
    const response = await injectAs(server, who, 'GET', `/api/workspaces/${name}`);
    const workspace = workspaceSchema.parse(response.json());
    if (workspace.status === status) return workspace;
    if (workspace.status === 'error')
      throw new Error(`workspace failed: ${workspace.statusReason}`);
    await sleep(50);
  }
  throw new Error(`workspace ${name} never became ${status}`);
}

/** The WebSocket URL of a server path. */
export function wsUrl(server: TestServer, path: string): string {
  return `${server.origin.replace('http', 'ws')}${path}`;
}

/** A WebSocket to `path` with `who`'s session, from `origin` (the server's own by default). */
export function socketAs(
  server: TestServer,
  who: { cookie: string },
  path: string,
  origin = server.origin,
): WebSocket {
  return new WebSocket(wsUrl(server, path), { headers: { cookie: who.cookie, origin } });
}

/** How `socket` closed: its code and reason. */
export async function closeOf(socket: WebSocket): Promise<{ code: number; reason: string }> {
  const [code, reason] = (await once(socket, 'close')) as [number, Buffer];
  return { code, reason: reason.toString() };
}

/**
 * Adds an OpenAI-compatible provider at `baseUrl` (the scripted LLM) for `who` and makes it serve
 * chat (`scripted-chat`) and the agent (`scripted-coder`); returns the provider's id.
 */
export async function useScriptedProvider(
  server: TestServer,
  who: { cookie: string },
  baseUrl: string,
  apiKey?: string,
): Promise<string> {
  const created = await injectAs(server, who, 'POST', '/api/ai/providers', {
    name: 'Local',
    kind: 'openai-compatible',
    baseUrl,
    ...(apiKey ? { apiKey } : {}),
  });
  if (created.statusCode !== 201) throw new Error(`adding the provider: ${created.body}`);
  const providerId = created.json().id as string;
  const saved = await injectAs(server, who, 'PUT', '/api/ai/settings', {
    chat: { providerId, model: 'scripted-chat' },
    agent: { providerId, model: 'scripted-coder' },
  });
  if (saved.statusCode !== 200) throw new Error(`choosing the models: ${saved.body}`);
  return providerId;
}
