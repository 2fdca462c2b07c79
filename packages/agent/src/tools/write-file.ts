import { z } from 'zod';
import { fileDiff, readIfExists } from './diff.ts';
import { defineTool } from './tool.ts';

export const writeFile = defineTool({
  name: 'write_file',
  description:
    'Create a file, or replace a whole file, with the given content. Parent folders are created. ' +
    'To change part of an existing file prefer edit_file.',
  kind: 'write',
  inputSchema: z.object({
    path: z.string().min(1).describe('File path relative to the home folder.'),
    content: z.string().max(4 * 1024 * 1024),
  }),
  subject: (input) => input.path,
  async describe(input, context) {
    const before = await readIfExists(context, input.path);
    return {
      summary: `write_file: ${before === null ? 'create' : 'replace'} ${input.path}`,
      path: input.path,
      diff: fileDiff(input.path, before ?? '', input.content),
    };
  },
  async execute(input, context) {
    const before = await readIfExists(context, input.path);
    const result = await context.daemon.call('files.write', {
      path: input.path,
      content: input.content,
      createParents: true,
      ...(context.author ? { author: context.author } : {}),
    });
    const lines = input.content.split('\n').length;
    return `${before === null ? 'Created' : 'Replaced'} ${input.path} (${lines} lines, ${result.size} bytes).`;
  },
});
