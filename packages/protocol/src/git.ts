import { z } from 'zod';
import { workspacePathSchema } from './files.ts';

/**
 * A repository folder relative to the workspace home; '' and '.' mean the home itself. The daemon
 * resolves it inside the workspace like every files API path (`path_outside_workspace` otherwise).
 */
export const gitRepoPathSchema = workspacePathSchema.default('');

/** A path inside a repository, as git names it (relative to the repository's top folder). */
export const gitFilePathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((value) => !value.includes('\0'), 'must not contain NUL bytes')
  .refine(
    (value) => !value.startsWith('/') && !value.split('/').includes('..'),
    'must be a path inside the repository (no leading "/" and no "..")',
  );

// Query strings carry text; `z.coerce.boolean()` would read "false" as true.
const queryFlag = z
  .enum(['true', 'false'])
  .transform((value) => value === 'true')
  .default(false);

/** One git repository of a workspace. */
export const gitRepoSchema = z.object({
  /** Folder relative to the home; '' is the home itself. */
  path: z.string(),
  /** The checked-out branch; `null` when HEAD is detached. */
  branch: z.string().nullable(),
});
/** One git repository of a workspace. */
export type GitRepo = z.infer<typeof gitRepoSchema>;

/** `GET /api/workspaces/:name/git/repos`: repositories at the home or up to 2 levels below it. */
export const gitRepoListSchema = z.object({ repos: z.array(gitRepoSchema) });
/** The repositories of a workspace. */
export type GitRepoList = z.infer<typeof gitRepoListSchema>;

/**
 * A porcelain-v2 status letter: '.' unchanged, 'M' modified, 'A' added, 'D' deleted, 'R' renamed,
 * 'C' copied, 'U' unmerged (both sides of a conflict), '?' untracked (both sides).
 */
export const gitStatusLetterSchema = z.enum(['.', 'M', 'A', 'D', 'R', 'C', 'U', '?']);
/** A porcelain-v2 status letter. */
export type GitStatusLetter = z.infer<typeof gitStatusLetterSchema>;

/** One changed path: `index` is staged vs HEAD, `worktree` is the working file vs the index. */
export const gitFileStatusSchema = z.object({
  path: z.string(),
  /** Where a rename or copy came from. */
  origPath: z.string().optional(),
  index: gitStatusLetterSchema,
  worktree: gitStatusLetterSchema,
});
/** One changed path. */
export type GitFileStatus = z.infer<typeof gitFileStatusSchema>;

/** `GET /api/workspaces/:name/git/status?repo=` (also the answer of every change to the index). */
export const gitStatusSchema = z.object({
  repo: z.string(),
  /** `null` when HEAD is detached. */
  branch: z.string().nullable(),
  /** Short commit id of HEAD; `null` in a repository with no commits yet. */
  head: z.string().nullable(),
  /** The upstream branch (`origin/main`), if any. */
  upstream: z.string().nullable(),
  ahead: z.number().int(),
  behind: z.number().int(),
  files: z.array(gitFileStatusSchema),
});
/** A repository's status. */
export type GitStatus = z.infer<typeof gitStatusSchema>;

/** A query naming a repository. */
export const gitRepoQuerySchema = z.object({ repo: gitRepoPathSchema });

/** `GET /api/workspaces/:name/git/diff?repo=&path=&staged=`. */
export const gitDiffQuerySchema = z.object({
  repo: gitRepoPathSchema,
  path: gitFilePathSchema,
  staged: queryFlag,
});
/** Query of `GET /api/workspaces/:name/git/diff`. */
export type GitDiffQuery = z.input<typeof gitDiffQuerySchema>;

/**
 * Both sides of one file's change, for a diff editor. Staged: HEAD → index. Unstaged: index →
 * working file. A missing side is ''. Binary files have both sides ''.
 */
export const gitDiffSchema = z.object({
  path: z.string(),
  original: z.string(),
  modified: z.string(),
  binary: z.boolean(),
});
/** Both sides of one file's change. */
export type GitDiff = z.infer<typeof gitDiffSchema>;

/** `POST /api/workspaces/:name/git/{stage,unstage,discard}`. */
export const gitPathsBodySchema = z.strictObject({
  repo: gitRepoPathSchema,
  paths: z.array(gitFilePathSchema).min(1).max(10_000),
});
/** Body of the stage, unstage and discard requests. */
export type GitPathsBody = z.input<typeof gitPathsBodySchema>;

/** `POST /api/workspaces/:name/git/commit`. */
export const gitCommitBodySchema = z.strictObject({
  repo: gitRepoPathSchema,
  message: z.string().max(100_000).trim().min(1, 'must not be empty'),
  amend: z.boolean().default(false),
});
/** Body of `POST /api/workspaces/:name/git/commit`. */
export type GitCommitBody = z.input<typeof gitCommitBodySchema>;

/** What a commit made. */
export const gitCommitSchema = z.object({
  /** The full commit id. */
  sha: z.string(),
  /** The first line of the message. */
  summary: z.string(),
});
/** What a commit made. */
export type GitCommit = z.infer<typeof gitCommitSchema>;

