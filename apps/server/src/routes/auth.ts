import { timingSafeEqual } from 'node:crypto';
import {
  acceptInviteBodySchema,
  inviteSchema,
  meSchema,
  setupBodySchema,
  setupStatusSchema,
  signInBodySchema,
  type Me,
} from '@studio/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { toFetchHeaders } from '../auth/authenticator.ts';
import { toApiUser, type UserRow } from '../auth/user-service.ts';
import { AppError } from '../errors.ts';

/** Sign-in, sign-out, first-run setup, invites, and better-auth's own endpoints (OAuth) under /api/auth. */
export function authRoutes(app: App, services: Services): void {
  const { auth, users, audit, limits, sockets, config, metrics } = services;

  // better-auth serves only what the product uses: starting a GitHub or OIDC sign-in, the
  // provider's callback, and its error page. Its other endpoints (email sign-in, password
  // change, session listing…) would sidestep our limits, revocation and audit: our own routes
  // below do those, and better-auth's are not exposed (THREATS 27).
  const forward = async (request: FastifyRequest, reply: FastifyReply) => {
    throttle(reply, await limits.ip.hit(`oauth:${request.ip}`));
    const url = new URL(request.url, config.publicUrl.origin);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const response = await auth.handler(
      new Request(url, {
        method: request.method,
        headers: toFetchHeaders(request.headers),
        body,
      }),
    );
    void reply.status(response.status);
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie' && name !== 'content-length') void reply.header(name, value);
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length) void reply.header('set-cookie', cookies);
    return { response, cookies };
  };
  const hidden = { config: { access: 'public' as const }, schema: { tags: ['auth'] } };
  app.post('/api/auth/sign-in/social', hidden, async (request, reply) => {
    const { response } = await forward(request, reply);
    return reply.send(Buffer.from(await response.arrayBuffer()));
  });
  app.route({
    method: ['GET', 'POST'],
    url: '/api/auth/callback/:id',
    ...hidden,
    handler: async (request, reply) => {
      const { response, cookies } = await forward(request, reply);
      // A provider's callback that started a session is a sign-in like any other: audited.
      const session = cookies.map((cookie) => cookie.split(';', 1)[0]!).join('; ');
      const { principal } = session.includes('session_token=')
        ? await services.authenticator.authenticate({ cookie: session })
        : { principal: null };
      metrics.signIns.inc({ outcome: principal ? 'success' : 'failure' });
      await audit.record({
        actorId: principal?.user.id ?? null,
        action: 'session.sign_in',
        outcome: principal ? 'success' : 'failure',
        data: { ip: request.ip, provider: (request.params as { id: string }).id },
      });
      return reply.send(Buffer.from(await response.arrayBuffer()));
    },
  });
  app.get('/api/auth/error', hidden, async (request, reply) => {
    const { response } = await forward(request, reply);
    return reply.send(Buffer.from(await response.arrayBuffer()));
  });

  app.get(
    '/api/setup',
    {
      config: { access: 'public' },
      schema: { tags: ['auth'], response: { 200: setupStatusSchema } },
    },
    async () => ({
      needsSetup: (await users.count()) === 0,
      providers: {
        github: config.github !== undefined,
        oidc: config.oidc ? { id: 'oidc', name: config.oidc.name } : null,
      },
    }),
  );

  // One setup at a time, so two racing requests cannot both create a first admin.
  let setupInFlight: Promise<unknown> = Promise.resolve();
  app.post(
    '/api/setup',
    {
      config: { access: 'public' },
      schema: { tags: ['auth'], body: setupBodySchema, response: { 201: meSchema } },
    },
    async (request, reply) => {
      throttle(reply, await limits.ip.hit(`setup:${request.ip}`));
      const run = setupInFlight.then(async () => {
        if ((await users.count()) > 0)
          throw new AppError('setup_completed', 'setup is already done; sign in instead');
        if (!safeEqual(request.body.token, services.setupToken)) {
          throw new AppError(
            'invalid_setup_token',
            'the setup link is not valid; use the one printed in the server log',
          );
        }
        return users.create({ ...request.body, role: 'admin' });
      });
      setupInFlight = run.catch(() => {});
      const user = await run;
      await audit.record({
        actorId: user.id,
        action: 'setup.admin_created',
        targetType: 'user',
        targetId: user.id,
      });
      const me = await signIn(services, request, reply, request.body.email, request.body.password);
      return reply.status(201).send(me);
    },
  );

  app.post(
    '/api/session',
    {
      config: { access: 'public' },
      schema: { tags: ['auth'], body: signInBodySchema, response: { 200: meSchema } },
    },
    async (request, reply) => {
      const { email, password } = request.body;
      throttle(
        reply,
        Math.max(
          await limits.ip.hit(`sign-in:${request.ip}`),
          await limits.account.hit(`sign-in:${email}`),
        ),
      );
      try {
        const me = await signIn(services, request, reply, email, password);
        await limits.account.reset(`sign-in:${email}`);
        metrics.signIns.inc({ outcome: 'success' });
        await audit.record({
          actorId: me.user.id,
          action: 'session.sign_in',
          data: { ip: request.ip },
        });
        return me;
      } catch (error) {
        metrics.signIns.inc({ outcome: 'failure' });
        await audit.record({
          actorId: null,
          action: 'session.sign_in',
          outcome: 'failure',
          data: {
            email,
            ip: request.ip,
            code: error instanceof AppError ? error.code : 'internal',
          },
        });
        throw error;
      }
    },
  );

  app.delete(
    '/api/session',
    { config: { access: 'user' }, schema: { tags: ['auth'] } },
    async (request, reply) => {
      const principal = request.principal!;
      if (principal.via === 'session') {
        const response = await auth.api.signOut({
          headers: toFetchHeaders(request.headers),
          asResponse: true,
        });
        forwardCookies(reply, response);
        sockets.closeSession(principal.sessionId!);
      }
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/session/revoke-all',
    { config: { access: 'user' }, schema: { tags: ['auth'] } },
    async (request, reply) => {
      const { user } = request.principal!;
      await users.endSessions(user.id);
      sockets.closeUser(user.id);
      await audit.record({
        actorId: user.id,
        action: 'session.revoke_all',
        targetType: 'user',
        targetId: user.id,
      });
      const ctx = await auth.$context;
      void reply.header(
        'set-cookie',
        `${ctx.authCookies.sessionToken.name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`,
      );
      return reply.status(204).send();
    },
  );

  const inviteParams = z.object({ token: z.string().min(1).max(200) });
  app.get(
    '/api/invites/:token',
    {
      config: { access: 'public' },
      schema: { tags: ['auth'], params: inviteParams, response: { 200: inviteSchema } },
    },
    async (request, reply) => {
      throttle(reply, await limits.ip.hit(`invite:${request.ip}`));
      const user = await users.findInvite(request.params.token);
      return { email: user.email, name: user.name };
    },
  );
  app.post(
    '/api/invites/:token',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        params: inviteParams,
        body: acceptInviteBodySchema,
        response: { 200: meSchema },
      },
    },
    async (request, reply) => {
      throttle(reply, await limits.ip.hit(`invite:${request.ip}`));
      const user = await users.acceptInvite(request.params.token, request.body.password);
      await audit.record({
        actorId: user.id,
        action: 'invite.accepted',
        targetType: 'user',
        targetId: user.id,
      });
      return signIn(services, request, reply, user.email, request.body.password);
    },
  );
}

