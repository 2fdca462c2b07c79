import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import type { DatabaseHandle } from '@studio/db';
import type { WorkspaceRuntime } from '@studio/runtime';
import { WS_CLOSE } from '@studio/protocol';
import pino from 'pino';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Config } from './config.ts';
import { redactUrl } from './http/redact-url.ts';
import { AppError } from './errors.ts';
import { registerErrorHandler } from './http/error-handler.ts';
import { registerAccess } from './http/access.ts';
import { registerTextRules } from './http/text-rules.ts';
import { adminRoutes } from './routes/admin.ts';
import { aiRoutes } from './routes/ai.ts';
import { auditRoutes } from './routes/audit.ts';
import { authRoutes } from './routes/auth.ts';
import { desktopRoutes } from './routes/desktop.ts';
import { collabRoutes } from './routes/collab.ts';
import { lspRoutes } from './routes/lsp.ts';
import { dapRoutes } from './routes/dap.ts';
import { eventsRoutes } from './routes/events.ts';
import { filesRoutes } from './routes/files.ts';
import { gitRoutes } from './routes/git.ts';
import { healthRoutes } from './routes/health.ts';
import { mcpRoutes } from './routes/mcp.ts';
import { meRoutes } from './routes/me.ts';
import { linkRoutes } from './routes/preview-links.ts';
import { previewRoutes } from './routes/previews.ts';
import { previewOrigin, routePreviewHosts, subdomainPreviewRoutes } from './previews/subdomain.ts';
import { workspaceRoutes } from './routes/workspaces.ts';
import { memberRoutes } from './routes/members.ts';
import { backupRoutes } from './routes/backup.ts';
import { quotaRoutes } from './routes/quotas.ts';
import { teamRoutes } from './routes/teams.ts';
import type { ImageBuilder } from './workspaces/workspace-service.ts';
import {
  buildServices,
  releaseRuns,
  startServices,
  stopServices,
  type Services,
} from './services.ts';

export type { Services } from './services.ts';

/** The Fastify instance with zod schemas as its type provider. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** What `createApp` needs from the composition root. */
export interface AppDeps {
  config: Config;
  database: DatabaseHandle;
  logger?: FastifyServerOptions['logger'];
  now?: () => Date;
  /** The workspace driver, picked by the composition root. */
  runtime: WorkspaceRuntime;
  /** Builds template images on demand (Docker). */
  images?: ImageBuilder;
  /** Folder of template files to sync at start (`images/templates`). */
  templatesDir?: string;
  /** How often sockets re-check that their session still exists (sessions ended on another replica). */
  socketRecheckMs?: number;
  /** How long a run's or job's lease lasts, over `config.leaseMs` (tests shorten it). */
  runLeaseMs?: number;
}

const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** Builds the HTTP + WebSocket server: hooks, error handling, OpenAPI, routes and the web app. */
/** One log line per request at `info`, at its end and naming it, instead of Fastify's two. */
class OneLinePerRequest extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}

