import { z } from 'zod';
import { git, repoPath } from './git-run.ts';
import { capText, defineTool } from './tool.ts';

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
