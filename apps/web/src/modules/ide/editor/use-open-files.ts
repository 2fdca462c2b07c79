import { useCallback, useEffect, useState } from 'react';

/** A line to scroll to once a file is shown; `nonce` makes a repeat request count. */
export interface Reveal {
  path: string;
  line: number;
  nonce: number;
}

interface OpenFilesState {
  tabs: string[];
  active: string | null;
}

const EMPTY: OpenFilesState = { tabs: [], active: null };

function storageKey(workspace: string): string {
  return `studio.ide.tabs.${workspace}`;
}

function readState(workspace: string): OpenFilesState {
  try {
    const raw = window.localStorage.getItem(storageKey(workspace));
    return raw === null ? EMPTY : (JSON.parse(raw) as OpenFilesState);
  } catch {
    return EMPTY;
  }
}

/** The editor's tabs, the active one and which have unsaved edits; tabs survive a reload. */
export function useOpenFiles(workspace: string) {
  const [state, setState] = useState<OpenFilesState>(() => readState(workspace));
  const [dirty, setDirty] = useState<ReadonlySet<string>>(new Set());
  const [reveal, setReveal] = useState<Reveal | null>(null);

  useEffect(() => {
    try {
      window.localStorage.setItem(storageKey(workspace), JSON.stringify(state));
    } catch {
      // Storage blocked: the tabs are not restored after a reload.
    }
  }, [workspace, state]);

  const open = useCallback((path: string, line?: number) => {
    setState((current) => ({
      tabs: current.tabs.includes(path) ? current.tabs : [...current.tabs, path],
      active: path,
    }));
    if (line !== undefined) setReveal({ path, line, nonce: Date.now() });
  }, []);

  const close = useCallback((path: string) => {
    setState((current) => {
      const index = current.tabs.indexOf(path);
      const tabs = current.tabs.filter((tab) => tab !== path);
      const active =
        current.active === path ? (tabs[Math.min(index, tabs.length - 1)] ?? null) : current.active;
      return { tabs, active };
    });
    setDirty((current) => without(current, path));
  }, []);

  /** Follow a rename or move: tabs under `from` now live under `to`. */
  const rename = useCallback((from: string, to: string) => {
    const move = (path: string) =>
      path === from ? to : path.startsWith(`${from}/`) ? to + path.slice(from.length) : path;
    setState((current) => ({
      tabs: current.tabs.map(move),
      active: current.active === null ? null : move(current.active),
    }));
  }, []);

  const setFileDirty = useCallback((path: string, isDirty: boolean) => {
    setDirty((current) => {
      if (current.has(path) === isDirty) return current;
      return isDirty ? new Set([...current, path]) : without(current, path);
    });
  }, []);

  return { ...state, dirty, reveal, open, close, rename, setFileDirty };
}

function without(set: ReadonlySet<string>, item: string): ReadonlySet<string> {
  if (!set.has(item)) return set;
  const next = new Set(set);
  next.delete(item);
  return next;
}

/** What `useOpenFiles` returns. */
export type OpenFiles = ReturnType<typeof useOpenFiles>;
