import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { DaemonParsedParams, DaemonResult, SearchMatch } from '@studio/protocol';
import { DaemonFailure } from './errors.ts';
import { resolveInRoot, toWorkspacePath } from './paths.ts';

// The fallback walker's bounds: large files are rarely what a text search is for, and a workspace
// without ripgrep must not be scanned for minutes.
const BUILTIN_MAX_FILE_BYTES = 1024 * 1024;
const BUILTIN_MAX_FILES = 50_000;
const BUILTIN_TIME_LIMIT_MS = 10_000;
const SKIPPED_DIRECTORIES = new Set(['.git', 'node_modules']);
// A match line can be a minified bundle; the client needs context, not the whole line.
const MAX_LINE_CHARS = 500;

/** Find `rg` on a PATH; `null` when it is not installed. */
export async function findRipgrep(searchPath: string | undefined): Promise<string | null> {
  for (const dir of (searchPath ?? '').split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, 'rg');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}

/** Text search below a workspace path, with ripgrep when given one, else a bounded walk. */
export async function searchText(
  root: string,
  params: DaemonParsedParams<'search.text'>,
  ripgrep: string | null,
): Promise<DaemonResult<'search.text'>> {
  const base = await resolveInRoot(root, params.path);
  await stat(base);
  if (params.regex) {
    try {
      new RegExp(params.query);
    } catch {
      throw new DaemonFailure(
        'bad_request',
        'The search pattern is not a valid regular expression',
      );
    }
  }
  return ripgrep
    ? searchWithRipgrep(root, base, params, ripgrep)
    : searchBuiltin(root, base, params);
}

function searchWithRipgrep(
  root: string,
  base: string,
  params: DaemonParsedParams<'search.text'>,
  ripgrep: string,
): Promise<DaemonResult<'search.text'>> {
  const args = ['--json', '--max-filesize', '1M', '--glob', '!.git', '--glob', '!node_modules'];
  if (!params.regex) args.push('--fixed-strings');
  args.push(params.caseSensitive ? '--case-sensitive' : '--ignore-case');
  args.push('--regexp', params.query, '--', base);
  return new Promise((resolve, reject) => {
    const child = spawn(ripgrep, args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
    const matches: SearchMatch[] = [];
    let truncated = false;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (truncated) return;
      let message: RipgrepMessage;
      try {
        message = JSON.parse(line) as RipgrepMessage;
      } catch {
        return;
      }
      if (message.type !== 'match' || !message.data.path.text) return;
      const text = message.data.lines.text ?? '';
      const bytes = Buffer.from(text);
      const { start = 0, end = start } = message.data.submatches[0] ?? {};
      const charsTo = (offset: number) => bytes.subarray(0, offset).toString('utf8').length;
      matches.push({
        path: toWorkspacePath(root, path.resolve(root, message.data.path.text)),
        line: message.data.line_number,
        column: charsTo(start) + 1,
        length: charsTo(end) - charsTo(start),
        text: trimLine(text),
      });
      if (matches.length >= params.maxResults) {
        truncated = true;
        child.kill();
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve({ matches, truncated, engine: 'ripgrep' }));
  });
}

interface RipgrepMessage {
  type: string;
  data: {
    path: { text?: string };
    lines: { text?: string };
    line_number: number;
    submatches: { start: number; end: number }[];
  };
}

async function searchBuiltin(
  root: string,
  base: string,
  params: DaemonParsedParams<'search.text'>,
): Promise<DaemonResult<'search.text'>> {
  const source = params.regex ? params.query : params.query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(source, params.caseSensitive ? '' : 'i');
  const matches: SearchMatch[] = [];
  const deadline = Date.now() + BUILTIN_TIME_LIMIT_MS;
  let filesSeen = 0;
  let truncated = false;
  const stack = [base];
  while (stack.length > 0 && !truncated) {
    const current = stack.pop()!;
    const stats = await stat(current).catch(() => null);
    if (!stats) continue;
    if (stats.isDirectory()) {
      const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
      for (const entry of entries.reverse()) {
        if (entry.isDirectory() && SKIPPED_DIRECTORIES.has(entry.name)) continue;
        // Symlinks are not followed: they may lead outside the workspace or loop.
        if (entry.isDirectory() || entry.isFile()) stack.push(path.join(current, entry.name));
      }
      continue;
    }
    if (!stats.isFile() || stats.size > BUILTIN_MAX_FILE_BYTES) continue;
    filesSeen += 1;
    if (filesSeen > BUILTIN_MAX_FILES || Date.now() > deadline) {
      truncated = true;
      break;
    }
    const content = await readSmallFile(current);
    if (!content || content.subarray(0, 8192).includes(0)) continue;
    const lines = content.toString('utf8').split('\n');
    for (let index = 0; index < lines.length; index++) {
      const found = pattern.exec(lines[index]!);
      if (!found) continue;
      matches.push({
        path: toWorkspacePath(root, current),
        line: index + 1,
        column: found.index + 1,
        length: found[0].length,
        text: trimLine(lines[index]!),
      });
      if (matches.length >= params.maxResults) {
        truncated = true;
        break;
      }
    }
  }
  return { matches, truncated, engine: 'builtin' };
}

async function readSmallFile(file: string): Promise<Buffer | null> {
  try {
    const handle = await open(file, 'r');
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}

function trimLine(text: string): string {
  const line = text.replace(/\r?\n$/, '');
  return line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line;
}
