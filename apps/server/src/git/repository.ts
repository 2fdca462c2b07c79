import { posix } from 'node:path';
import type {
  GitBranchList,
  GitCommit,
  GitDiff,
  GitRepo,
  GitRemoteOutput,
  GitStatus,
} from '@studio/protocol';
import { DaemonError, type DaemonConnection, type ExecResult } from '@studio/runtime';
import { AppError } from '../errors.ts';
import { parsePorcelainStatus } from './porcelain.ts';

/** Who commits: the platform user, unless git's own configuration names someone. */
export interface GitIdentity {
  name: string;
  email: string;
}

const MiB = 1024 * 1024;
/** Diff sides larger than this are refused, like files the editor will not open. */
export const DIFF_MAX_BYTES = 5 * MiB;
// Local commands finish in milliseconds; a minute means a hook or a lock is stuck.
const LOCAL_TIMEOUT_MS = 60_000;
// Network commands: long enough for a large clone's fetch, short enough to never look hung.
const REMOTE_TIMEOUT_MS = 10 * 60_000;
const STATUS_MAX_BYTES = 8 * MiB;
// Git treats a file with a NUL in its first 8000 bytes as binary; so do we.
const BINARY_SNIFF_BYTES = 8000;
const MAX_REPOS = 100;

/**
 * Environment for every git command the API runs: never prompt (no terminal is there to answer),
 * never open an editor, English messages (matched below), and paths taken literally so a file
 * named `*` or `:(top)` is just that file.
 */
const GIT_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_EDITOR: 'true',
  GIT_MERGE_AUTOEDIT: 'no',
  GIT_LITERAL_PATHSPECS: '1',
  LC_ALL: 'C.UTF-8',
};
// A transfer below 1 byte/s for a minute is a dead connection, not a slow one.
const REMOTE_ENV: Record<string, string> = {
  GIT_HTTP_LOW_SPEED_LIMIT: '1',
  GIT_HTTP_LOW_SPEED_TIME: '60',
};

interface RunOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  maxOutputBytes?: number;
  stdin?: string;
}

/**
 * A repository folder as the API names it: '' for the home, no slashes at the ends. Leading
 * slashes mean the home, as in the files API; a path that climbs out of it is refused here with
 * the same error the daemon gives (which also refuses symlinks that lead out).
 */
export function normalizeRepoPath(repo: string): string {
  const normalized = posix.normalize(repo.replace(/^\/+/, '') || '.').replace(/\/+$/, '');
  if (normalized === '..' || normalized.startsWith('../')) {
    throw new AppError('path_outside_workspace', `"${repo}" is outside the workspace`);
  }
  return normalized === '.' ? '' : normalized;
}

