// Where a code block from a reply goes in the file it is applied to: the selection it was asked
// about, else the region it rewrites (found by its first line, e.g. a function's signature, when
// that line occurs once), else the whole file. The diff shown before applying says which.

/** Lines (1-based, inclusive) of the file the snippet replaces, or `whole` for all of it. */
export type Placement = { kind: 'lines'; startLine: number; endLine: number } | { kind: 'whole' };

const indentOf = (line: string) => line.length - line.trimStart().length;

/** Where `code` belongs in `current`; `selection` is the person's, when they had one. */
export function placeSnippet(
  current: string,
  code: string,
  selection?: { startLine: number; endLine: number } | null,
): Placement {
  if (selection) return { kind: 'lines', ...selection };
  const lines = current.split('\n');
  const snippet = code.replace(/\n$/, '').split('\n');
  const first = snippet.find((line) => line.trim() !== '')?.trim();
  const last = [...snippet]
    .reverse()
    .find((line) => line.trim() !== '')
    ?.trim();
  if (first !== undefined && last !== undefined) {
    const starts = lines.flatMap((line, index) => (line.trim() === first ? [index] : []));
    // One place only: a line that occurs twice cannot say which of them is meant.
    if (starts.length === 1) {
      const start = starts[0]!;
      return { kind: 'lines', startLine: start + 1, endLine: endOf(lines, start, last) + 1 };
    }
  }
  return { kind: 'whole' };
}

/**
 * The last line (0-based) of the region starting at `start`: the first line after it equal to the
 * block's last line (a closing brace, say), else the end of the indented block it opens.
 */
function endOf(lines: string[], start: number, last: string): number {
  const indent = indentOf(lines[start]!);
  let end = start;
  for (let index = start + 1; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.trim() === '') continue;
    if (indentOf(line) <= indent) {
      // A closing line at the opener's indentation ends the region with it.
      if (line.trim() === last && /^[\])}]/.test(last)) end = index;
      break;
    }
    end = index;
  }
  return end;
}

/** `current` with `code` in the place `placement` names, keeping the file's final newline. */
export function applySnippet(current: string, code: string, placement: Placement): string {
  if (placement.kind === 'whole')
    return current.endsWith('\n') && !code.endsWith('\n') ? `${code}\n` : code;
  const lines = current.split('\n');
  const replacement = code.replace(/\n$/, '').split('\n');
  lines.splice(
    placement.startLine - 1,
    placement.endLine - placement.startLine + 1,
    ...replacement,
  );
  return lines.join('\n');
}
