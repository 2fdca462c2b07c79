import type { FileListEntry } from '@studio/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { downloadUrl } from '../../../api/files.ts';
import { Alert } from '../../../components/Alert.tsx';
import { IconButton } from '../../../components/IconButton.tsx';
import { NewFileIcon, NewFolderIcon } from '../../../components/icons.tsx';
import { ConfirmDialog } from '../../../components/ConfirmDialog.tsx';
import { Loading } from '../../../components/Spinner.tsx';
import { FileIcon, FolderIcon } from './FileIcon.tsx';
import { InlineName } from './InlineName.tsx';
import { baseName, joinPath, parentOf } from './paths.ts';
import { TreeMenu, type TreeMenuItem } from './TreeMenu.tsx';
import { TREE_DRAG_TYPE, TreeRowItem, type FileProblems } from './TreeRowItem.tsx';
import type { WorkspacePeer } from '../editor/use-workspace-presence.ts';

/** A file's own problems, or for a folder the worst of those below it (no count). */
function problemsAt(
  problems: ReadonlyMap<string, FileProblems> | undefined,
  path: string,
  folder: boolean,
): FileProblems | undefined {
  if (!problems) return undefined;
  if (!folder) return problems.get(path);
  let worst: FileProblems | undefined;
  for (const [file, found] of problems)
    if (file.startsWith(`${path}/`) && worst?.severity !== 'error')
      worst = { severity: found.severity };
  return worst;
}
import { useFileActions } from './use-file-actions.ts';
import { useFileTree } from './use-file-tree.ts';

type Prompt =
  | { kind: 'new-file' | 'new-folder'; dir: string }
  | { kind: 'rename'; entry: FileListEntry }
  | { kind: 'delete'; entry: FileListEntry };

/**
 * The workspace's files: folders list their children when opened, the watch socket keeps them
 * current. Arrow keys move, Enter opens, F2 renames, Delete deletes; a right-click shows the
 * rest. Entries drag onto folders to move; files dropped from the desktop upload.
 */
