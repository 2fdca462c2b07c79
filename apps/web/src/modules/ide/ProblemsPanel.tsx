import { useSyncExternalStore } from 'react';
import type { EditorBridge, FileProblem } from './editor/use-open-files.ts';
import { FileIcon } from './file-tree/FileIcon.tsx';
import { baseName } from './file-tree/paths.ts';

/** The problems of the files open in the editor, by file; a click goes to the line. */
export function ProblemsPanel({
  bridge,
  onOpen,
}: {
  bridge: EditorBridge;
  onOpen: (path: string, line: number) => void;
}) {
  const problems = useSyncExternalStore(bridge.subscribe, bridge.getProblems);
  if (problems.length === 0)
    return (
      <p className="px-3 py-4 text-[13px] text-muted">
        No problems in the open files. Language servers report them as you type.
      </p>
    );
  const byFile = new Map<string, FileProblem[]>();
  for (const problem of problems)
    byFile.set(problem.path, [...(byFile.get(problem.path) ?? []), problem]);
  return (
    <section aria-label="Problems" className="h-full overflow-y-auto py-1 text-[13px]">
      {[...byFile].map(([path, list]) => (
        <div key={path}>
          <p className="flex items-center gap-1.5 px-3 pt-2 pb-1 font-medium text-fg" title={path}>
            <FileIcon name={baseName(path)} />
            <span className="truncate">{path}</span>
            <span className="ml-auto rounded-full bg-subtle px-1.5 text-[11px] text-muted">
              {list.length}
            </span>
          </p>
          <ul>
            {list.map((problem, index) => (
              <li key={index}>
                <button
                  type="button"
                  onClick={() => onOpen(problem.path, problem.line)}
                  className="flex w-full items-start gap-2 px-3 py-1 text-left hover:bg-subtle"
                >
                  <span
                    aria-label={problem.severity}
                    className={problem.severity === 'error' ? 'text-danger' : 'text-warning'}
                  >
                    {problem.severity === 'error' ? '⊗' : '⚠'}
                  </span>
                  <span className="min-w-0 flex-1 break-words text-fg">
                    {problem.message}
                    {problem.source ? <span className="text-muted"> {problem.source}</span> : null}
                  </span>
                  <span className="shrink-0 text-[12px] text-muted">
                    [{problem.line}, {problem.column}]
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}
