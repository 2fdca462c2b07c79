import type { ContextItem } from '@studio/protocol';

// Fence names people and models write, mapped to Monaco's language ids.
const LANGUAGE_ALIASES: Record<string, string> = {
  ts: 'typescript',
  tsx: 'typescript',
  typescript: 'typescript',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  javascript: 'javascript',
  py: 'python',
  python: 'python',
  sh: 'shell',
  bash: 'shell',
  zsh: 'shell',
  shell: 'shell',
  console: 'shell',
  yml: 'yaml',
  yaml: 'yaml',
  json: 'json',
  jsonc: 'json',
  md: 'markdown',
  markdown: 'markdown',
  rs: 'rust',
  rust: 'rust',
  go: 'go',
  golang: 'go',
  rb: 'ruby',
  ruby: 'ruby',
  cs: 'csharp',
  csharp: 'csharp',
  'c++': 'cpp',
  cpp: 'cpp',
  c: 'c',
  h: 'c',
  kt: 'kotlin',
  dockerfile: 'dockerfile',
  docker: 'dockerfile',
  html: 'html',
  xml: 'xml',
  css: 'css',
  scss: 'scss',
  sql: 'sql',
  java: 'java',
  php: 'php',
  diff: 'plaintext',
};

/** Monaco's language id for a fenced block's info string (`ts`, `language-ts`); plaintext if unknown. */
export function monacoLanguage(fence: string | undefined, known: readonly string[] = []): string {
  const name = (fence ?? '')
    .replace(/^language-/, '')
    .trim()
    .toLowerCase();
  if (!name) return 'plaintext';
  return LANGUAGE_ALIASES[name] ?? (known.includes(name) ? name : 'plaintext');
}

function field(input: unknown, name: string): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const value = (input as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** One line saying what a tool call does: its command, path, query, URL or desktop action. */
export function toolSummary(tool: string, input: unknown): string {
  // The desktop: what it does and where, e.g. `left_click 300,200` or `type echo done`.
  const action = field(input, 'action');
  if (action !== undefined) {
    const at = (input as { coordinate?: unknown }).coordinate;
    const where = Array.isArray(at) ? at.join(',') : undefined;
    return [action, where, field(input, 'text')].filter(Boolean).join(' ').slice(0, 200);
  }
  // A deployment: the template and the job.
  const template = field(input, 'template');
  const requirement = field(input, 'requirement');
  if (template !== undefined && requirement !== undefined)
    return `${template}: ${requirement.split('\n')[0]}`.slice(0, 200);
  const subject =
    field(input, 'command') ??
    field(input, 'path') ??
    field(input, 'query') ??
    field(input, 'pattern') ??
    field(input, 'url') ??
    field(input, 'message');
  if (subject !== undefined) return subject.split('\n')[0]!.slice(0, 200);
  if (input === undefined || input === null) return '';
  const json = JSON.stringify(input);
  return json === '{}' ? '' : json.slice(0, 200);
}

/** How a line of a unified diff is coloured. */
export function diffLineKind(line: string): 'add' | 'remove' | 'hunk' | 'meta' | 'context' {
  if (line.startsWith('+++') || line.startsWith('---')) return 'meta';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'remove';
  if (line.startsWith('diff ') || line.startsWith('index ')) return 'meta';
  return 'context';
}

/** The prompt each editor quick action sends. */
export const QUICK_ACTION_PROMPTS = {
  explain: 'Explain the selected code.',
  tests: 'Write tests for the selected code.',
  optimise: 'Optimise the selected code, keeping its behaviour.',
  fix: 'Fix the error in the selected code.',
} as const;

/** A quick action's message: its prompt, and the selection (plus its problems for "Fix"). */
export function quickActionContext(action: {
  kind: keyof typeof QUICK_ACTION_PROMPTS;
  path: string;
  selection: { startLine: number; endLine: number; text: string };
  diagnostics: { line: number; severity: 'error' | 'warning' | 'info'; message: string }[];
}): ContextItem[] {
  const items: ContextItem[] = [{ kind: 'selection', path: action.path, ...action.selection }];
  if (action.kind === 'fix' && action.diagnostics.length > 0) {
    items.push({ kind: 'diagnostics', path: action.path, items: action.diagnostics });
  }
  return items;
}

/** A conversation title from the first message: its first line, shortened. */
export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0]!.trim();
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || 'New conversation';
}
