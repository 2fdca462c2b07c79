import type { FileListEntry } from '@studio/protocol';
import { useQueries } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { directoryQueryOptions } from '../../../api/files.ts';

/** One visible row of the tree. */
export interface TreeRow {
  entry: FileListEntry;
  depth: number;
  expanded: boolean;
  /** True while a folder's children are being listed. */
  loading: boolean;
}

function storageKey(workspace: string): string {
  return `studio.ide.expanded.${workspace}`;
}

function readExpanded(workspace: string): string[] {
  try {
    const raw = window.localStorage.getItem(storageKey(workspace));
    return raw === null ? [] : (JSON.parse(raw) as string[]);
  } catch {
    return [];
  }
}

/**
 * The tree's state: which folders are open (remembered per workspace), their listings (fetched
 * when opened, cached by TanStack Query and refreshed by the watch socket), and the rows they
 * make, in display order.
 */
export function useFileTree(workspace: string) {
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(
    () => new Set(readExpanded(workspace)),
  );

  useEffect(() => {
    try {
      window.localStorage.setItem(storageKey(workspace), JSON.stringify([...expanded]));
    } catch {
      // Storage blocked: folders start closed after a reload.
    }
  }, [workspace, expanded]);

  const directories = useMemo(() => ['.', ...expanded], [expanded]);
  const listings = useQueries({
    queries: directories.map((dir) => directoryQueryOptions(workspace, dir)),
  });

  const byDir = new Map<string, (typeof listings)[number]>();
  directories.forEach((dir, index) => byDir.set(dir, listings[index]!));

  const rows: TreeRow[] = [];
  const walk = (dir: string, depth: number) => {
    for (const entry of byDir.get(dir)?.data ?? []) {
      const open = entry.type === 'directory' && expanded.has(entry.path);
      const listing = open ? byDir.get(entry.path) : undefined;
      rows.push({ entry, depth, expanded: open, loading: listing?.isPending ?? false });
      if (open) walk(entry.path, depth + 1);
    }
  };
  walk('.', 0);

  const root = listings[0]!;

  const toggle = useCallback((path: string, open?: boolean) => {
    setExpanded((current) => {
      const next = new Set(current);
      if (open ?? !current.has(path)) next.add(path);
      else next.delete(path);
      return next;
    });
  }, []);

  /** Opens every folder above `path`, so its row is listed. */
  const reveal = useCallback((path: string) => {
    const parts = path.split('/').slice(0, -1);
    const above = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
    setExpanded((current) =>
      above.every((dir) => current.has(dir)) ? current : new Set([...current, ...above]),
    );
  }, []);

  return {
    rows,
    rootPending: root.isPending,
    rootError: root.error,
    toggle,
    reveal,
  };
}
