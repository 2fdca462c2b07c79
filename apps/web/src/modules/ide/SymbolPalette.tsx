import { useRef, useState } from 'react';
import { Palette, useCapturedKey } from '../palette/Palette.tsx';
import type { FoundSymbol } from './editor/language-client.ts';

/** Ctrl/Cmd+T, VS Code's "Go to Symbol in Workspace". */
function isSymbolShortcut(event: KeyboardEvent): boolean {
  return (
    (event.ctrlKey || event.metaKey) && !event.shiftKey && !event.altKey && event.code === 'KeyT'
  );
}

// LSP's SymbolKind, 1-based, as a short word.
const KINDS = [
  'file',
  'module',
  'namespace',
  'package',
  'class',
  'method',
  'property',
  'field',
  'constructor',
  'enum',
  'interface',
  'function',
  'variable',
  'constant',
  'string',
  'number',
  'boolean',
  'array',
  'object',
  'key',
  'null',
  'enum member',
  'struct',
  'event',
  'operator',
  'type parameter',
];

const labelOf = (symbol: FoundSymbol) => `${symbol.name}  ${symbol.path}:${symbol.line}`;

/**
 * Go to Symbol in Workspace: the language servers running for the workspace are asked as the
 * query changes; choosing a symbol opens its file at its line. (Browsers keep Ctrl+T for a new
 * tab outside an installed app; the command palette has the command too.)
 */
export function SymbolPalette({
  workspace,
  open,
  onOpenChange,
  onOpen,
}: {
  workspace: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onOpen: (path: string, line: number) => void;
}) {
  useCapturedKey(isSymbolShortcut, () => onOpenChange(true));
  // Mounted while open, so each opening starts empty.
  return open ? (
    <SymbolSearch workspace={workspace} onClose={() => onOpenChange(false)} onOpen={onOpen} />
  ) : null;
}

function SymbolSearch({
  workspace,
  onClose,
  onOpen,
}: {
  workspace: string;
  onClose: () => void;
  onOpen: (path: string, line: number) => void;
}) {
  const [found, setFound] = useState<FoundSymbol[] | undefined>([]);
  const [empty, setEmpty] = useState('Type to search the symbols of the workspace.');
  const latest = useRef(0);

  const search = async (query: string) => {
    const asked = ++latest.current;
    if (!query.trim()) {
      setFound([]);
      return;
    }
    setFound(undefined);
    const { workspaceSymbols } = await import('./editor/language-client.ts');
    const symbols = await workspaceSymbols(workspace, query.trim());
    if (asked !== latest.current) return;
    setEmpty(
      symbols.length === 0
        ? 'No symbol matches. Symbols come from the language servers of the files you have opened.'
        : '',
    );
    setFound(symbols);
  };
  const byLabel = new Map((found ?? []).map((symbol) => [labelOf(symbol), symbol]));
  return (
    <Palette
      label="Go to symbol in workspace"
      placeholder="Type the name of a function, class, variable…"
      items={found === undefined ? undefined : [...byLabel.keys()]}
      pendingLabel="Asking the language servers…"
      emptyLabel={empty}
      icon={(label) => (
        <span className="w-16 shrink-0 text-[11px] text-muted">
          {KINDS[(byLabel.get(label)?.kind ?? 13) - 1]}
        </span>
      )}
      detail={(label) => byLabel.get(label)?.container}
      onQuery={(query) => void search(query)}
      onChoose={(label) => {
        const symbol = byLabel.get(label);
        if (symbol) onOpen(symbol.path, symbol.line);
      }}
      onClose={onClose}
    />
  );
}
