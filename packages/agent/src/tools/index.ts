import { editFile } from './edit-file.ts';
import { fetchUrl } from './fetch-url.ts';
import { gitCommit } from './git-commit.ts';
import { gitDiff } from './git-diff.ts';
import { gitStatus } from './git-status.ts';
import { listFiles } from './list-files.ts';
import { readFile } from './read-file.ts';
import { runCommand } from './run-command.ts';
import { search } from './search.ts';
import type { AgentTool } from './tool.ts';
import { writeFile } from './write-file.ts';

/** Every built-in tool, in the order the model sees them. */
export const BUILTIN_TOOLS: readonly AgentTool[] = [
  listFiles,
  readFile,
  search,
  gitStatus,
  gitDiff,
  writeFile,
  editFile,
  runCommand,
  gitCommit,
  fetchUrl,
];
