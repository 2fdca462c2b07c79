import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { gitDiffQueryOptions } from '../../../api/git.ts';
import { Alert } from '../../../components/Alert.tsx';
import { Loading } from '../../../components/Spinner.tsx';
import { useTheme } from '../../theme/ThemeProvider.tsx';
import { monaco } from '../editor/monaco.ts';
import type { DiffTab } from './diff-tab.ts';

function languageOf(path: string): string | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  const dot = name.lastIndexOf('.');
  const extension = dot >= 0 ? name.slice(dot) : null;
  return monaco.languages
    .getLanguages()
    .find(
      (language) =>
        language.filenames?.some((file) => file.toLowerCase() === name) ||
        (extension !== null && language.extensions?.includes(extension)),
    )?.id;
}

/** A file's change side by side in Monaco's diff editor: read-only, in the app's theme. */
export default function GitDiffView({ workspace, tab }: { workspace: string; tab: DiffTab }) {
  const diff = useQuery(gitDiffQueryOptions(workspace, tab.repo, tab.path, tab.staged));
  const { resolved } = useTheme();
  const containerRef = useRef<HTMLDivElement>(null);
  const data = diff.data;

  useEffect(() => {
    if (!data || data.binary || !containerRef.current) return;
    const editor = monaco.editor.createDiffEditor(containerRef.current, {
      automaticLayout: true,
      readOnly: true,
      originalEditable: false,
      renderSideBySide: true,
      theme: resolved === 'dark' ? 'vs-dark' : 'vs',
    });
    const language = languageOf(tab.path);
    const original = monaco.editor.createModel(data.original, language);
    const modified = monaco.editor.createModel(data.modified, language);
    editor.setModel({ original, modified });
    return () => {
      editor.dispose();
      original.dispose();
      modified.dispose();
    };
  }, [data, resolved, tab.path]);

  const sides = tab.staged ? 'Last commit ↔ staged' : 'Staged or last commit ↔ working tree';
  return (
    <div
      role="region"
      aria-label={`Changes in ${tab.path}`}
      className="flex h-full min-h-0 flex-col"
    >
      <div className="flex h-8 shrink-0 items-center gap-2 border-b border-line px-3 text-[12px] text-muted">
        <span className="font-medium text-fg">{tab.path}</span>
        <span>{sides}</span>
      </div>
      {diff.isPending ? (
        <Loading label={`Loading the changes in ${tab.path}…`} />
      ) : diff.isError ? (
        <div className="p-3">
          <Alert tone="error">{diff.error.message}</Alert>
        </div>
      ) : data?.binary ? (
        <p className="p-4 text-sm text-muted">{tab.path} is a binary file; no text diff to show.</p>
      ) : (
        <div ref={containerRef} className="min-h-0 flex-1" />
      )}
    </div>
  );
}