export async function createApp(deps: AppDeps): Promise<{ app: App; services: Services }> {
  const { config, database } = deps;
  const now = deps.now ?? (() => new Date());
  const app = Fastify({
    logger: deps.logger ?? {
      level: config.logLevel,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.secret'],
        censor: '[redacted]',
      },
      serializers: {
        req: (req) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
        err: serializeError,
      },
    },
    genReqId: () => randomUUID(),
    logController: new OneLinePerRequest(),
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    forceCloseConnections: 'idle',
    // Subdomain previews: a preview host's every path goes to its one route.
    rewriteUrl: routePreviewHosts(config.previewDomain),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  registerTextRules(app);
  // An empty body that says it is JSON (a client's `POST …/stop` with the header set) is no
  // body: accepted where the route takes none, and named by the schema where it takes one.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    parseJson(request, String(body), done);
  });

  const services = await buildServices({
    config,
    database,
    logger: app.log,
    now,
    runtime: deps.runtime,
    images: deps.images,
    templatesDir: deps.templatesDir,
    leaseMs: deps.runLeaseMs ?? config.leaseMs,
  });
  const { metrics } = services;

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  const { withAccess } = registerAccess(app, {
    publicUrl: config.publicUrl,
    allowedHosts: config.allowedHosts,
    previewDomain: config.previewDomain,
    authenticate: (request) => services.authenticator.authenticate(request.headers),
    tokenReachesWorkspace: async (principal, request) => {
      const { name } = request.params as { name?: string };
      if (!name || !principal.workspaceId) return false;
      const found = await services.members.resolve(principal.user.id, name).catch(() => null);
      return found?.row.id === principal.workspaceId;
    },
    resolveWorkspace: (userId, ref) => services.members.resolve(userId, ref),
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Prometheus Studio API', version: '0.1.0' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'studio.session_token' },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
    // Every operation says who may call it (`x-access`); public ones need no credentials.
    transform: (input) => {
      const output = jsonSchemaTransform(input);
      const access = input.route.config?.access;
      const schema = output.schema as Record<string, unknown>;
      return {
        ...output,
        schema: {
          ...schema,
          'x-access': access,
          ...(input.route.config?.workspace
            ? { 'x-workspace-role': input.route.config.workspace }
            : {}),
          ...(input.route.config?.rawText ? { 'x-raw-text': true } : {}),
          ...(access === 'public' ? { security: [] } : {}),
        },
      };
    },
  });
  // The API's own description: public only when configured so, else for admins.
  const docsAccess = config.publicApiDocs ? 'public' : 'admin';
  await withAccess(docsAccess, () => app.register(fastifySwaggerUi, { routePrefix: '/api/docs' }));
  await app.register(fastifyWebsocket, {
    options: { maxPayload: 1024 * 1024 },
    // The one final error handler for WebSockets: log it, close with a code from WS_CLOSE.
    errorHandler: (error, socket, request) => {
      request.log.error({ err: error }, 'websocket handler failed');
      socket.close(WS_CLOSE.internal.code, WS_CLOSE.internal.reason);
    },
  });

  healthRoutes(app, services);
  authRoutes(app, services);
  meRoutes(app, services);
  adminRoutes(app, services);
  workspaceRoutes(app, services);
  memberRoutes(app, services);
  teamRoutes(app, services);
  quotaRoutes(app, services);
  backupRoutes(app, services);
  filesRoutes(app, services);
  gitRoutes(app, services);
  previewRoutes(app, services);
  linkRoutes(app, services);
  subdomainPreviewRoutes(app, services);
  desktopRoutes(app, services);
  lspRoutes(app, services);
  collabRoutes(app, services);
  dapRoutes(app, services);
  aiRoutes(app, services);
  mcpRoutes(app, services);
  auditRoutes(app, services);
  eventsRoutes(app, services, deps.socketRecheckMs ?? 5_000);
  app.get(
    '/api/openapi.json',
    { config: { access: docsAccess }, schema: { tags: ['health'] } },
    async () => app.swagger(),
  );

  await registerWebApp(app, withAccess, webCsp(config));
  app.addHook('onReady', async () => startServices(services));
  app.addHook('preClose', async () => releaseRuns(services));
  app.addHook('onClose', async () => stopServices(services));
  return { app, services };
}

/** Serves the built web app with SPA fallback; unknown /api routes get a JSON 404. */
async function registerWebApp(
  app: App,
  withAccess: (access: 'public', register: () => PromiseLike<unknown>) => Promise<void>,
  csp: string,
): Promise<void> {
  const built = existsSync(`${WEB_DIST}index.html`);
  if (built) {
    await withAccess('public', () =>
      app.register(fastifyStatic, {
        root: WEB_DIST,
        wildcard: false,
        index: false,
        // The web build writes .br and .gz beside each asset; the browser gets the smallest it takes.
        preCompressed: true,
        setHeaders: (res, path) => {
          // Vite fingerprints everything under assets/, so it never changes under the same name.
          res.setHeader(
            'cache-control',
            path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
          );
        },
      }),
    );
  }
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0]!;
    const wantsPage =
      request.method === 'GET' &&
      !path.startsWith('/api/') &&
      (request.headers.accept ?? '').includes('text/html');
    if (!wantsPage) throw new AppError('not_found', `no route ${request.method} ${path}`);
    void reply
      .header('content-security-policy', csp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('cache-control', 'no-cache');
    if (!built) {
      return reply
        .type('text/html')
        .send(
          '<!doctype html><title>Prometheus Studio</title><p>The web app is not built. Run <code>npm run build</code>.</p>',
        );
    }
    return reply.type('text/html').sendFile('index.html');
  });
}

/** The web app's policy; in subdomain mode its preview frames may show the preview hosts. */
function webCsp(config: Pick<Config, 'publicUrl' | 'previewDomain'>): string {
  const previewHosts = config.previewDomain
    ? ` ${previewOrigin(config.publicUrl, config.previewDomain, '*')}`
    : '';
  return [...WEB_CSP, `frame-src 'self'${previewHosts}`].join('; ');
}

const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
];

/**
 * Errors as logged: a failed query's bound parameters (passwords, tokens, whatever a person
 * typed) never reach the log, at any depth of `cause`.
 */
function serializeError(error: Error): { type: string; message: string; stack: string } {
  const serialized = pino.stdSerializers.err(error);
  const strip = (value: unknown, depth: number) => {
    if (!value || typeof value !== 'object' || depth > 5) return;
    const record = value as Record<string, unknown>;
    for (const key of ['params', 'parameters', 'values']) delete record[key];
    strip(record.cause, depth + 1);
  };
  strip(serialized, 0);
  return serialized as { type: string; message: string; stack: string };
}
