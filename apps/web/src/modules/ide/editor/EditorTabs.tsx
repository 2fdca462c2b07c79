import { CloseIcon } from '../../../components/icons.tsx';
import { FileIcon } from '../file-tree/FileIcon.tsx';
import { parseDiffTab } from '../git/diff-tab.ts';
import { PeerMarks } from './PeerMarks.tsx';
import type { WorkspacePeer } from './use-workspace-presence.ts';

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** What a tab says: the file's name, or for a diff tab the file's name and which change. */
function tabLabel(tab: string): { name: string; label: string; title: string } {
  const diff = parseDiffTab(tab);
  if (!diff) return { name: baseName(tab), label: baseName(tab), title: tab };
  const kind = diff.staged ? 'staged' : 'changes';
  return {
    name: baseName(diff.path),
    label: `${baseName(diff.path)} (${kind})`,
    title: `${diff.path}: ${kind}`,
  };
}

/** One tab per open file; a dot marks unsaved edits, a cross closes. */
export function EditorTabs({
  tabs,
  active,
  dirty,
  onSelect,
  onClose,
  peers,
}: {
  tabs: string[];
  active: string | null;
  dirty: ReadonlySet<string>;
  /** Who else is in each file. */
  peers?: ReadonlyMap<string, WorkspacePeer[]>;
  onSelect: (path: string) => void;
  onClose: (path: string) => void;
}) {
  return (
    <div
      role="tablist"
      aria-label="Open files"
      className="flex h-9 shrink-0 overflow-x-auto border-b border-line bg-subtle"
    >
      {tabs.map((path) => {
        const selected = path === active;
        const unsaved = dirty.has(path);
        const { name, label, title } = tabLabel(path);
        return (
          <div
            key={path}
            className={`group flex shrink-0 items-center border-r border-line text-[13px] ${
              selected ? 'bg-surface text-fg' : 'text-muted hover:text-fg'
            }`}
          >
            <button
              type="button"
              role="tab"
              aria-selected={selected}
              title={title}
              onClick={() => onSelect(path)}
              onAuxClick={(event) => {
                if (event.button === 1) onClose(path);
              }}
              className="flex h-full items-center gap-1.5 pr-1 pl-3"
            >
              <FileIcon name={name} />
              {label}
              {unsaved ? (
                <span aria-label="unsaved changes" className="size-2 rounded-full bg-accent" />
              ) : null}
            </button>
            <PeerMarks peers={peers?.get(path)} />
            <button
              type="button"
              aria-label={`Close ${title}`}
              onClick={() => onClose(path)}
              className="mr-1.5 rounded p-0.5 opacity-60 group-hover:opacity-100 hover:bg-line"
            >
              <CloseIcon className="size-3.5" />
            </button>
          </div>
        );
      })}
    </div>
  );
}
