import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { GitStatus } from '@studio/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from '../../../../test/git-http-server.ts';
import {
  injectAs,
  type InjectArgs,
  signedInUser,
  startTestServer,
  waitForWorkspace,
  type TestServer,
} from '../testing.ts';

const run = promisify(execFile);

let server: TestServer;
let alice: { id: string; cookie: string };
let mallory: { id: string; cookie: string };
let gitServer: GitHttpServer;
let bareRoot: string;
// Unique, so finding it anywhere in a workspace means it leaked.
const token = `tok_${randomBytes(16).toString('hex')}`;

// Workspaces have networks of their own: they reach this host's git server only through the
// port the firewall opens (root), at 10.0.2.2.
const root = process.getuid?.() === 0;

beforeAll(async () => {
  bareRoot = await mkdtemp(join(tmpdir(), 'studio-git-remote-'));
  gitServer = await startGitHttpServer({ root: bareRoot, token, advertise: '10.0.2.2' });
  const gitPort = Number(gitServer.hostPort.split(':').pop());
  server = await startTestServer(
    { STUDIO_NETWORK_ALLOW: `10.0.2.2:${gitPort}` },
    { runtime: { network: 'isolated', allowHostPorts: [gitPort] } },
  );
  alice = await signedInUser(server, { email: 'alice@example.com' });
  mallory = await signedInUser(server, { email: 'mallory@example.com' });
  // `project.git` has one commit on main (for clone, fetch and pull); `work.git` is empty (push).
  await host('git', ['init', '--quiet', '--bare', '-b', 'main', join(bareRoot, 'project.git')]);
  await host('git', ['init', '--quiet', '--bare', '-b', 'main', join(bareRoot, 'work.git')]);
  await commitOnHost('project.git', 'README.md', '# project\n', 'seed');
  await api(alice, 'POST', '/api/workspaces', { name: 'git' });
  await waitForWorkspace(server, alice, 'git', 'running');
}, 60_000);

afterAll(async () => {
  await gitServer?.close();
  await server?.close();
  if (bareRoot) await rm(bareRoot, { recursive: true, force: true });
}, 60_000);

const api = (...args: InjectArgs) => injectAs(server, ...args);

