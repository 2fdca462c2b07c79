import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Spinner } from '../../components/Spinner.tsx';
import { fuzzyFilter, type FuzzyMatch } from './fuzzy.ts';

// Enough to scroll through; a longer list means the query should be longer.
const MAX_RESULTS = 50;

function Highlighted({ match }: { match: FuzzyMatch }) {
  const marked = new Set(match.positions);
  return (
    <>
      {[...match.path].map((char, index) =>
        marked.has(index) ? (
          <mark key={index} className="bg-transparent font-semibold text-accent">
            {char}
          </mark>
        ) : (
          char
        ),
      )}
    </>
  );
}

/**
 * A keyboard-first picker over a list of strings (Quick Open, the workspace switcher): type to
 * filter fuzzily, arrows to move, Enter to choose, Escape or a click outside to close.
 */
export function Palette({
  label,
  placeholder,
  items,
  pendingLabel,
  emptyLabel,
  icon,
  detail,
  footer,
  onQuery,
  onChoose,
  onClose,
}: {
  label: string;
  placeholder: string;
  /** The candidates in their preferred order when nothing is typed; undefined while loading. */
  items: string[] | undefined;
  pendingLabel: string;
  emptyLabel: string;
  icon: (item: string) => ReactNode;
  /** Shown at the end of an item's row (a command's shortcut). */
  detail?: (item: string) => ReactNode;
  footer?: ReactNode;
  /** Told each query, for lists the server narrows (workspace symbols); items still filter. */
  onQuery?: (query: string) => void;
  onChoose: (item: string) => void;
  onClose: () => void;
}) {
  const [query, setQuery] = useState('');
  const [chosenIndex, setIndex] = useState(0);
  const matches = useMemo(
    () =>
      query.trim() === ''
        ? (items ?? []).slice(0, MAX_RESULTS).map((path) => ({ path, score: 0, positions: [] }))
        : fuzzyFilter(query, items ?? [], MAX_RESULTS),
    [query, items],
  );

  // The list can shrink under a remembered position (a new query, a refetch): stay inside it.
  const index = Math.max(0, Math.min(chosenIndex, matches.length - 1));

  const choose = (match: FuzzyMatch | undefined) => {
    if (!match) return;
    onClose();
    onChoose(match.path);
  };

  return (
    <div
      className="fixed inset-0 z-40 flex justify-center bg-black/30 pt-[12vh]"
      onClick={(event) => {
        if (event.target === event.currentTarget) onClose();
      }}
    >
      <div
        role="dialog"
        aria-label={label}
        className="flex max-h-[60vh] w-[min(36rem,calc(100vw-2rem))] flex-col self-start overflow-hidden rounded-lg border border-line bg-surface shadow-2xl"
      >
        <input
          autoFocus
          role="combobox"
          aria-expanded
          aria-controls="palette-results"
          aria-label={label}
          placeholder={placeholder}
          value={query}
          spellCheck={false}
          onChange={(event) => {
            setQuery(event.target.value);
            setIndex(0);
            onQuery?.(event.target.value);
          }}
          onKeyDown={(event) => {
            if (event.key === 'ArrowDown') setIndex((i) => Math.min(i + 1, matches.length - 1));
            else if (event.key === 'ArrowUp') setIndex((i) => Math.max(i - 1, 0));
            else if (event.key === 'Enter') choose(matches[index]);
            else if (event.key === 'Escape') onClose();
            else return;
            event.preventDefault();
          }}
          className="h-11 border-b border-line bg-transparent px-4 text-sm text-fg outline-none placeholder:text-muted"
        />
        <ul id="palette-results" role="listbox" className="min-h-0 overflow-y-auto py-1">
          {items === undefined ? (
            <li className="flex items-center gap-2 px-4 py-2 text-[13px] text-muted">
              <Spinner className="size-3.5" /> {pendingLabel}
            </li>
          ) : matches.length === 0 ? (
            <li className="px-4 py-2 text-[13px] text-muted">{emptyLabel}</li>
          ) : (
            matches.map((match, position) => (
              <li
                key={match.path}
                role="option"
                aria-selected={position === index}
                onMouseMove={() => setIndex(position)}
                onClick={() => choose(match)}
                className={`flex cursor-pointer items-center gap-2 px-4 py-1.5 text-[13px] ${
                  position === index ? 'bg-accent-soft text-fg' : 'text-fg/90'
                }`}
              >
                {icon(match.path)}
                <span className="truncate">
                  <Highlighted match={match} />
                </span>
                {detail ? (
                  <span className="ml-auto shrink-0 pl-3 font-mono text-[11px] text-muted">
                    {detail(match.path)}
                  </span>
                ) : null}
              </li>
            ))
          )}
          {footer}
        </ul>
      </div>
    </div>
  );
}

/**
 * Open on Ctrl/Cmd+`key` anywhere on the page. `capture` handles the key ahead of Monaco and
 * xterm (Quick Open); without it, an editor that uses the key itself (Monaco's Ctrl+K chords)
 * keeps it while focused.
 */
export function useShortcut(key: string, onPress: () => void, capture: boolean): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (
        (event.ctrlKey || event.metaKey) &&
        !event.shiftKey &&
        !event.altKey &&
        event.key.toLowerCase() === key &&
        !event.defaultPrevented
      ) {
        event.preventDefault();
        event.stopPropagation();
        onPress();
      }
    };
    window.addEventListener('keydown', onKeyDown, capture);
    return () => window.removeEventListener('keydown', onKeyDown, capture);
  }, [key, onPress, capture]);
}

/**
 * Run `onPress` when a key `matches` anywhere on the page, in the capture phase: ahead of Monaco
 * and xterm, which would otherwise keep the key while focused. A held key counts once.
 */
export function useCapturedKey(
  matches: (event: KeyboardEvent) => boolean,
  onPress: (event: KeyboardEvent) => void,
): void {
  const latest = useRef({ matches, onPress });
  useEffect(() => {
    latest.current = { matches, onPress };
  });
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (!latest.current.matches(event)) return;
      event.preventDefault();
      event.stopPropagation();
      if (!event.repeat) latest.current.onPress(event);
    };
    window.addEventListener('keydown', onKeyDown, true);
    return () => window.removeEventListener('keydown', onKeyDown, true);
  }, []);
}
