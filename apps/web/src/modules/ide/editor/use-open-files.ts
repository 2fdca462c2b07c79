import { useCallback, useEffect, useState } from 'react';
import { draftPaths } from './drafts.ts';

/** Selected lines of the active editor (1-based, inclusive) and their text. */
export interface EditorSelection {
  startLine: number;
  endLine: number;
  text: string;
}

/** One problem Monaco reports for the active file. */
export interface EditorDiagnostic {
  line: number;
  severity: 'error' | 'warning' | 'info';
  message: string;
}

/** What others (the assistant, the status bar) see of the active text editor; replaced, never mutated. */
export interface EditorSnapshot {
  path: string;
  languageId: string;
  selection: EditorSelection | null;
  diagnostics: EditorDiagnostic[];
  /** Where the cursor is (1-based). */
  cursor: { line: number; column: number };
  /** Spaces of a width, or tabs shown that wide. */
  indentation: { insertSpaces: boolean; tabSize: number };
}

/** What others may do with the active text editor. */
export interface ActiveEditor {
  getValue(): string;
  /** Replace the selection (or insert at the cursor) with `text`, as one undoable edit. */
  insertAtCursor(text: string): void;
  /** Replace the whole text, as one undoable edit; the file stays unsaved. */
  replaceContent(text: string): void;
  /** The editor's commands (Save, Go to Line, Format Document, …) with their shortcuts. */
  commands(): { label: string; shortcut?: string; run: () => void }[];
}

/** The editor's selection quick actions ("Explain", …), handed to the assistant. */
export type QuickActionKind = 'explain' | 'tests' | 'optimise' | 'fix';

/** A quick action with what it acts on. */
export interface QuickAction {
  kind: QuickActionKind;
  path: string;
  selection: EditorSelection;
  /** The problems on the selected lines. */
  diagnostics: EditorDiagnostic[];
}

/** The terminal shown in the IDE, as the assistant sees it. */
export interface ActiveTerminal {
  title: string;
  /** Its last `maxLines` lines as plain text, read from the buffer when asked (at send time). */
  readOutput(maxLines: number): string;
}

/**
 * How the editor, the shown terminal and the assistant reach each other without importing each
 * other: the editor attaches itself and publishes snapshots, the terminal attaches a reader; the
 * assistant subscribes (`useSyncExternalStore`).
 */
export interface EditorBridge {
  attach(editor: ActiveEditor | null, snapshot: EditorSnapshot | null): void;
  publish(snapshot: EditorSnapshot): void;
  getEditor(): ActiveEditor | null;
  getSnapshot(): EditorSnapshot | null;
  subscribe(listener: () => void): () => void;
  /** The shown terminal attaches itself; the answer detaches it, unless another came since. */
  attachTerminal(terminal: ActiveTerminal): () => void;
  getTerminal(): ActiveTerminal | null;
  /** Hand an action to the assistant; it waits until the assistant takes it (it may be loading). */
  runQuickAction(action: QuickAction): void;
  onQuickAction(listener: (action: QuickAction) => void): () => void;
  /** The action not yet taken, once. */
  takeQuickAction(): QuickAction | null;
  /** The problems of every open file, published by the editor as they change. */
  publishProblems(problems: FileProblem[]): void;
  getProblems(): FileProblem[];
}

/** One problem of an open file, for the Problems panel. */
export interface FileProblem extends EditorDiagnostic {
  path: string;
  column: number;
  source?: string;
}

/** A bridge with no editor attached. */
export function createEditorBridge(): EditorBridge {
  let editor: ActiveEditor | null = null;
  let snapshot: EditorSnapshot | null = null;
  let key = 'null';
  const listeners = new Set<() => void>();
  const actionListeners = new Set<(action: QuickAction) => void>();
  let pendingAction: QuickAction | null = null;
  let terminal: ActiveTerminal | null = null;
  let problems: FileProblem[] = [];
  let problemsKey = '[]';
  const notify = () => {
    for (const listener of listeners) listener();
  };
  const set = (next: EditorSnapshot | null) => {
    // Selection events fire on every keystroke; subscribers re-render only on a real change.
    const nextKey = JSON.stringify(next);
    if (nextKey === key) return;
    key = nextKey;
    snapshot = next;
    notify();
  };
  return {
    attach(next, nextSnapshot) {
      editor = next;
      set(nextSnapshot);
    },
    publish: set,
    getEditor: () => editor,
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    attachTerminal(next) {
      terminal = next;
      notify();
      return () => {
        if (terminal !== next) return;
        terminal = null;
        notify();
      };
    },
    getTerminal: () => terminal,
    runQuickAction(action) {
      pendingAction = action;
      for (const listener of actionListeners) listener(action);
    },
    takeQuickAction() {
      const action = pendingAction;
      pendingAction = null;
      return action;
    },
    onQuickAction(listener) {
      actionListeners.add(listener);
      return () => actionListeners.delete(listener);
    },
    publishProblems(next) {
      const nextKey = JSON.stringify(next);
      if (nextKey === problemsKey) return;
      problemsKey = nextKey;
      problems = next;
      notify();
    },
    getProblems: () => problems,
  };
}

/**
 * A line to scroll to once a file is shown, and what to select on it (a search match); `nonce`
 * makes a repeat request count.
 */
export interface Reveal {
  path: string;
  line: number;
  select?: { column: number; length: number } | undefined;
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
  let state = EMPTY;
  try {
    const raw = window.localStorage.getItem(storageKey(workspace));
    if (raw !== null) state = JSON.parse(raw) as OpenFilesState;
  } catch {
    // Unreadable: start without tabs (drafts still get theirs below).
  }
  // A kept draft always has a tab, so unsaved text is never out of reach.
  const orphans = draftPaths(workspace).filter((path) => !state.tabs.includes(path));
  return orphans.length === 0
    ? state
    : { tabs: [...state.tabs, ...orphans], active: state.active ?? orphans[0]! };
}

/** The editor's tabs, the active one and which have unsaved edits; tabs survive a reload. */
export function useOpenFiles(workspace: string) {
  const [state, setState] = useState<OpenFilesState>(() => readState(workspace));
  // Marked from the drafts at once, not only once each file's editor has been shown.
  const [dirty, setDirty] = useState<ReadonlySet<string>>(() => new Set(draftPaths(workspace)));
  const [reveal, setReveal] = useState<Reveal | null>(null);
  const [editor] = useState(createEditorBridge);
  /** The person whose editor this one follows (their key): it goes where theirs goes. */
  const [following, follow] = useState<string | null>(null);

  useEffect(() => {
    try {
      window.localStorage.setItem(storageKey(workspace), JSON.stringify(state));
    } catch {
      // Storage blocked: the tabs are not restored after a reload.
    }
  }, [workspace, state]);

  const open = useCallback((path: string, line?: number, select?: Reveal['select']) => {
    setState((current) => ({
      tabs: current.tabs.includes(path) ? current.tabs : [...current.tabs, path],
      active: path,
    }));
    if (line !== undefined) setReveal({ path, line, select, nonce: Date.now() });
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

  return {
    ...state,
    dirty,
    reveal,
    editor,
    open,
    close,
    rename,
    setFileDirty,
    following,
    follow,
  };
}

function without(set: ReadonlySet<string>, item: string): ReadonlySet<string> {
  if (!set.has(item)) return set;
  const next = new Set(set);
  next.delete(item);
  return next;
}

/** What `useOpenFiles` returns. */
export type OpenFiles = ReturnType<typeof useOpenFiles>;
