import { z } from 'zod';
import { git, repoPath } from './git-run.ts';
import { capText, defineTool } from './tool.ts';

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
