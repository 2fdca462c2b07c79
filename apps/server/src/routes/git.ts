import {
  gitBranchListSchema,
  gitCheckoutBodySchema,
  gitCommitBodySchema,
  gitCommitSchema,
  gitCreateBranchBodySchema,
  gitCredentialListSchema,
  gitCredentialSchema,
  gitDiffQuerySchema,
  gitDiffSchema,
  gitHostSchema,
  gitPathsBodySchema,
  gitPushBodySchema,
  gitRemoteOutputSchema,
  gitRepoBodySchema,
  gitRepoListSchema,
  gitRepoQuerySchema,
  gitStatusSchema,
  putGitCredentialBodySchema,
} from '@studio/protocol';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { App, Services } from '../app.ts';
import { AppError } from '../errors.ts';
import { findRepositories, GitRepository, initRepository } from '../git/repository.ts';
import { workspaceOf } from '../http/access.ts';

const nameParams = z.object({ name: z.string().max(64) });
const hostParams = z.object({ host: gitHostSchema });

/**
 * The Web IDE's Source Control: status, stage, diff, commit, branches, push/pull/fetch in a
 * workspace's repositories, and the user's git host tokens, which reach git in their workspaces
 * only through the daemon's credential helper.
 */
export function gitRoutes(app: App, services: Services): void {
  const { workspaces, audit, gitCredentials: credentials, gitBroker: broker } = services;
  const tags = ['git'];

  /** The caller's running workspace and its daemon; another user's is `not_found`. */
  const reach = async (request: FastifyRequest) => {
    const row = await workspaceOf(request);
    const daemon = await workspaces.connect(row);
    // Connections made before this route was registered are served from their first git use.
    broker.attach(row.ownerId, row.id, daemon);
    return { row, daemon };
  };
  const repository = async (request: FastifyRequest, repo: string) => {
    const { row, daemon } = await reach(request);
    return { row, git: await GitRepository.open(daemon, repo) };
  };

  app.get(
    '/api/workspaces/:name/git/repos',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: { tags, params: nameParams, response: { 200: gitRepoListSchema } },
    },
    async (request) => {
      const { daemon } = await reach(request);
      return { repos: await findRepositories(daemon) };
    },
  );

  app.post(
    '/api/workspaces/:name/git/init',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: {
        tags,
        description: 'Make a folder of the workspace (`repo`, "" for the home) a git repository.',
        params: nameParams,
        body: gitRepoBodySchema,
        response: { 200: gitRepoListSchema },
      },
    },
    async (request) => {
      const { row, daemon } = await reach(request);
      await initRepository(daemon, request.body.repo);
      workspaces.touch(row.id);
      return { repos: await findRepositories(daemon) };
    },
  );

  app.get(
    '/api/workspaces/:name/git/status',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: {
        tags,
        params: nameParams,
        querystring: gitRepoQuerySchema,
        response: { 200: gitStatusSchema },
      },
    },
    async (request) => {
      const { git } = await repository(request, request.query.repo);
      return git.status();
    },
  );

  app.get(
    '/api/workspaces/:name/git/diff',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: {
        tags,
        params: nameParams,
        querystring: gitDiffQuerySchema,
        response: { 200: gitDiffSchema },
      },
    },
    async (request) => {
      const { repo, path, staged } = request.query;
      const { git } = await repository(request, repo);
      return git.diff(path, staged);
    },
  );

  for (const action of ['stage', 'unstage', 'discard'] as const) {
    app.post(
      `/api/workspaces/:name/git/${action}`,
      {
        config: { access: 'user', workspace: 'editor' },
        schema: {
          tags,
          params: nameParams,
          body: gitPathsBodySchema,
          response: { 200: gitStatusSchema },
        },
      },
      async (request) => {
        const { row, git } = await repository(request, request.body.repo);
        await git[action](request.body.paths);
        workspaces.touch(row.id);
        return git.status();
      },
    );
  }

  app.post(
    '/api/workspaces/:name/git/commit',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: {
        tags,
        params: nameParams,
        body: gitCommitBodySchema,
        response: { 200: gitCommitSchema },
      },
    },
    async (request) => {
      const { user } = request.principal!;
      const { row, git } = await repository(request, request.body.repo);
      const commit = await git.commit(request.body.message, request.body.amend, {
        name: user.name,
        email: user.email,
      });
      workspaces.touch(row.id);
      return commit;
    },
  );

  app.get(
    '/api/workspaces/:name/git/branches',
    {
      config: { access: 'user', workspace: 'viewer' },
      schema: {
        tags,
        params: nameParams,
        querystring: gitRepoQuerySchema,
        response: { 200: gitBranchListSchema },
      },
    },
    async (request) => {
      const { git } = await repository(request, request.query.repo);
      return git.branches();
    },
  );

  app.post(
    '/api/workspaces/:name/git/branches',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: {
        tags,
        params: nameParams,
        body: gitCreateBranchBodySchema,
        response: { 200: gitStatusSchema },
      },
    },
    async (request) => {
      const { repo, name, checkout, from } = request.body;
      const { row, git } = await repository(request, repo);
      await git.createBranch(name, checkout, from);
      workspaces.touch(row.id);
      return git.status();
    },
  );

  app.post(
    '/api/workspaces/:name/git/checkout',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: {
        tags,
        params: nameParams,
        body: gitCheckoutBodySchema,
        response: { 200: gitStatusSchema },
      },
    },
    async (request) => {
      const { row, git } = await repository(request, request.body.repo);
      await git.checkout(request.body.branch);
      workspaces.touch(row.id);
      return git.status();
    },
  );

  app.post(
    '/api/workspaces/:name/git/push',
    {
      config: { access: 'user', workspace: 'editor' },
      schema: {
        tags,
        params: nameParams,
        body: gitPushBodySchema,
        response: { 200: gitRemoteOutputSchema },
      },
    },
    async (request) => {
      const { row, git } = await repository(request, request.body.repo);
      workspaces.touch(row.id);
      return git.push(request.body.setUpstream);
    },
  );

  for (const action of ['pull', 'fetch'] as const) {
    app.post(
      `/api/workspaces/:name/git/${action}`,
      {
        config: { access: 'user', workspace: 'editor' },
        schema: {
          tags,
          params: nameParams,
          body: gitRepoBodySchema,
          response: { 200: gitRemoteOutputSchema },
        },
      },
      async (request) => {
        const { row, git } = await repository(request, request.body.repo);
        workspaces.touch(row.id);
        return git[action]();
      },
    );
  }

  // --- the user's git host tokens ---

  app.get(
    '/api/me/git-credentials',
    { config: { access: 'user' }, schema: { tags, response: { 200: gitCredentialListSchema } } },
    async (request) => ({ credentials: await credentials.list(request.principal!.user.id) }),
  );

  app.put(
    '/api/me/git-credentials/:host',
    {
      config: { access: 'user' },
      schema: {
        tags,
        params: hostParams,
        body: putGitCredentialBodySchema,
        response: { 200: gitCredentialSchema },
      },
    },
    async (request) => {
      const { user } = request.principal!;
      const { host } = request.params;
      const saved = await credentials.put(user.id, host, request.body);
      await audit.record({
        actorId: user.id,
        action: 'git_credential.saved',
        targetType: 'git_credential',
        targetId: host,
      });
      return saved;
    },
  );

  app.delete(
    '/api/me/git-credentials/:host',
    { config: { access: 'user' }, schema: { tags, params: hostParams } },
    async (request, reply) => {
      const { user } = request.principal!;
      const { host } = request.params;
      if (!(await credentials.remove(user.id, host))) {
        throw new AppError('not_found', `You have no git credential for ${host}.`);
      }
      await audit.record({
        actorId: user.id,
        action: 'git_credential.deleted',
        targetType: 'git_credential',
        targetId: host,
      });
      return reply.status(204).send();
    },
  );
}