/** Find the repositories of a workspace: its home and folders up to two levels below it. */
export async function findRepositories(daemon: DaemonConnection): Promise<GitRepo[]> {
  const found = await daemon.exec(
    'find',
    ['.', '-maxdepth', '3', '-name', 'node_modules', '-prune', '-o', '-name', '.git', '-print'],
    { timeoutMs: LOCAL_TIMEOUT_MS },
  );
  const paths = found.stdout
    .split('\n')
    .filter((line) => line.endsWith('/.git'))
    .map((line) => normalizeRepoPath(posix.dirname(line)))
    .sort()
    .slice(0, MAX_REPOS);
  return Promise.all(
    paths.map(async (path) => {
      const head = await run(daemon, path, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
      return { path, branch: head.code === 0 ? head.stdout.trim() : null };
    }),
  );
}

/** Makes `repo` (a folder under the home, '' for the home) a new repository; it may exist already. */
export async function initRepository(daemon: DaemonConnection, repo: string): Promise<void> {
  const path = normalizeRepoPath(repo);
  const result = await run(daemon, '', ['init', '--quiet', path || '.']);
  if (result.code !== 0) throw gitFailure(result, 'init');
}

/** One repository of a workspace, reached through its daemon. */
export class GitRepository {
  private constructor(
    private readonly daemon: DaemonConnection,
    /** The folder relative to the home, '' for the home. */
    readonly path: string,
  ) {}

  /** The repository whose top folder is `repo`; `not_a_repository` for any other folder. */
  static async open(daemon: DaemonConnection, repo: string): Promise<GitRepository> {
    const path = normalizeRepoPath(repo);
    const result = await run(daemon, path, ['rev-parse', '--show-prefix']);
    // A prefix means git found a repository above the folder: the folder itself is not one.
    if (result.code !== 0 || result.stdout.trim() !== '') {
      if (result.code !== 0 && !/not a git repository/i.test(result.stderr)) {
        throw gitFailure(result, 'rev-parse');
      }
      throw new AppError(
        'not_a_repository',
        `"${path || '~'}" is not the top folder of a git repository.`,
        { repo: path },
      );
    }
    return new GitRepository(daemon, path);
  }

  async status(): Promise<GitStatus> {
    const result = await this.git(
      ['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=all'],
      { env: { GIT_OPTIONAL_LOCKS: '0' }, maxOutputBytes: STATUS_MAX_BYTES },
    );
    if (result.truncated) {
      throw new AppError(
        'payload_too_large',
        'Too many changed files to list; add generated folders to .gitignore.',
      );
    }
    return { repo: this.path, ...parsePorcelainStatus(result.stdout) };
  }

  async stage(paths: string[]): Promise<void> {
    // -A: a deleted file's deletion is staged too.
    await this.git(['add', '-A', '--', ...paths]);
  }

  async unstage(paths: string[]): Promise<void> {
    // A rename is two paths in the index; unstaging its new name alone would leave a deletion.
    const { files } = await this.status();
    const all = new Set(paths);
    for (const file of files) {
      if (file.origPath !== undefined && all.has(file.path)) all.add(file.origPath);
    }
    // `reset` (unlike `restore --staged`) also works before the first commit.
    await this.git(['reset', '--quiet', '--', ...all]);
  }

  /** Put working files back as the index has them; untracked files are deleted. */
  async discard(paths: string[]): Promise<void> {
    const { files } = await this.status();
    const covers = (path: string, file: string) => file === path || file.startsWith(`${path}/`);
    const untracked = paths.filter((path) =>
      files.some((file) => file.worktree === '?' && covers(path, file.path)),
    );
    const tracked = paths.filter((path) =>
      files.some(
        (file) => file.worktree !== '?' && file.worktree !== '.' && covers(path, file.path),
      ),
    );
    if (tracked.length > 0) await this.git(['checkout', '--quiet', '--', ...tracked]);
    if (untracked.length > 0)
      await this.git(['clean', '--force', '-d', '--quiet', '--', ...untracked]);
  }

  async diff(path: string, staged: boolean): Promise<GitDiff> {
    let original: Side;
    let modified: Side;
    if (staged) {
      // A staged rename compares the new name in the index with the old name in HEAD.
      const { files } = await this.status();
      const entry = files.find((file) => file.path === path);
      original = await this.blob(`HEAD:${entry?.origPath ?? path}`);
      modified = await this.blob(`:${path}`);
    } else {
      original = await this.blob(`:${path}`);
      modified = await this.workingFile(path);
    }
    const binary = original.binary || modified.binary;
    return {
      path,
      original: binary ? '' : original.text,
      modified: binary ? '' : modified.text,
      binary,
    };
  }

  async commit(message: string, amend: boolean, identity: GitIdentity): Promise<GitCommit> {
    if (!amend) {
      // Exit code 1: the index differs from HEAD (or from nothing, before the first commit).
      const staged = await run(this.daemon, this.path, ['diff', '--cached', '--quiet']);
      if (staged.code === 0) {
        throw new AppError(
          'nothing_to_commit',
          'Nothing is staged: stage the changes to commit first.',
        );
      }
      if (staged.code !== 1) throw gitFailure(staged, 'diff');
    }
    const env = await this.identityEnv(identity);
    await this.git(['commit', '--quiet', ...(amend ? ['--amend'] : []), '--file=-'], {
      env,
      stdin: message,
      // Commit hooks (formatters, linters) may take a while.
      timeoutMs: REMOTE_TIMEOUT_MS,
    });
    const head = await this.git(['log', '-1', '--format=%H%x00%s']);
    const [sha = '', summary = ''] = head.stdout.trim().split('\0');
    return { sha, summary };
  }

  async branches(): Promise<GitBranchList> {
    const head = await run(this.daemon, this.path, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
    const refs = await this.git([
      'for-each-ref',
      '--format=%(refname)%00%(upstream:short)%00%(symref)',
      'refs/heads',
      'refs/remotes',
    ]);
    const branches: GitBranchList['branches'] = [];
    for (const line of refs.stdout.split('\n')) {
      const [ref = '', upstream = '', symref = ''] = line.split('\0');
      // refs/remotes/origin/HEAD points at another branch; it is not one itself.
      if (ref === '' || symref !== '') continue;
      if (ref.startsWith('refs/heads/')) {
        branches.push({
          name: ref.slice('refs/heads/'.length),
          remote: false,
          ...(upstream ? { upstream } : {}),
        });
      } else if (ref.startsWith('refs/remotes/')) {
        branches.push({ name: ref.slice('refs/remotes/'.length), remote: true });
      }
    }
    return { current: head.code === 0 ? head.stdout.trim() : null, branches };
  }

  async createBranch(name: string, checkout: boolean, from: string | undefined): Promise<void> {
    const valid = await run(this.daemon, this.path, ['check-ref-format', '--branch', name]);
    if (valid.code !== 0) {
      throw new AppError('bad_request', `name: "${name}" is not a valid branch name`, {
        issues: [{ path: 'body.name', message: 'is not a valid branch name' }],
      });
    }
    const start = from === undefined ? [] : [from];
    if (checkout) await this.git(['checkout', '--quiet', '-b', name, ...start, '--']);
    else await this.git(['branch', name, ...start]);
  }

  /** Switch to a local branch, or to a new local branch tracking a remote one (`origin/x`). */
  async checkout(branch: string): Promise<void> {
    const exists = async (ref: string) =>
      (await run(this.daemon, this.path, ['show-ref', '--verify', '--quiet', ref])).code === 0;
    if (!(await exists(`refs/heads/${branch}`)) && (await exists(`refs/remotes/${branch}`))) {
      await this.git(['checkout', '--quiet', '--track', branch, '--']);
      return;
    }
    await this.git(['checkout', '--quiet', branch, '--']);
  }

  async push(setUpstream: boolean): Promise<GitRemoteOutput> {
    if (!setUpstream) return this.remote(['push']);
    const branch = await run(this.daemon, this.path, [
      'symbolic-ref',
      '--quiet',
      '--short',
      'HEAD',
    ]);
    if (branch.code !== 0) {
      throw new AppError('git_failed', 'HEAD is detached: switch to a branch before pushing it.');
    }
    const configured = await run(this.daemon, this.path, [
      'config',
      '--get',
      `branch.${branch.stdout.trim()}.remote`,
    ]);
    const remotes = (await this.git(['remote'])).stdout.split('\n').filter(Boolean);
    const remote = configured.stdout.trim() || (remotes.includes('origin') ? 'origin' : remotes[0]);
    if (!remote) throw new AppError('git_failed', 'This repository has no remote to push to.');
    const name = branch.stdout.trim();
    return this.remote(['push', '--set-upstream', remote, `${name}:${name}`]);
  }

  pull(): Promise<GitRemoteOutput> {
    return this.remote(['pull']);
  }

  fetch(): Promise<GitRemoteOutput> {
    return this.remote(['fetch']);
  }

  private async remote(args: string[]): Promise<GitRemoteOutput> {
    const result = await this.git(args, { env: REMOTE_ENV, timeoutMs: REMOTE_TIMEOUT_MS });
    return { output: `${result.stdout}${result.stderr}`.trim() };
  }

  /** GIT_AUTHOR_* and GIT_COMMITTER_* for what the repository's and user's git config leave unset. */
  private async identityEnv(identity: GitIdentity): Promise<Record<string, string>> {
    const config = await run(this.daemon, this.path, [
      'config',
      '--get-regexp',
      '^(user|author|committer)\\.(name|email)$',
    ]);
    const keys = new Set(config.stdout.split('\n').map((line) => line.split(' ')[0]));
    const env: Record<string, string> = {};
    for (const role of ['author', 'committer'] as const) {
      for (const field of ['name', 'email'] as const) {
        if (keys.has(`user.${field}`) || keys.has(`${role}.${field}`)) continue;
        env[`GIT_${role.toUpperCase()}_${field.toUpperCase()}`] = identity[field];
      }
    }
    return env;
  }

  /** A blob by revision (`HEAD:path`, `:path`); empty when that side has no such file. */
  private async blob(spec: string): Promise<Side> {
    const result = await run(this.daemon, this.path, ['cat-file', 'blob', spec], {
      maxOutputBytes: DIFF_MAX_BYTES + 1,
    });
    if (result.code !== 0) return { text: '', binary: false };
    if (result.truncated) throw tooLarge(spec);
    return side(result.stdout);
  }

  private async workingFile(path: string): Promise<Side> {
    try {
      const file = await this.daemon.call('files.read', {
        path: posix.join(this.path || '.', path),
        maxBytes: DIFF_MAX_BYTES,
      });
      return file.binary ? { text: '', binary: true } : side(file.content);
    } catch (error) {
      // Deleted in the working tree: that side is empty.
      if (error instanceof DaemonError && error.code === 'not_found') {
        return { text: '', binary: false };
      }
      if (error instanceof DaemonError && error.code === 'payload_too_large') throw tooLarge(path);
      throw error;
    }
  }

  private async git(args: string[], options: RunOptions = {}): Promise<ExecResult> {
    const result = await run(this.daemon, this.path, args, options);
    if (result.code !== 0) throw gitFailure(result, args[0]!);
    return result;
  }
}

interface Side {
  text: string;
  binary: boolean;
}

function side(text: string): Side {
  return text.slice(0, BINARY_SNIFF_BYTES).includes('\0')
    ? { text: '', binary: true }
    : { text, binary: false };
}

function tooLarge(what: string): AppError {
  return new AppError(
    'payload_too_large',
    `"${what}" is larger than ${DIFF_MAX_BYTES / MiB} MiB; too large to compare.`,
  );
}

/** Run git in a repository folder; a timeout is an error, any exit code is the caller's to read. */
async function run(
  daemon: DaemonConnection,
  repo: string,
  args: string[],
  options: RunOptions = {},
): Promise<ExecResult> {
  const result = await daemon.exec('git', args, {
    cwd: repo || '.',
    env: { ...GIT_ENV, ...options.env },
    timeoutMs: options.timeoutMs ?? LOCAL_TIMEOUT_MS,
    ...(options.maxOutputBytes === undefined ? {} : { maxOutputBytes: options.maxOutputBytes }),
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
  });
  if (result.code === 127) {
    throw new AppError('git_failed', 'git is not installed in this workspace.');
  }
  if (result.timedOut) {
    throw new AppError(
      'timeout',
      `git ${args[0]} did not finish in ${Math.round((options.timeoutMs ?? LOCAL_TIMEOUT_MS) / 1000)} seconds and was stopped.`,
    );
  }
  return result;
}

// What git prints when a remote wants a sign-in it did not get (no credential) or refused one.
const NO_CREDENTIAL = /could not read (?:Username|Password) for '([^']+)'/i;
const REFUSED = /Authentication failed for '([^']+)'/i;
const HTTP_DENIED = /unable to access '([^']+)': The requested URL returned error: 40[13]/i;

/** The error for a failed git command: a sign-in the remote needs, or git's own message. */
export function gitFailure(result: ExecResult, command: string): AppError {
  const output = (result.stderr.trim() || result.stdout.trim()).slice(-4000);
  const missing = NO_CREDENTIAL.exec(output) ?? HTTP_DENIED.exec(output);
  if (missing) {
    const host = hostOf(missing[1]!);
    return new AppError(
      'git_auth_required',
      `${host} asked for a sign-in and this workspace has no credential for it. Add a token for ${host} in Settings → Git credentials, then try again.`,
      { host },
    );
  }
  const refused = REFUSED.exec(output);
  if (refused) {
    const host = hostOf(refused[1]!);
    return new AppError(
      'git_auth_required',
      `${host} refused the credential. Check or replace the token for ${host} in Settings → Git credentials.`,
      { host },
    );
  }
  if (/not a git repository/i.test(output)) {
    return new AppError('not_a_repository', output);
  }
  if ((command === 'branch' || command === 'checkout') && /already exists/i.test(output)) {
    return new AppError('already_exists', output);
  }
  return new AppError(
    'git_failed',
    output || `git ${command} failed with exit code ${result.code}`,
    {
      command,
      exitCode: result.code,
    },
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}
