import { z } from 'zod';
import { runInWorkspace } from './exec.ts';
import { capText, defineTool, ToolError, type ToolContext } from './tool.ts';

const repoPath = z.string().default('.').describe('Repository folder relative to the home folder.');

async function git(context: ToolContext, cwd: string, args: string[]): Promise<string> {
  const result = await runInWorkspace(context, 'git', args, {
    cwd,
    timeoutMs: 60_000,
    maxOutputBytes: 512 * 1024,
  });
  if (result.code !== 0)
    throw new ToolError(`git ${args[0]} failed (exit ${result.code}): ${result.output.trim()}`);
  return result.output;
}

export const gitStatus = defineTool({
  name: 'git_status',
  description: 'Show the branch and the changed, staged and untracked files of a git repository.',
  kind: 'read',
  inputSchema: z.object({ path: repoPath }),
  subject: (input) => input.path,
  describe: async (input) => ({ summary: `git_status: ${input.path}` }),
  execute: async (input, context) =>
    capText((await git(context, input.path, ['status', '--short', '--branch'])).trim() || 'clean'),
});

export const gitDiff = defineTool({
  name: 'git_diff',
  description: 'Show the unstaged changes (or staged ones with staged: true) of a git repository.',
  kind: 'read',
  inputSchema: z.object({
    path: repoPath,
    staged: z.boolean().default(false),
    file: z
      .string()
      .optional()
      .describe('Limit the diff to this file (relative to the repository).'),
  }),
  subject: (input) => input.path,
  describe: async (input) => ({ summary: `git_diff: ${input.path}` }),
  async execute(input, context) {
    const args = [
      'diff',
      ...(input.staged ? ['--staged'] : []),
      ...(input.file ? ['--', input.file] : []),
    ];
    return capText((await git(context, input.path, args)) || 'No changes.');
  },
});

export const gitCommit = defineTool({
  name: 'git_commit',
  description:
    'Commit in a git repository with the given message, as the person you work for. ' +
    'By default stages every change first (git add -A); pass files to commit only those.',
  kind: 'write',
  inputSchema: z.object({
    path: repoPath,
    message: z.string().min(1).max(10_000),
    files: z.array(z.string().min(1)).max(500).optional(),
  }),
  subject: (input) => input.message,
  describe: async (input) => ({
    summary: `git_commit: ${input.message.split('\n')[0]}`,
    command: `git add ${input.files?.join(' ') ?? '-A'} && git commit -m ${JSON.stringify(input.message)}`,
  }),
  async execute(input, context) {
    await git(context, input.path, ['add', ...(input.files ? ['--', ...input.files] : ['-A'])]);
    const { name, email } = context.identity;
    const out = await git(context, input.path, [
      '-c',
      `user.name=${name}`,
      '-c',
      `user.email=${email}`,
      'commit',
      '-m',
      input.message,
    ]);
    return capText(out.trim());
  },
});
