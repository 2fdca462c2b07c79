import { z } from 'zod';
import { runInWorkspace } from './exec.ts';
import { ToolError, type ToolContext } from './tool.ts';

/** The `path` argument every git tool takes. */
export const repoPath = z
  .string()
  .default('.')
  .describe('Repository folder relative to the home folder.');

/** Runs git in the workspace; a non-zero exit is a `ToolError` the model reads. */
export async function git(context: ToolContext, cwd: string, args: string[]): Promise<string> {
  const result = await runInWorkspace(context, 'git', args, {
    cwd,
    timeoutMs: 60_000,
    maxOutputBytes: 512 * 1024,
  });
  if (result.code !== 0)
    throw new ToolError(`git ${args[0]} failed (exit ${result.code}): ${result.output.trim()}`);
  return result.output;
}
