import type { SearchMatch } from '@studio/protocol';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { searchQueryOptions } from '../../../api/files.ts';
import { Alert } from '../../../components/Alert.tsx';
import { Loading } from '../../../components/Spinner.tsx';
import { FileIcon } from '../file-tree/FileIcon.tsx';
import { baseName } from '../file-tree/paths.ts';

function groupByFile(matches: SearchMatch[]): [string, SearchMatch[]][] {
  const groups = new Map<string, SearchMatch[]>();
  for (const match of matches) groups.set(match.path, [...(groups.get(match.path) ?? []), match]);
  return [...groups];
}

function Toggle({
  label,
  title,
  pressed,
  onClick,
}: {
  label: string;
  title: string;
  pressed: boolean;
  onClick: () => void;
}) {
  return (
    <button
      type="button"
      title={title}
      aria-label={title}
      aria-pressed={pressed}
      onClick={onClick}
      className="h-6 rounded px-1.5 font-mono text-[12px] text-muted hover:bg-line/60 aria-pressed:bg-accent-soft aria-pressed:text-accent"
    >
      {label}
    </button>
  );
}

/** A result's line, trimmed, with its match marked. */
function MatchText({ match }: { match: SearchMatch }) {
  const indent = match.text.length - match.text.trimStart().length;
  const text = match.text.trim();
  const start = match.column - 1 - indent;
  if (start < 0 || start >= text.length || match.length === 0) return <>{text}</>;
  const end = start + match.length;
  return (
    <>
      {text.slice(0, start)}
      <mark className="rounded-sm bg-warning-soft px-px text-fg">{text.slice(start, end)}</mark>
      {text.slice(end)}
    </>
  );
}

/**
 * Search in files: runs on Enter, results grouped by file with each match marked; a click opens
 * the file with the match selected.
 */
export function SearchPanel({
  workspace,
  onOpen,
}: {
  workspace: string;
  onOpen: (path: string, line?: number, select?: { column: number; length: number }) => void;
}) {
  const [text, setText] = useState('');
  const [regex, setRegex] = useState(false);
  const [caseSensitive, setCaseSensitive] = useState(false);
  const [submitted, setSubmitted] = useState('');
  const search = useQuery(searchQueryOptions(workspace, submitted, regex, caseSensitive));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(text.trim());
  };

  return (
    <div className="flex h-full min-h-0 flex-col bg-subtle/60">
      <form role="search" onSubmit={submit} className="space-y-1.5 border-b border-line p-2">
        <input
          aria-label="Search in files"
          placeholder="Search in files, then Enter"
          value={text}
          spellCheck={false}
          onChange={(event) => setText(event.target.value)}
          className="h-8 w-full rounded-md border border-line-strong bg-surface px-2.5 text-[13px] text-fg outline-none placeholder:text-muted/70 focus-visible:border-accent"
        />
        <div className="flex gap-1">
          <Toggle
            label="Aa"
            title="Match case"
            pressed={caseSensitive}
            onClick={() => setCaseSensitive(!caseSensitive)}
          />
          <Toggle
            label=".*"
            title="Use a regular expression"
            pressed={regex}
            onClick={() => setRegex(!regex)}
          />
        </div>
      </form>
      <div className="min-h-0 flex-1 overflow-auto py-1 text-[13px]">
        {!submitted ? null : search.isPending ? (
          <Loading label="Searching…" />
        ) : search.isError ? (
          <div className="p-2">
            <Alert tone="error">{search.error.message}</Alert>
          </div>
        ) : search.data.matches.length === 0 ? (
          <p className="px-3 py-2 text-muted">No results.</p>
        ) : (
          <>
            {groupByFile(search.data.matches).map(([path, matches]) => (
              <div key={path} className="mb-1">
                <p className="flex items-center gap-1.5 px-3 py-1 font-medium text-fg" title={path}>
                  <FileIcon name={baseName(path)} />
                  <span className="truncate">{path}</span>
                  <span className="ml-auto text-[11px] text-muted">{matches.length}</span>
                </p>
                {matches.map((match) => (
                  <button
                    key={`${match.line}:${match.column}`}
                    type="button"
                    onClick={() =>
                      onOpen(match.path, match.line, { column: match.column, length: match.length })
                    }
                    className="block w-full truncate py-0.5 pr-2 pl-8 text-left font-mono text-[12px] text-muted hover:bg-subtle hover:text-fg"
                  >
                    <span className="mr-2 text-muted/70">{match.line}</span>
                    <MatchText match={match} />
                  </button>
                ))}
              </div>
            ))}
            {search.data.truncated ? (
              <p className="px-3 py-2 text-[12px] text-muted">
                Showing the first {search.data.matches.length} results; narrow the search for the
                rest.
              </p>
            ) : null}
          </>
        )}
      </div>
    </div>
  );
}
