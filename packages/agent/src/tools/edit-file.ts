import { z } from 'zod';
import { fileDiff } from './diff.ts';
import { defineTool, ToolError, type ToolContext } from './tool.ts';

interface EditInput {
  path: string;
  oldText: string;
  newText: string;
}

/** The file after the edit, and its version; refuses a missing or non-unique match. */
async function applyEdit(input: EditInput, context: ToolContext) {
  const file = await context.daemon.call('files.read', { path: input.path });
  if (file.binary) throw new ToolError(`${input.path} is a binary file.`);
  const first = file.content.indexOf(input.oldText);
  if (first === -1)
    throw new ToolError(
      `oldText was not found in ${input.path}. Read the file again and copy the exact text, including whitespace.`,
    );
  const count = countOccurrences(file.content, input.oldText);
  if (count > 1)
    throw new ToolError(
      `oldText occurs ${count} times in ${input.path}; include more surrounding lines so it matches exactly once.`,
    );
  const after =
    file.content.slice(0, first) + input.newText + file.content.slice(first + input.oldText.length);
  return { before: file.content, after, version: file.version };
}

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) count++;
  return count;
}

export const editFile = defineTool({
  name: 'edit_file',
  description:
    'Replace one exact piece of text in a file. oldText must match the file exactly (whitespace ' +
    'included) and exactly once; include enough surrounding lines to make it unique.',
  kind: 'write',
  inputSchema: z.object({
    path: z.string().min(1),
    oldText: z.string().min(1),
    newText: z.string(),
  }),
  subject: (input) => input.path,
  async describe(input, context) {
    const { before, after } = await applyEdit(input, context);
    return {
      summary: `edit_file: ${input.path}`,
      path: input.path,
      diff: fileDiff(input.path, before, after),
    };
  },
  async execute(input, context) {
    const { after, version } = await applyEdit(input, context);
    // The version check refuses the write if the file changed since it was read.
    await context.daemon.call('files.write', {
      path: input.path,
      content: after,
      expectedVersion: version,
      ...(context.author ? { author: context.author } : {}),
    });
    return `Edited ${input.path}.`;
  },
});
