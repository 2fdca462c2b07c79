import { z } from 'zod';
import { git, repoPath } from './git-run.ts';
import { capText, defineTool } from './tool.ts';

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
