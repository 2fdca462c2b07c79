import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { allFilesQueryOptions } from '../../../api/files.ts';
import { Spinner } from '../../../components/Spinner.tsx';
import { FileIcon } from '../file-tree/FileIcon.tsx';
import { baseName } from '../file-tree/paths.ts';
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

function QuickOpenDialog({
  workspace,
  onOpen,
  onClose,
}: {
  workspace: string;
  onOpen: (path: string) => void;
  onClose: () => void;
}) {
  const files = useQuery(allFilesQueryOptions(workspace));
  const [query, setQuery] = useState('');
  const [index, setIndex] = useState(0);
  const matches = useMemo(
    () => fuzzyFilter(query, files.data?.paths ?? [], MAX_RESULTS),
    [query, files.data],
  );

  const choose = (match: FuzzyMatch | undefined) => {
    if (!match) return;
    onClose();
    onOpen(match.path);
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
        aria-label="Go to file"
        className="flex max-h-[60vh] w-[min(36rem,calc(100vw-2rem))] flex-col self-start overflow-hidden rounded-lg border border-line bg-surface shadow-2xl"
      >
        <input
          autoFocus
          role="combobox"
          aria-expanded
          aria-controls="quick-open-results"
          aria-label="File name"
          placeholder="Type to find a file by name"
          value={query}
          spellCheck={false}
          onChange={(event) => {
            setQuery(event.target.value);
            setIndex(0);
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
        <ul id="quick-open-results" role="listbox" className="min-h-0 overflow-y-auto py-1">
          {files.isPending ? (
            <li className="flex items-center gap-2 px-4 py-2 text-[13px] text-muted">
              <Spinner className="size-3.5" /> Listing files…
            </li>
          ) : matches.length === 0 ? (
            <li className="px-4 py-2 text-[13px] text-muted">No file matches.</li>
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
                <FileIcon name={baseName(match.path)} />
                <span className="truncate">
                  <Highlighted match={match} />
                </span>
              </li>
            ))
          )}
          {files.data?.truncated ? (
            <li className="px-4 py-1.5 text-[12px] text-muted">
              This workspace has more files than Quick Open lists; search finds the rest.
            </li>
          ) : null}
        </ul>
      </div>
    </div>
  );
}

/** Ctrl/Cmd+P anywhere on the page: find a file by fuzzy name and open it. */
export function QuickOpen({
  workspace,
  onOpen,
}: {
  workspace: string;
  onOpen: (path: string) => void;
}) {
  const [open, setOpen] = useState(false);

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === 'p') {
        // Capture phase: ahead of Monaco and xterm, and instead of the browser's print dialog.
        event.preventDefault();
        event.stopPropagation();
        setOpen(true);
      }
    };
    window.addEventListener('keydown', onKeyDown, true);
    return () => window.removeEventListener('keydown', onKeyDown, true);
  }, []);

  return open ? (
    <QuickOpenDialog workspace={workspace} onOpen={onOpen} onClose={() => setOpen(false)} />
  ) : null;
}
