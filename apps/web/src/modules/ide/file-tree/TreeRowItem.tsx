import type { ReactNode } from 'react';
import { Spinner } from '../../../components/Spinner.tsx';
import { FileIcon, FolderIcon, TwistyIcon } from './FileIcon.tsx';
import type { TreeRow } from './use-file-tree.ts';
import { PeerMarks } from '../editor/PeerMarks.tsx';
import type { WorkspacePeer } from '../editor/use-workspace-presence.ts';

/** The drag type that marks an entry dragged from inside the tree (as opposed to desktop files). */
export const TREE_DRAG_TYPE = 'application/x-studio-path';

/** What the tree shows of a file's problems: the worst severity, and how many (files only). */
export interface FileProblems {
  severity: 'error' | 'warning';
  count?: number;
}

/** One row: indent, twisty, icon and name; a drop target when it is a folder. */
export function TreeRowItem({
  row,
  selected,
  focusable,
  dropTarget,
  problems,
  peers,
  renaming,
  onClick,
  onContextMenu,
  onDragOverFolder,
  onDropOnFolder,
}: {
  row: TreeRow;
  selected: boolean;
  focusable: boolean;
  /** Who else is in this file. */
  peers?: WorkspacePeer[];
  dropTarget: boolean;
  problems?: FileProblems | undefined;
  /** The field its new name is typed in, shown in place of the name. */
  renaming?: ReactNode;
  onClick: () => void;
  onContextMenu: (event: React.MouseEvent) => void;
  onDragOverFolder: (path: string | null) => void;
  onDropOnFolder: (event: React.DragEvent, dir: string) => void;
}) {
  const { entry, depth, expanded, loading } = row;
  const isFolder = entry.type === 'directory';
  return (
    <div
      role="treeitem"
      aria-level={depth + 1}
      aria-expanded={isFolder ? expanded : undefined}
      aria-selected={selected}
      tabIndex={focusable ? 0 : -1}
      data-path={entry.path}
      draggable={!renaming}
      title={entry.path}
      onClick={onClick}
      onContextMenu={onContextMenu}
      onDragStart={(event) => {
        event.dataTransfer.setData(TREE_DRAG_TYPE, entry.path);
        event.dataTransfer.effectAllowed = 'move';
      }}
      onDragOver={(event) => {
        if (!isFolder) return;
        event.preventDefault();
        event.stopPropagation();
        onDragOverFolder(entry.path);
      }}
      onDrop={(event) => {
        if (!isFolder) return;
        event.stopPropagation();
        onDropOnFolder(event, entry.path);
      }}
      style={{ paddingLeft: 8 + depth * 14 }}
      className={`flex h-7 cursor-pointer items-center gap-1.5 pr-2 text-[13px] select-none focus:outline-none focus-visible:ring-1 focus-visible:ring-accent focus-visible:ring-inset ${
        dropTarget
          ? 'bg-accent-soft'
          : selected
            ? 'bg-accent-soft/70 text-fg'
            : 'text-fg/90 hover:bg-subtle'
      }`}
    >
      {isFolder ? <TwistyIcon open={expanded} /> : <span className="w-3.5 shrink-0" />}
      {isFolder ? <FolderIcon open={expanded} /> : <FileIcon name={entry.name} />}
      {renaming ?? (
        <span
          className={`truncate ${entry.ignored ? 'opacity-55' : ''} ${
            problems ? (problems.severity === 'error' ? 'text-danger' : 'text-warning') : ''
          }`}
          title={entry.ignored ? `${entry.path} (ignored by git)` : undefined}
        >
          {entry.name}
        </span>
      )}
      {peers?.length ? (
        <span className="ml-auto">
          <PeerMarks peers={peers} />
        </span>
      ) : null}
      {loading ? <Spinner className="ml-auto size-3 text-muted" /> : null}
      {problems && !loading ? (
        <span
          aria-label={
            problems.count === undefined
              ? `contains ${problems.severity}s`
              : `${problems.count} ${problems.severity === 'error' ? 'problems' : 'warnings'}`
          }
          className={`ml-auto shrink-0 text-[11px] ${
            problems.severity === 'error' ? 'text-danger' : 'text-warning'
          }`}
        >
          {problems.count ?? '●'}
        </span>
      ) : null}
    </div>
  );
}
