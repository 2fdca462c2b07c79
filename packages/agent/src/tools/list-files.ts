import { z } from 'zod';
import { capText, defineTool } from './tool.ts';

const MAX_ENTRIES = 500;

export const listFiles = defineTool({
  name: 'list_files',
  description:
    'List the files and folders in a folder of the workspace (paths relative to the home folder). ' +
    'Set depth above 1 to list subfolders too. Folders end with "/".',
  kind: 'read',
  inputSchema: z.object({
    path: z.string().default('.').describe('Folder relative to the home folder; "." is the home.'),
    depth: z.int().min(1).max(4).default(1).describe('How many levels to descend (1–4).'),
  }),
  subject: (input) => input.path,
  describe: async (input) => ({ summary: `list_files: ${input.path}` }),
  async execute(input, context) {
    const lines: string[] = [];
    const walk = async (path: string, level: number): Promise<void> => {
      const { entries } = await context.daemon.call('files.list', { path });
      for (const entry of entries) {
        if (lines.length >= MAX_ENTRIES) return;
        const isDir = entry.type === 'directory';
        lines.push(`${'  '.repeat(level)}${entry.name}${isDir ? '/' : ''}`);
        // Dependency and VCS folders would drown everything else.
        if (isDir && level + 1 < input.depth && !SKIP.has(entry.name))
          await walk(entry.path, level + 1);
      }
    };
    await walk(input.path, 0);
    if (lines.length === 0) return `${input.path} is empty.`;
    const more = lines.length >= MAX_ENTRIES ? `\n… (stopped at ${MAX_ENTRIES} entries)` : '';
    return capText(lines.join('\n') + more);
  },
});

const SKIP = new Set(['.git', 'node_modules', '.venv', '__pycache__', 'dist', 'build', 'target']);
