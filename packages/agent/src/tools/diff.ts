import { createTwoFilesPatch } from 'diff';
import type { ToolContext } from './tool.ts';

/** A unified diff of one file's change, as an approval card shows it. */
export function fileDiff(path: string, before: string, after: string): string {
  const patch = createTwoFilesPatch(`a/${path}`, `b/${path}`, before, after, undefined, undefined, {
    context: 3,
  });
  // jsdiff starts with a row of "=" under an (empty) "Index:" line; git diffs start at "---".
  return patch.replace(/^(Index:.*\n)?=+\n/, '');
}

/** The file's text, or `null` when it does not exist. */
export async function readIfExists(context: ToolContext, path: string): Promise<string | null> {
  try {
    const file = await context.daemon.call('files.read', { path });
    return file.binary ? `[binary file, ${file.size} bytes]` : file.content;
  } catch (error) {
    if ((error as { code?: string }).code === 'not_found') return null;
    throw error;
  }
}
