import { useQuery } from '@tanstack/react-query';
import { useEffect, useSyncExternalStore } from 'react';
import { gitReposQueryOptions } from '../../api/git.ts';
import { BranchIcon } from '../../components/icons.tsx';
import { useToast } from '../../components/Toaster.tsx';
import { serverLanguageOf, serverStates } from './editor/server-states.ts';
import type { EditorBridge } from './editor/use-open-files.ts';

/** Monaco's language ids as people name the languages. */
const LANGUAGE_NAMES: Record<string, string> = {
  typescript: 'TypeScript',
  javascript: 'JavaScript',
  python: 'Python',
  go: 'Go',
  rust: 'Rust',
  cpp: 'C++',
  c: 'C',
  java: 'Java',
  json: 'JSON',
  markdown: 'Markdown',
  html: 'HTML',
  css: 'CSS',
  shell: 'Shell Script',
  yaml: 'YAML',
  plaintext: 'Plain Text',
};

/**
 * A language server that was ready and stopped says so once, with its last words; it starts
 * again by itself on the next edit of one of its files (language-client.ts).
 */
function useServerStopNotice(workspace: string) {
  const toast = useToast();
  useEffect(() => {
    const ready = new Set<string>();
    return serverStates.subscribe(() => {
      for (const [key, state] of serverStates.entries()) {
        if (!key.startsWith(`${workspace}:`)) continue;
        if (state.state === 'ready') ready.add(`${key} ${state.name}`);
        if (state.state !== 'failed') continue;
        const was = [...ready].find((item) => item.startsWith(`${key} `));
        if (!was) continue;
        ready.delete(was);
        toast(
          `${was.slice(key.length + 1)} stopped: ${state.message}. It starts again when you edit.`,
          'error',
        );
      }
    });
  }, [workspace, toast]);
}

const itemClasses = 'flex items-center gap-1 px-2 whitespace-nowrap';

/**
 * The IDE's bottom line, as VS Code users know it: the branch and the problems of the file on the
 * left; the cursor's line and column, the indentation and the language on the right.
 */
export function StatusBar({
  workspace,
  bridge,
  onShowProblems,
}: {
  workspace: string;
  bridge: EditorBridge;
  onShowProblems: () => void;
}) {
  useServerStopNotice(workspace);
  const snapshot = useSyncExternalStore(bridge.subscribe, bridge.getSnapshot);
  const repos = useQuery(gitReposQueryOptions(workspace));
  // The repository holding the open file, else the home's, else the first one.
  const path = snapshot?.path ?? '';
  const repo =
    repos.data
      ?.filter((item) => item.path === '' || path.startsWith(`${item.path}/`))
      .sort((a, b) => b.path.length - a.path.length)[0] ?? repos.data?.[0];
  const language = snapshot ? serverLanguageOf(snapshot.languageId) : null;
  const server = useSyncExternalStore(serverStates.subscribe, () =>
    language ? serverStates.get(`${workspace}:${language}`) : undefined,
  );
  const errors = snapshot?.diagnostics.filter((item) => item.severity === 'error').length ?? 0;
  const warnings = snapshot?.diagnostics.filter((item) => item.severity === 'warning').length ?? 0;

  return (
    <footer
      aria-label="Status bar"
      className="flex h-6 shrink-0 items-center border-t border-line bg-subtle text-[12px] text-muted"
    >
      {repo ? (
        <span className={itemClasses} title={`Git branch of ${repo.path || 'the home folder'}`}>
          <BranchIcon className="size-3.5" />
          {repo.branch ?? 'detached'}
        </span>
      ) : null}
      {snapshot ? (
        <button
          type="button"
          className={`${itemClasses} h-full hover:bg-line/60`}
          aria-label={`${errors} errors, ${warnings} warnings`}
          title="Problems in this file (Ctrl+Shift+M shows all)"
          onClick={onShowProblems}
        >
          <span className={errors > 0 ? 'text-danger' : undefined}>⊗ {errors}</span>
          <span className={warnings > 0 ? 'text-warning' : undefined}>⚠ {warnings}</span>
        </button>
      ) : null}
      {snapshot ? (
        <span className="ml-auto flex items-center">
          <span className={itemClasses}>
            Ln {snapshot.cursor.line}, Col {snapshot.cursor.column}
          </span>
          <span className={itemClasses}>
            {snapshot.indentation.insertSpaces
              ? `Spaces: ${snapshot.indentation.tabSize}`
              : `Tab Size: ${snapshot.indentation.tabSize}`}
          </span>
          <span className={itemClasses}>
            {LANGUAGE_NAMES[snapshot.languageId] ?? snapshot.languageId}
          </span>
          {server ? (
            <span
              className={`${itemClasses} ${server.state === 'failed' ? 'text-warning' : ''}`}
              title={server.state === 'failed' ? server.message : undefined}
              aria-label={`Language server: ${server.state === 'ready' ? `${server.name} ready` : server.state === 'starting' ? 'starting' : server.message}`}
            >
              {server.state === 'ready'
                ? `{ } ${server.name}`
                : server.state === 'starting'
                  ? '{ } starting…'
                  : '{ } no language server'}
            </span>
          ) : null}
        </span>
      ) : null}
    </footer>
  );
}
