import { useQuery } from '@tanstack/react-query';
import { useCallback } from 'react';
import { allFilesQueryOptions } from '../../../api/files.ts';
import { Palette, useShortcut } from '../../palette/Palette.tsx';
import { FileIcon } from '../file-tree/FileIcon.tsx';
import { baseName } from '../file-tree/paths.ts';

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
  return (
    <Palette
      label="Go to file"
      placeholder="Type to find a file by name"
      items={files.data?.paths}
      pendingLabel="Listing files…"
      emptyLabel="No file matches."
      icon={(path) => <FileIcon name={baseName(path)} />}
      footer={
        files.data?.truncated ? (
          <li className="px-4 py-1.5 text-[12px] text-muted">
            This workspace has more files than Quick Open lists; search finds the rest.
          </li>
        ) : null
      }
      onChoose={onOpen}
      onClose={onClose}
    />
  );
}

/**
 * Ctrl/Cmd+P anywhere on the page: find a file by fuzzy name and open it. Shown while `open`
 * (the command palette opens it too).
 */
export function QuickOpen({
  workspace,
  open,
  onOpenChange,
  onOpen,
}: {
  workspace: string;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onOpen: (path: string) => void;
}) {
  // Capture phase: ahead of Monaco and xterm, and instead of the browser's print dialog.
  useShortcut(
    'p',
    useCallback(() => onOpenChange(true), [onOpenChange]),
    true,
  );
  return open ? (
    <QuickOpenDialog workspace={workspace} onOpen={onOpen} onClose={() => onOpenChange(false)} />
  ) : null;
}
