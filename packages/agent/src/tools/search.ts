import { z } from 'zod';
import { capText, defineTool } from './tool.ts';

export const search = defineTool({
  name: 'search',
  description:
    'Search the text of the files in the workspace (ripgrep). Returns path:line: text for each match.',
  kind: 'read',
  inputSchema: z.object({
    query: z.string().min(1).max(1000),
    path: z.string().default('.').describe('Folder to search in, relative to the home folder.'),
    regex: z.boolean().default(false),
    caseSensitive: z.boolean().default(false),
  }),
  subject: (input) => input.query,
  describe: async (input) => ({ summary: `search: ${input.query}` }),
  async execute(input, context) {
    const result = await context.daemon.call('search.text', { ...input, maxResults: 200 });
    if (result.matches.length === 0) return `No matches for ${JSON.stringify(input.query)}.`;
    const lines = result.matches.map(
      (match) => `${match.path}:${match.line}: ${match.text.trim()}`,
    );
    if (result.truncated) lines.push('… (more matches not shown; narrow the search)');
    return capText(lines.join('\n'));
  },
});