export function FileTree({
  workspace,
  onOpen,
  onRenamed,
  problems,
  active,
  peers,
  label = workspace,
}: {
  workspace: string;
  /** What the header calls the workspace (its name; `workspace` may be its id). */
  label?: string;
  onOpen: (path: string) => void;
  onRenamed: (from: string, to: string) => void;
  /** The open files' problems, by path: files and the folders above them are marked. */
  problems?: ReadonlyMap<string, FileProblems>;
  /** The file in the editor: its folders open and its row is selected and scrolled to. */
  active?: string | null;
  /** Who else is in each file. */
  peers?: ReadonlyMap<string, WorkspacePeer[]>;
}) {
  const tree = useFileTree(workspace);
  const actions = useFileActions(workspace);
  const [selected, setSelected] = useState<string | null>(null);
  const [prompt, setPrompt] = useState<Prompt | null>(null);
  const [menu, setMenu] = useState<{ x: number; y: number; entry: FileListEntry | null } | null>(
    null,
  );
  const [dropDir, setDropDir] = useState<string | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  const listRef = useRef<HTMLDivElement>(null);

  const rows = tree.rows;
  const index = rows.findIndex((row) => row.entry.path === selected);
  const current = rows[index]?.entry ?? null;

  const focusPath = useCallback((path: string) => {
    setSelected(path);
    listRef.current?.querySelector<HTMLElement>(`[data-path="${CSS.escape(path)}"]`)?.focus();
  }, []);

  // Keep keyboard focus on the selected row as rows appear and disappear around it.
  useEffect(() => {
    if (!selected || !listRef.current?.contains(document.activeElement)) return;
    if (document.activeElement instanceof HTMLInputElement) return; // a name being typed
    listRef.current.querySelector<HTMLElement>(`[data-path="${CSS.escape(selected)}"]`)?.focus();
  }, [selected, rows.length]);

  // Reveal the active file when it changes (and when the tree is shown again), as VS Code does:
  // decided while rendering, so the folders open in the same pass.
  const [revealed, setRevealed] = useState<string | null>(null);
  if (active && active !== revealed) {
    setRevealed(active);
    tree.reveal(active);
    setSelected(active);
  }
  // Scrolled to once its row is listed (its folders may still be loading).
  const revealedListed = revealed !== null && rows.some((row) => row.entry.path === revealed);
  useEffect(() => {
    if (!revealed || !revealedListed) return;
    listRef.current
      ?.querySelector(`[data-path="${CSS.escape(revealed)}"]`)
      ?.scrollIntoView({ block: 'nearest' });
  }, [revealed, revealedListed]);

  /** The folder new entries go into: the selected folder, or the selected file's folder. */
  const targetDir = (entry: FileListEntry | null) =>
    !entry ? '.' : entry.type === 'directory' ? entry.path : parentOf(entry.path);

  /** A new file or folder is named in place, first in its folder, which opens for it. */
  const startNew = (kind: 'new-file' | 'new-folder', dir: string) => {
    if (dir !== '.') tree.toggle(dir, true);
    setPrompt({ kind, dir });
  };

  const create = async (kind: 'new-file' | 'new-folder', dir: string, name: string) => {
    const path = joinPath(dir, name);
    if (kind === 'new-file') await actions.createFile(path);
    else await actions.createFolder(path);
    setPrompt(null);
    setSelected(path);
    if (kind === 'new-file') onOpen(path);
    else focusPath(path);
  };

  const rename = async (entry: FileListEntry, name: string) => {
    const to = joinPath(parentOf(entry.path), name);
    await actions.rename(entry.path, to);
    onRenamed(entry.path, to);
    setPrompt(null);
    focusPath(to);
  };

  /** Where the field for a new entry goes: after its folder's row (the top for the root). */
  const newEntry = prompt?.kind === 'new-file' || prompt?.kind === 'new-folder' ? prompt : null;
  const newEntryDepth =
    newEntry && newEntry.dir !== '.'
      ? (rows.find((row) => row.entry.path === newEntry.dir)?.depth ?? -1) + 1
      : 0;
  const newEntryRow = newEntry ? (
    <div
      key="new-entry"
      role="treeitem"
      aria-level={newEntryDepth + 1}
      aria-selected
      style={{ paddingLeft: 8 + newEntryDepth * 14 }}
      className="flex h-7 items-center gap-1.5 pr-2 text-[13px]"
    >
      <span className="w-3.5 shrink-0" />
      {newEntry.kind === 'new-file' ? <FileIcon name="" /> : <FolderIcon open={false} />}
      <InlineName
        label={newEntry.kind === 'new-file' ? 'New file name' : 'New folder name'}
        onSubmit={(name) => create(newEntry.kind, newEntry.dir, name)}
        onCancel={() => setPrompt(null)}
      />
    </div>
  ) : null;

  const activate = (entry: FileListEntry) => {
    setSelected(entry.path);
    if (entry.type === 'directory') tree.toggle(entry.path);
    else onOpen(entry.path);
  };

  const onKeyDown = (event: React.KeyboardEvent) => {
    const row = rows[index];
    const move = (to: number) => {
      const next = rows[Math.max(0, Math.min(rows.length - 1, to))];
      if (next) focusPath(next.entry.path);
    };
    switch (event.key) {
      case 'ArrowDown':
        move(index + 1);
        break;
      case 'ArrowUp':
        move(index < 0 ? 0 : index - 1);
        break;
      case 'ArrowRight':
        if (row?.entry.type === 'directory') {
          if (!row.expanded) tree.toggle(row.entry.path, true);
          else move(index + 1);
        }
        break;
      case 'ArrowLeft':
        if (row?.expanded) tree.toggle(row.entry.path, false);
        else if (row && parentOf(row.entry.path) !== '.') focusPath(parentOf(row.entry.path));
        break;
      case 'Enter':
        if (row) activate(row.entry);
        break;
      case 'F2':
        if (row) setPrompt({ kind: 'rename', entry: row.entry });
        break;
      case 'Delete':
        if (row) setPrompt({ kind: 'delete', entry: row.entry });
        break;
      default:
        return;
    }
    event.preventDefault();
  };

  const drop = (event: React.DragEvent, dir: string) => {
    event.preventDefault();
    setDropDir(null);
    const from = event.dataTransfer.getData(TREE_DRAG_TYPE) || null;
    void actions.drop(dir, from, [...event.dataTransfer.files]);
  };

  const menuItems = (entry: FileListEntry | null): TreeMenuItem[] => {
    const dir = targetDir(entry);
    const items: TreeMenuItem[] = [
      { label: 'New file…', onSelect: () => startNew('new-file', dir) },
      { label: 'New folder…', onSelect: () => startNew('new-folder', dir) },
    ];
    if (!entry) return items;
    return [
      ...items,
      { label: 'Rename…', onSelect: () => setPrompt({ kind: 'rename', entry }) },
      {
        label: entry.type === 'directory' ? 'Download as .tar' : 'Download',
        onSelect: () => {
          const link = document.createElement('a');
          link.href = downloadUrl(workspace, entry.path);
          link.download = entry.type === 'directory' ? `${entry.name}.tar` : entry.name;
          link.click();
        },
      },
      { label: 'Delete', danger: true, onSelect: () => setPrompt({ kind: 'delete', entry }) },
    ];
  };

  return (
    <div className="flex h-full min-h-0 flex-col bg-subtle/60">
      <div className="flex h-9 shrink-0 items-center gap-0.5 border-b border-line pr-1.5 pl-3">
        <span className="mr-auto truncate text-[11px] font-semibold tracking-wide text-muted uppercase">
          {label}
        </span>
        <IconButton label="New file" onClick={() => startNew('new-file', targetDir(current))}>
          <NewFileIcon className="size-4" />
        </IconButton>
        <IconButton label="New folder" onClick={() => startNew('new-folder', targetDir(current))}>
          <NewFolderIcon className="size-4" />
        </IconButton>
      </div>
      <div
        ref={listRef}
        role="tree"
        aria-label="Files"
        tabIndex={rows.length === 0 ? 0 : -1}
        onKeyDown={onKeyDown}
        onContextMenu={(event) => {
          event.preventDefault();
          setMenu({ x: event.clientX, y: event.clientY, entry: null });
        }}
        onDragOver={(event) => {
          event.preventDefault();
          setDropDir('.');
        }}
        onDragLeave={(event) => {
          if (!event.currentTarget.contains(event.relatedTarget as Node)) setDropDir(null);
        }}
        onDrop={(event) => drop(event, '.')}
        className={`min-h-0 flex-1 overflow-auto py-1 ${dropDir === '.' ? 'bg-accent-soft/40' : ''}`}
      >
        {tree.rootPending ? (
          <Loading label="Loading files…" />
        ) : tree.rootError ? (
          <div className="p-2">
            <Alert tone="error">{tree.rootError.message}</Alert>
          </div>
        ) : rows.length === 0 && !newEntry ? (
          <p className="px-3 py-2 text-[13px] text-muted">This workspace has no files yet.</p>
        ) : (
          [newEntry?.dir === '.' ? newEntryRow : null].concat(
            rows.flatMap((row, position) => [
              <TreeRowItem
                key={row.entry.path}
                row={row}
                selected={row.entry.path === selected}
                focusable={index === -1 ? position === 0 : position === index}
                dropTarget={dropDir === row.entry.path}
                problems={problemsAt(problems, row.entry.path, row.entry.type === 'directory')}
                peers={peers?.get(row.entry.path)}
                renaming={
                  prompt?.kind === 'rename' && prompt.entry.path === row.entry.path ? (
                    <InlineName
                      label={`Rename ${row.entry.name}`}
                      initial={row.entry.name}
                      onSubmit={(name) => rename(row.entry, name)}
                      onCancel={() => {
                        setPrompt(null);
                        focusPath(row.entry.path);
                      }}
                    />
                  ) : undefined
                }
                onClick={() => activate(row.entry)}
                onContextMenu={(event) => {
                  event.preventDefault();
                  event.stopPropagation();
                  setSelected(row.entry.path);
                  setMenu({ x: event.clientX, y: event.clientY, entry: row.entry });
                }}
                onDragOverFolder={setDropDir}
                onDropOnFolder={drop}
              />,
              newEntry?.dir === row.entry.path ? newEntryRow : null,
            ]),
          )
        )}
      </div>

      {menu ? (
        <TreeMenu
          x={menu.x}
          y={menu.y}
          items={menuItems(menu.entry)}
          onClose={() => setMenu(null)}
        />
      ) : null}

      <ConfirmDialog
        open={prompt?.kind === 'delete'}
        title={`Delete ${prompt?.kind === 'delete' ? baseName(prompt.entry.path) : ''}?`}
        description={
          prompt?.kind === 'delete' && prompt.entry.type === 'directory'
            ? 'The folder and everything in it are deleted from the workspace. This cannot be undone.'
            : 'The file is deleted from the workspace. This cannot be undone.'
        }
        confirmLabel="Delete"
        pending={deleting}
        error={deleteError}
        onConfirm={() => {
          if (prompt?.kind !== 'delete') return;
          setDeleting(true);
          actions
            .remove(prompt.entry.path)
            .then(() => {
              setPrompt(null);
              setDeleteError(null);
            })
            .catch((error: Error) => setDeleteError(error.message))
            .finally(() => setDeleting(false));
        }}
        onClose={() => {
          setPrompt(null);
          setDeleteError(null);
        }}
      />
    </div>
  );
}
