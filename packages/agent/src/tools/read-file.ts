import { z } from 'zod';
import { capText, defineTool, ToolError } from './tool.ts';

const MAX_BYTES = 2 * 1024 * 1024;

export const readFile = defineTool({
  name: 'read_file',
  description:
    'Read a text file of the workspace, with line numbers. For long files pass startLine/endLine ' +
    '(1-based, inclusive) to read a range.',
  kind: 'read',
  inputSchema: z.object({
    path: z.string().min(1).describe('File path relative to the home folder.'),
    startLine: z.int().min(1).optional(),
    endLine: z.int().min(1).optional(),
  }),
  subject: (input) => input.path,
  describe: async (input) => ({ summary: `read_file: ${input.path}`, path: input.path }),
  async execute(input, context) {
    const file = await context.daemon.call('files.read', { path: input.path, maxBytes: MAX_BYTES });
    if (file.binary) throw new ToolError(`${input.path} is a binary file (${file.size} bytes).`);
    const lines = file.content.split('\n');
    const start = input.startLine ?? 1;
    const end = Math.min(input.endLine ?? lines.length, lines.length);
    if (start > lines.length)
      throw new ToolError(
        `${input.path} has only ${lines.length} lines; startLine ${start} is past the end.`,
      );
    const width = String(end).length;
    const numbered = lines
      .slice(start - 1, end)
      .map((line, index) => `${String(start + index).padStart(width)}| ${line}`)
      .join('\n');
    const header =
      start > 1 || end < lines.length ? `(lines ${start}–${end} of ${lines.length})\n` : '';
    return capText(header + numbered);
  },
});