/** One branch; remote branches are named `origin/main`. */
export const gitBranchSchema = z.object({
  name: z.string(),
  remote: z.boolean(),
  /** The upstream of a local branch (`origin/main`). */
  upstream: z.string().optional(),
});
/** One branch. */
export type GitBranch = z.infer<typeof gitBranchSchema>;

/** `GET /api/workspaces/:name/git/branches?repo=`. */
export const gitBranchListSchema = z.object({
  /** The checked-out branch; `null` when HEAD is detached. */
  current: z.string().nullable(),
  branches: z.array(gitBranchSchema),
});
/** The branches of a repository. */
export type GitBranchList = z.infer<typeof gitBranchListSchema>;

// Git checks names itself (`git check-ref-format --branch`); this only keeps options out.
const refName = z
  .string()
  .min(1)
  .max(255)
  .refine((value) => !value.startsWith('-'), 'must not start with "-"')
  .refine((value) => !value.includes('\0'), 'must not contain NUL bytes');

/** `POST /api/workspaces/:name/git/branches`. */
export const gitCreateBranchBodySchema = z.strictObject({
  repo: gitRepoPathSchema,
  name: refName,
  /** Switch to the new branch. */
  checkout: z.boolean().default(false),
  /** The commit, branch or tag to start from; HEAD when absent. */
  from: refName.optional(),
});
/** Body of `POST /api/workspaces/:name/git/branches`. */
export type GitCreateBranchBody = z.input<typeof gitCreateBranchBodySchema>;

/** `POST /api/workspaces/:name/git/checkout`: a local branch, or a remote one (`origin/x`). */
export const gitCheckoutBodySchema = z.strictObject({
  repo: gitRepoPathSchema,
  branch: refName,
});
/** Body of `POST /api/workspaces/:name/git/checkout`. */
export type GitCheckoutBody = z.input<typeof gitCheckoutBodySchema>;

/** `POST /api/workspaces/:name/git/push`. */
export const gitPushBodySchema = z.strictObject({
  repo: gitRepoPathSchema,
  /** Push the current branch to the remote and make it the upstream (`git push -u`). */
  setUpstream: z.boolean().default(false),
});
/** Body of `POST /api/workspaces/:name/git/push`. */
export type GitPushBody = z.input<typeof gitPushBodySchema>;

/** `POST /api/workspaces/:name/git/{pull,fetch}`. */
export const gitRepoBodySchema = z.strictObject({ repo: gitRepoPathSchema });
/** Body of the pull and fetch requests. */
export type GitRepoBody = z.input<typeof gitRepoBodySchema>;

/** What git printed during a push, pull or fetch. */
export const gitRemoteOutputSchema = z.object({ output: z.string() });
/** What git printed during a push, pull or fetch. */
export type GitRemoteOutput = z.infer<typeof gitRemoteOutputSchema>;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** True for `host` or `host:port` with a DNS name or IPv4 address and a port from 1 to 65535. */
function isGitHost(value: string): boolean {
  const [name = '', port, ...rest] = value.split(':');
  if (rest.length > 0 || name.length > 253) return false;
  if (port !== undefined && !(/^[1-9]\d{0,4}$/.test(port) && Number(port) <= 65_535)) return false;
  return name.split('.').every((label) => LABEL.test(label));
}

/** A git host as credentials name it: a hostname or IPv4 address with an optional port. */
export const gitHostSchema = z
  .string()
  .max(260)
  .transform((value) => value.toLowerCase())
  .refine(
    isGitHost,
    'must be a host name with an optional :port, like github.com or git.example.com:8443',
  );

/** A stored git credential as the API shows it: never the token. */
export const gitCredentialSchema = z.object({
  host: z.string(),
  username: z.string(),
  createdAt: z.string(),
});
/** A stored git credential (without its token). */
export type GitCredential = z.infer<typeof gitCredentialSchema>;

/** `GET /api/me/git-credentials`. */
export const gitCredentialListSchema = z.object({ credentials: z.array(gitCredentialSchema) });
/** The caller's git credentials. */
export type GitCredentialList = z.infer<typeof gitCredentialListSchema>;

/** `PUT /api/me/git-credentials/:host`. */
export const putGitCredentialBodySchema = z.strictObject({
  /** The user name git sends with the token; most hosts accept any for a token. */
  username: z
    .string()
    .min(1)
    .max(256)
    // eslint-disable-next-line no-control-regex -- control characters are what it refuses
    .regex(/^[^\s:\u0000-\u001f\u007f]+$/, 'must not contain spaces, control characters or ":"')
    .optional(),
  token: z
    .string()
    .min(1, 'must not be empty')
    .max(8192)
    .regex(/^[^\r\n\0]+$/, 'must be one line'),
});
/** Body of `PUT /api/me/git-credentials/:host`. */
export type PutGitCredentialBody = z.input<typeof putGitCredentialBodySchema>;