/** Signs in through better-auth and forwards its session cookie. */
async function signIn(
  { auth, users }: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  email: string,
  password: string,
): Promise<Me> {
  // Only what better-auth needs: our Origin check already ran, and its own would not know the Host rule.
  const headers = new Headers({ 'x-forwarded-for': request.ip });
  if (request.headers['user-agent']) headers.set('user-agent', request.headers['user-agent']);
  const response = await auth.api.signInEmail({
    body: { email, password, rememberMe: true },
    headers,
    asResponse: true,
  });
  if (response.status === 403 && (await response.text()).includes('user_disabled')) {
    throw new AppError('user_disabled', 'this account is disabled; ask an admin');
  }
  if (!response.ok) throw new AppError('invalid_credentials', 'wrong email or password');
  const { user } = (await response.json()) as { user: { id: string } };
  forwardCookies(reply, response);
  const row: UserRow | undefined = await users.find(user.id);
  if (!row) throw new AppError('invalid_credentials', 'wrong email or password');
  return { user: toApiUser(row), via: 'session' };
}

function forwardCookies(reply: FastifyReply, response: Response): void {
  const cookies = response.headers.getSetCookie();
  if (cookies.length) void reply.header('set-cookie', cookies);
}

/** Rejects with 429 and Retry-After when a limiter said to wait. */
export function throttle(reply: FastifyReply, waitMs: number): void {
  if (waitMs <= 0) return;
  const seconds = Math.ceil(waitMs / 1000);
  void reply.header('retry-after', String(seconds));
  throw new AppError('rate_limited', `too many attempts; try again in ${seconds} s`, {
    retryAfterSeconds: seconds,
  });
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
