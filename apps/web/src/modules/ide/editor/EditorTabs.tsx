import { CloseIcon } from '../../../components/icons.tsx';
import { FileIcon } from '../file-tree/FileIcon.tsx';

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** One tab per open file; a dot marks unsaved edits, a cross closes. */
export function EditorTabs({
  tabs,
  active,
  dirty,
  onSelect,
  onClose,
}: {
  tabs: string[];
  active: string | null;
  dirty: ReadonlySet<string>;
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
              title={path}
              onClick={() => onSelect(path)}
              onAuxClick={(event) => {
                if (event.button === 1) onClose(path);
              }}
              className="flex h-full items-center gap-1.5 pr-1 pl-3"
            >
              <FileIcon name={baseName(path)} />
              {baseName(path)}
              {unsaved ? (
                <span aria-label="unsaved changes" className="size-2 rounded-full bg-accent" />
              ) : null}
            </button>
            <button
              type="button"
              aria-label={`Close ${path}`}
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
