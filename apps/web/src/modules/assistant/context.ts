import type { ContextItem } from '@studio/protocol';

/** The editor as the chips see it (the shape `EditorSnapshot` has; kept local to stay pure). */
export interface EditorView {
  path: string;
  selection: { startLine: number; endLine: number; text: string } | null;
  diagnostics: { line: number; severity: 'error' | 'warning' | 'info'; message: string }[];
}

/** The shown terminal as its chip sees it (the shape `ActiveTerminal` has; kept local to stay pure). */
export interface TerminalSource {
  title: string;
  readOutput(maxLines: number): string;
}

/** The automatic chips above the input; each can be switched off. */
export type ChipKind = 'file' | 'selection' | 'tabs' | 'diagnostics' | 'terminal';

/** Chips that start switched off: terminal output is often noise, so the person opts in. */
export const CHIPS_OFF_BY_DEFAULT: ReadonlySet<ChipKind> = new Set(['terminal']);

/** One chip: what it attaches and how it reads. */
export interface ContextChip {
  kind: ChipKind;
  label: string;
  /** What it attaches, or how to read it when the message is sent (`null`: nothing to attach). */
  item: ContextItem | (() => ContextItem | null);
}

/** How many lines of the terminal a message carries: enough for a failing command's output. */
export const TERMINAL_CONTEXT_LINES = 200;
// The protocol's cap on context text; a long line of output must not make the send fail.
const MAX_CONTEXT_TEXT = 200_000;

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The chips the editor offers right now: current file, selection, open tabs, problems. */
export function editorChips(editor: EditorView | null, tabs: string[]): ContextChip[] {
  const chips: ContextChip[] = [];
  if (editor) {
    chips.push({
      kind: 'file',
      label: baseName(editor.path),
      item: { kind: 'file', path: editor.path },
    });
    if (editor.selection) {
      const { startLine, endLine, text } = editor.selection;
      chips.push({
        kind: 'selection',
        label: `Selection ${baseName(editor.path)}:${startLine}${endLine === startLine ? '' : `–${endLine}`}`,
        item: { kind: 'selection', path: editor.path, startLine, endLine, text },
      });
    }
    if (editor.diagnostics.length > 0) {
      const count = editor.diagnostics.length;
      chips.push({
        kind: 'diagnostics',
        label: `${count} problem${count === 1 ? '' : 's'}`,
        item: { kind: 'diagnostics', path: editor.path, items: editor.diagnostics },
      });
    }
  }
  const paths = tabs.filter((tab) => !tab.includes(':')).slice(0, 50);
  if (paths.length > 1) {
    chips.push({
      kind: 'tabs',
      label: `${paths.length} open tabs`,
      item: { kind: 'tabs', paths },
    });
  }
  return chips;
}

/** The chip of the shown terminal, if any; its output is read only when the message is sent. */
export function terminalChips(terminal: TerminalSource | null): ContextChip[] {
  if (!terminal) return [];
  const title = terminal.title.slice(0, 200);
  return [
    {
      kind: 'terminal',
      label: `Terminal: ${title}`,
      item: () => {
        const text = terminal.readOutput(TERMINAL_CONTEXT_LINES).slice(-MAX_CONTEXT_TEXT);
        return text.trim() ? { kind: 'terminal', title, text } : null;
      },
    },
  ];
}

/** The context a message carries: the chips left on, then the `@file` mentions, without repeats. */
export function buildContext(
  chips: ContextChip[],
  off: ReadonlySet<ChipKind>,
  mentions: string[],
): ContextItem[] {
  const items = chips
    .filter((chip) => !off.has(chip.kind))
    .flatMap((chip) => {
      const item = typeof chip.item === 'function' ? chip.item() : chip.item;
      return item ? [item] : [];
    });
  const files = new Set(items.flatMap((item) => (item.kind === 'file' ? [item.path] : [])));
  for (const path of mentions) {
    if (files.has(path)) continue;
    files.add(path);
    items.push({ kind: 'file', path });
  }
  return items.slice(0, 50);
}

/** An `@` being typed: where it starts and what follows it, up to the caret. */
export interface MentionQuery {
  start: number;
  query: string;
}

/** The `@mention` the caret is in, if any: `@` at the start or after whitespace, no spaces since. */
export function mentionAt(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([^\s@]*)$/.exec(before);
  if (!match) return null;
  return { start: caret - match[2]!.length - 1, query: match[2]! };
}

/** Replace the mention at `mention.start..caret` with `@path `; answers the text and the new caret. */
export function insertMention(
  text: string,
  mention: MentionQuery,
  caret: number,
  path: string,
): { text: string; caret: number } {
  const inserted = `@${path} `;
  return {
    text: text.slice(0, mention.start) + inserted + text.slice(caret),
    caret: mention.start + inserted.length,
  };
}

/** The mentioned paths still present in the text (a deleted `@path` detaches its file). */
export function mentionsInText(text: string, mentions: string[]): string[] {
  return mentions.filter((path) => new RegExp(`(^|\\s)@${escapeRegExp(path)}(?=\\s|$)`).test(text));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
