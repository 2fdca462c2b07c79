import {
  createPreviewLinkBodySchema,
  createdPreviewLinkSchema,
  previewLinkSchema,
} from '@studio/protocol';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { AppError } from '../errors.ts';
import { workspaceOf } from '../http/access.ts';
import { isUpgradeOriginAllowed } from '../http/origin.ts';
import { previewForwarding, previewScope } from '../previews/forwarding.ts';
import { sandboxPreflightHeaders } from '../previews/headers.ts';
import { issuePass, passMatches, passSession, sessionPrincipal } from '../previews/pass.ts';
import { openUrl } from '../previews/subdomain.ts';

/** `/l/<token>`, then a team link's pass segment (`/~…`), then the path inside the app. */
const LINK_URL = /^\/l\/([^/?#]+)(\/~[^/?#]*)?(\/[^]*)?$/;

const GONE = 'This preview link does not exist, was revoked or has expired.';

/**
 * Links to previews: a workspace's admins make a port reachable by anyone signed in here
 * (`team`) or by anyone with the link (`public`), until it expires or is revoked; both are
 * audited. `/l/<token>/…` serves it, sandboxed exactly like a preview, with the platform's
 * cookies never passed to the app. A team link checks the session on the first navigation and
 * then rides a pass in the path, as previews do (a sandboxed page sends no cookies).
 */
export function linkRoutes(app: App, services: Services): void {
  const { previewLinks, audit, config, authenticator, database, users, sockets } = services;
  const proxying = previewForwarding(services);
  const tags = ['previews'];
  const params = z.object({ name: z.string().max(64) });

  app.get(
    '/api/workspaces/:name/previews/links',
    {
      config: { access: 'user', workspace: 'admin' },
      schema: { tags, params, response: { 200: z.array(previewLinkSchema) } },
    },
    async (request) => previewLinks.list((await workspaceOf(request)).id),
  );

  app.post(
    '/api/workspaces/:name/previews/links',
    {
      config: { access: 'user', workspace: 'admin' },
      schema: {
        tags,
        description:
          'Opens one port to anyone signed in here (`team`) or anyone with the link (`public`) until it expires; the URL is shown this once.',
        params,
        body: createPreviewLinkBodySchema,
        response: { 201: createdPreviewLinkSchema },
      },
    },
    async (request, reply) => {
      const row = await workspaceOf(request);
      const { link, token } = await previewLinks.create(
        row.id,
        request.body,
        request.principal!.user.id,
      );
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'preview_link.created',
        targetType: 'workspace',
        targetId: row.id,
        data: {
          link: link.id,
          port: link.port,
          audience: link.audience,
          expiresAt: link.expiresAt,
        },
      });
      return reply.status(201).send({ link, url: new URL(`/l/${token}/`, config.publicUrl).href });
    },
  );

  app.delete(
    '/api/workspaces/:name/previews/links/:id',
    {
      config: { access: 'user', workspace: 'admin' },
      schema: { tags, params: params.extend({ id: z.string().max(64) }) },
    },
    async (request, reply) => {
      const row = await workspaceOf(request);
      const link = await previewLinks.revoke(row.id, request.params.id);
      // Here at once; other replicas' sockets through it close at their next check.
      sockets.closeLink(link.id);
      await audit.record({
        actorId: request.principal!.user.id,
        action: 'preview_link.revoked',
        targetType: 'workspace',
        targetId: row.id,
        data: { link: link.id, port: link.port, audience: link.audience },
      });
      return reply.status(204).send();
    },
  );

  /** The live link of this URL, who may use it, and where in the app the request goes. */
  async function resolve(request: FastifyRequest) {
    const match = LINK_URL.exec(request.url);
    const found = match ? await previewLinks.resolve(match[1]!) : null;
    if (!match || !found) throw new AppError('not_found', GONE);
    const token = match[1]!;
    const pass = match[2]?.slice(1) ?? null;
    const rest = match[3] ?? '/';
    const { link, row } = found;
    const passId = `link:${link.id}`;
    const navigating = pass === null && ['GET', 'HEAD'].includes(request.method);
    // Subdomain mode: a browser opening the link goes on to the link's own host.
    const toHost = (credential: { pass: string } | { link: string }) =>
      openUrl(config.publicUrl, config.previewDomain!, `link-${link.id}`, credential, rest);
    if (link.audience === 'public')
      return {
        link,
        row,
        prefix: `/l/${token}`,
        rest,
        redirect: config.previewDomain && navigating ? toHost({ link: token }) : null,
      };
    if (pass !== null) {
      const sessionId = passSession(pass);
      const principal =
        sessionId && passMatches(config.secret, pass, passId, link.port)
          ? await sessionPrincipal(database.db, users, sessionId, new Date())
          : null;
      if (!principal)
        throw new AppError('unauthenticated', 'Sign in to this server, then open the link again.');
      request.principal = principal;
      return { link, row, prefix: `/l/${token}/${pass}`, rest, redirect: null };
    }
    const { principal } = await authenticator.authenticate(request.headers);
    if (!principal?.sessionId || !['GET', 'HEAD'].includes(request.method))
      throw new AppError(
        'unauthenticated',
        'This preview is for people who sign in to this server: sign in, then open the link again.',
      );
    const segment = issuePass(config.secret, principal.sessionId, passId, link.port);
    const redirect = config.previewDomain
      ? toHost({ pass: segment })
      : `/l/${token}/${segment}${rest}`;
    return { link, row, prefix: '', rest, redirect };
  }

  void app.register(async (plugin) => {
    const scope = previewScope(plugin);
    const declared = { access: 'public', selfAuthenticated: true } as const;

    // Relative asset URLs in the app's pages resolve against the directory, which needs the slash.
    scope.all(
      '/l/:token',
      { config: declared, schema: { tags, params: z.object({ token: z.string() }) } },
      async (request, reply) => {
        await resolve(request);
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
        return reply.redirect(`${request.url.split('?')[0]}/${query}`, 308);
      },
    );

    scope.all(
      '/l/:token/*',
      {
        config: declared,
        schema: {
          tags,
          description: "A preview link: the port's app, sandboxed as a preview.",
          'x-websocket': true,
          params: z.object({ token: z.string(), '*': z.string() }),
        },
        preHandler: async (request, reply) => {
          if (request.headers.upgrade === undefined) return;
          const { link, row, prefix, rest } = await resolve(request);
          // A team link's sockets come from its sandboxed page (`null`) or the platform's origin.
          if (
            link.audience === 'team' &&
            request.headers.origin !== 'null' &&
            !isUpgradeOriginAllowed(request.headers, config.publicUrl)
          )
            throw new AppError('origin_rejected', 'WebSocket upgrade from a foreign Origin');
          await proxying.proxyUpgrade(
            request,
            reply,
            await proxying.tunnel(request, row, link.port, prefix, rest),
            (socket) => sockets.trackLink(socket, link.id, request.principal ?? undefined),
          );
        },
      },
      async (request, reply) => {
        const { link, row, prefix, rest, redirect } = await resolve(request);
        if (redirect) return reply.header('cache-control', 'no-store').redirect(redirect, 302);
        // The sandboxed page's fetches are cross-origin to itself: answered as previews answer them.
        const sandboxed = request.headers.origin === 'null';
        if (
          sandboxed &&
          request.method === 'OPTIONS' &&
          request.headers['access-control-request-method'] !== undefined
        )
          return reply.status(204).headers(sandboxPreflightHeaders(request.headers)).send();
        const reach = await proxying.tunnel(request, row, link.port, prefix, rest);
        return proxying.proxy(request, reply, reach, { sandboxed });
      },
    );
  });
}