function host(command: string, args: string[], cwd?: string) {
  return run(command, args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
}

/** Commit a file to a bare repository on the host, past the HTTP server (setup only). */
async function commitOnHost(bare: string, file: string, content: string, message: string) {
  const dir = await mkdtemp(join(tmpdir(), 'studio-git-seed-'));
  try {
    await host('git', ['clone', '--quiet', join(bareRoot, bare), dir]);
    await host('sh', ['-c', `printf '%s' "$1" > "$2"`, 'sh', content, file], dir);
    const identity = ['-c', 'user.name=Seed', '-c', 'user.email=seed@example.com'];
    await host('git', [...identity, 'add', '-A'], dir);
    await host('git', [...identity, 'commit', '--quiet', '-m', message], dir);
    await host('git', ['push', '--quiet', 'origin', 'HEAD:main'], dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Run a shell command in a workspace as its user; returns stdout, throws on a non-zero exit. */
async function sh(script: string, workspace = 'git', owner = alice): Promise<string> {
  const row = await server.services.workspaces.get(owner.id, workspace);
  const daemon = await server.services.workspaces.connect(row);
  const result = await daemon.exec('sh', ['-c', script], { env: { GIT_TERMINAL_PROMPT: '0' } });
  if (result.code !== 0) throw new Error(`${script}: exit ${result.code}: ${result.stderr}`);
  return result.stdout;
}

const url = (path: string, query: Record<string, string> = {}) =>
  `/api/workspaces/git/git/${path}${Object.keys(query).length ? `?${new URLSearchParams(query)}` : ''}`;

async function status(repo = 'work'): Promise<GitStatus> {
  const response = await api(alice, 'GET', url('status', { repo }));
  expect(response.statusCode).toBe(200);
  return response.json() as GitStatus;
}

const fileOf = (state: GitStatus, path: string) => state.files.find((file) => file.path === path);

describe.runIf(root)('git API', () => {
  it('finds repositories at the home and up to two levels below it', async () => {
    await sh(
      'git init -q -b main work && mkdir -p a && git init -q -b dev a/b && mkdir -p x/y && git init -q x/y/z',
    );
    const response = await api(alice, 'GET', url('repos'));
    expect(response.statusCode).toBe(200);
    expect(response.json().repos).toEqual([
      { path: 'a/b', branch: 'dev' },
      { path: 'work', branch: 'main' },
    ]);
    const notRepo = await api(alice, 'GET', url('status', { repo: 'a' }));
    expect(notRepo.statusCode).toBe(404);
    expect(notRepo.json()).toMatchObject({ code: 'not_a_repository' });
    const outside = await api(alice, 'GET', url('status', { repo: '../..' }));
    expect(outside.statusCode).toBe(400);
  });

  it('initializes a repository in a folder, made if missing, and refuses one outside the home', async () => {
    const response = await api(alice, 'POST', url('init'), { repo: 'fresh/app' });
    expect(response.statusCode).toBe(200);
    expect(response.json().repos.map((repo: { path: string }) => repo.path)).toContain('fresh/app');
    expect((await status('fresh/app')).files).toEqual([]);
    const outside = await api(alice, 'POST', url('init'), { repo: '../elsewhere' });
    expect(outside.statusCode).toBe(400);
    expect(await sh('ls -A fresh/app')).toBe('.git\n');
  });

  it('stages, commits as the platform user, and refuses empty commits', async () => {
    await sh("cd work && printf 'keep\\n' > keep.txt && printf 'old\\n' > 'old name.txt'");
    const staged = await api(alice, 'POST', url('stage'), {
      repo: 'work',
      paths: ['keep.txt', 'old name.txt'],
    });
    expect(staged.statusCode).toBe(200);
    expect(staged.json()).toMatchObject({ repo: 'work', branch: 'main', head: null });
    expect(fileOf(staged.json(), 'old name.txt')).toEqual({
      path: 'old name.txt',
      index: 'A',
      worktree: '.',
    });

    const empty = await api(alice, 'POST', url('commit'), { repo: 'work', message: '  ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().message).toContain('message');

    const commit = await api(alice, 'POST', url('commit'), {
      repo: 'work',
      message: 'First commit\n\nWith a body.',
    });
    expect(commit.statusCode).toBe(200);
    expect(commit.json()).toEqual({
      sha: expect.stringMatching(/^[0-9a-f]{40}$/),
      summary: 'First commit',
    });
    const log = await sh("cd work && git log -1 --format='%an <%ae>|%cn <%ce>'");
    expect(log.trim()).toBe('alice <alice@example.com>|alice <alice@example.com>');
    expect((await status()).head).toBe(commit.json().sha.slice(0, 7));

    const nothing = await api(alice, 'POST', url('commit'), { repo: 'work', message: 'again' });
    expect(nothing.statusCode).toBe(409);
    expect(nothing.json()).toMatchObject({ code: 'nothing_to_commit' });
  });

  it('reports renames, untracked and Unicode names; diffs, unstages and discards', async () => {
    await sh(
      "cd work && git mv 'old name.txt' 'new name.txt' && printf 'keep\\nmore\\n' > keep.txt && printf 'x' > 'ünïcödé ✓.txt'",
    );
    let state = await status();
    expect(fileOf(state, 'new name.txt')).toEqual({
      path: 'new name.txt',
      origPath: 'old name.txt',
      index: 'R',
      worktree: '.',
    });
    expect(fileOf(state, 'keep.txt')).toMatchObject({ index: '.', worktree: 'M' });
    expect(fileOf(state, 'ünïcödé ✓.txt')).toMatchObject({ index: '?', worktree: '?' });

    const unstagedDiff = await api(alice, 'GET', url('diff', { repo: 'work', path: 'keep.txt' }));
    expect(unstagedDiff.json()).toEqual({
      path: 'keep.txt',
      original: 'keep\n',
      modified: 'keep\nmore\n',
      binary: false,
    });
    await api(alice, 'POST', url('stage'), { repo: 'work', paths: ['keep.txt'] });
    await sh("cd work && printf 'keep\\nmore\\nmost\\n' > keep.txt");
    const stagedDiff = await api(
      alice,
      'GET',
      url('diff', { repo: 'work', path: 'keep.txt', staged: 'true' }),
    );
    expect(stagedDiff.json()).toMatchObject({ original: 'keep\n', modified: 'keep\nmore\n' });
    const worktreeDiff = await api(alice, 'GET', url('diff', { repo: 'work', path: 'keep.txt' }));
    expect(worktreeDiff.json()).toMatchObject({
      original: 'keep\nmore\n',
      modified: 'keep\nmore\nmost\n',
    });
    const renameDiff = await api(
      alice,
      'GET',
      url('diff', { repo: 'work', path: 'new name.txt', staged: 'true' }),
    );
    expect(renameDiff.json()).toMatchObject({ original: 'old\n', modified: 'old\n' });
    const newFile = await api(alice, 'GET', url('diff', { repo: 'work', path: 'ünïcödé ✓.txt' }));
    expect(newFile.json()).toMatchObject({ original: '', modified: 'x', binary: false });
    await sh("cd work && printf 'a\\000b' > blob.bin");
    const binary = await api(alice, 'GET', url('diff', { repo: 'work', path: 'blob.bin' }));
    expect(binary.json()).toEqual({ path: 'blob.bin', original: '', modified: '', binary: true });
    const escape = await api(alice, 'GET', url('diff', { repo: 'work', path: '../x' }));
    expect(escape.statusCode).toBe(400);

    const unstaged = await api(alice, 'POST', url('unstage'), {
      repo: 'work',
      paths: ['keep.txt', 'new name.txt'],
    });
    expect(unstaged.statusCode).toBe(200);
    state = unstaged.json();
    expect(fileOf(state, 'keep.txt')).toMatchObject({ index: '.', worktree: 'M' });
    // Unstaging a rename unstages both of its paths.
    expect(fileOf(state, 'old name.txt')).toMatchObject({ index: '.', worktree: 'D' });
    expect(fileOf(state, 'new name.txt')).toMatchObject({ index: '?', worktree: '?' });

    const discarded = await api(alice, 'POST', url('discard'), {
      repo: 'work',
      paths: ['keep.txt', 'old name.txt', 'new name.txt', 'ünïcödé ✓.txt', 'blob.bin'],
    });
    expect(discarded.statusCode).toBe(200);
    expect(discarded.json().files).toEqual([]);
    expect(await sh('cd work && cat keep.txt && ls')).toBe('keep\nkeep.txt\nold name.txt\n');
  });

  it('unstages in a repository with no commits yet', async () => {
    await sh("git init -q -b main fresh && printf 'n' > fresh/new.txt");
    await api(alice, 'POST', url('stage'), { repo: 'fresh', paths: ['new.txt'] });
    expect(fileOf(await status('fresh'), 'new.txt')).toMatchObject({ index: 'A' });
    const response = await api(alice, 'POST', url('unstage'), {
      repo: 'fresh',
      paths: ['new.txt'],
    });
    expect(response.statusCode).toBe(200);
    expect(fileOf(response.json(), 'new.txt')).toMatchObject({ index: '?', worktree: '?' });
  });

  it('creates and switches branches; a dirty tree that blocks the switch is a 409', async () => {
    const bad = await api(alice, 'POST', url('branches'), {
      repo: 'work',
      name: 'bad..name',
      checkout: true,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('name');

    const created = await api(alice, 'POST', url('branches'), {
      repo: 'work',
      name: 'feature',
      checkout: true,
    });
    expect(created.statusCode).toBe(200);
    expect(created.json()).toMatchObject({ branch: 'feature' });
    await sh("cd work && printf 'feature\\n' > keep.txt");
    await api(alice, 'POST', url('stage'), { repo: 'work', paths: ['keep.txt'] });
    await api(alice, 'POST', url('commit'), { repo: 'work', message: 'On feature' });

    const list = await api(alice, 'GET', url('branches', { repo: 'work' }));
    expect(list.json()).toEqual({
      current: 'feature',
      branches: [
        { name: 'feature', remote: false },
        { name: 'main', remote: false },
      ],
    });

    await sh("cd work && printf 'dirty\\n' > keep.txt");
    const blocked = await api(alice, 'POST', url('checkout'), { repo: 'work', branch: 'main' });
    expect(blocked.statusCode).toBe(409);
    expect(blocked.json()).toMatchObject({ code: 'git_failed' });
    expect(blocked.json().message).toContain('would be overwritten by checkout');

    await api(alice, 'POST', url('discard'), { repo: 'work', paths: ['keep.txt'] });
    const switched = await api(alice, 'POST', url('checkout'), { repo: 'work', branch: 'main' });
    expect(switched.statusCode).toBe(200);
    expect(switched.json()).toMatchObject({ branch: 'main', files: [] });
  });

  it('asks for a token in Settings when the remote needs one, and pushes once it is saved', async () => {
    await sh(`cd work && git remote add origin ${gitServer.url('work.git')}`);
    const before = gitServer.unauthorized;
    const refused = await api(alice, 'POST', url('push'), { repo: 'work', setUpstream: true });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      code: 'git_auth_required',
      detail: { host: gitServer.hostPort },
    });
    expect(refused.json().message).toContain(`Add a token for ${gitServer.hostPort} in Settings`);
    expect(gitServer.unauthorized).toBeGreaterThan(before);

    const badHost = await api(alice, 'PUT', '/api/me/git-credentials/bad%20host', { token });
    expect(badHost.statusCode).toBe(400);
    const saved = await api(alice, 'PUT', `/api/me/git-credentials/${gitServer.hostPort}`, {
      token,
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toEqual({
      host: gitServer.hostPort,
      username: 'x-access-token',
      createdAt: expect.any(String),
    });
    const listed = await api(alice, 'GET', '/api/me/git-credentials');
    expect(listed.json()).toEqual({ credentials: [saved.json()] });
    expect(listed.body).not.toContain(token);
    const theirs = await api(mallory, 'GET', '/api/me/git-credentials');
    expect(theirs.json()).toEqual({ credentials: [] });

    const pushed = await api(alice, 'POST', url('push'), { repo: 'work', setUpstream: true });
    expect(pushed.statusCode).toBe(200);
    expect(pushed.json().output).toContain('main -> main');
    const { stdout } = await host('git', [
      `--git-dir=${join(bareRoot, 'work.git')}`,
      'log',
      '-1',
      '--format=%s|%an',
      'main',
    ]);
    expect(stdout.trim()).toBe('First commit|alice');
    expect(await status()).toMatchObject({ upstream: 'origin/main', ahead: 0, behind: 0 });
  });

  it('fetches and pulls with the saved token', async () => {
    await commitOnHost('work.git', 'remote.txt', 'from elsewhere\n', 'Remote change');
    const fetched = await api(alice, 'POST', url('fetch'), { repo: 'work' });
    expect(fetched.statusCode).toBe(200);
    expect(await status()).toMatchObject({ ahead: 0, behind: 1 });
    const pulled = await api(alice, 'POST', url('pull'), { repo: 'work' });
    expect(pulled.statusCode).toBe(200);
    expect(await status()).toMatchObject({ ahead: 0, behind: 0 });
    expect(await sh('cat work/remote.txt')).toBe('from elsewhere\n');
    const branches = await api(alice, 'GET', url('branches', { repo: 'work' }));
    expect(branches.json().branches).toEqual([
      { name: 'feature', remote: false },
      { name: 'main', remote: false, upstream: 'origin/main' },
      { name: 'origin/main', remote: true },
    ]);
  });

  it('never puts the token in the workspace environment or its files', async () => {
    const env = await sh('env');
    expect(env).not.toContain(token);
    // The helper is configured through the environment, not through any file of the user's.
    expect(env).toMatch(/^GIT_CONFIG_KEY_0=credential\.helper$/m);
    expect(env).toContain('git-credential');
    const grep = await sh(`grep -rlF -- '${token}' . ; echo "exit $?"`);
    expect(grep.trim()).toBe('exit 1');
    expect(await sh('cat ~/.gitconfig 2>/dev/null; echo end')).toBe('end\n');
    // git itself still gets the token, from the helper, when it asks for that host.
    const stored = await sh(
      `printf 'protocol=http\\nhost=${gitServer.hostPort}\\n\\n' | git credential fill`,
    );
    expect(stored).toContain(`password=${token}`);
  });

  it("answers 404 for another user's workspace", async () => {
    for (const [method, path, body] of [
      ['GET', url('repos'), undefined],
      ['GET', url('status', { repo: 'work' }), undefined],
      ['POST', url('stage'), { repo: 'work', paths: ['keep.txt'] }],
      ['POST', url('push'), { repo: 'work' }],
    ] as const) {
      const response = await api(mallory, method, path, body);
      expect(response.statusCode).toBe(404);
    }
  });

  it('deletes a credential', async () => {
    const removed = await api(alice, 'DELETE', `/api/me/git-credentials/${gitServer.hostPort}`);
    expect(removed.statusCode).toBe(204);
    const again = await api(alice, 'DELETE', `/api/me/git-credentials/${gitServer.hostPort}`);
    expect(again.statusCode).toBe(404);
    const refused = await api(alice, 'POST', url('fetch'), { repo: 'work' });
    expect(refused.json()).toMatchObject({ code: 'git_auth_required' });
  });

  it('clones a private repository at workspace creation with the owner’s token', async () => {
    await api(alice, 'PUT', `/api/me/git-credentials/${gitServer.hostPort}`, {
      username: 'alice',
      token,
    });
    const created = await api(alice, 'POST', '/api/workspaces', {
      name: 'cloned',
      repoUrl: gitServer.url('project.git'),
    });
    expect(created.statusCode).toBe(201);
    await waitForWorkspace(server, alice, 'cloned', 'running');
    const row = await server.services.workspaces.get(alice.id, 'cloned');
    await server.services.workspaces.settled(row.id);
    expect((await server.services.workspaces.get(alice.id, 'cloned')).statusReason).toBeNull();
    expect(await sh('cat project/README.md', 'cloned')).toBe('# project\n');
    const repos = await api(alice, 'GET', '/api/workspaces/cloned/git/repos');
    expect(repos.json()).toEqual({ repos: [{ path: 'project', branch: 'main' }] });
  }, 60_000);
});
