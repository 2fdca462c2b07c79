import { workspaceRef } from '../../api/workspaces.ts';
import { WorkspaceRoleContext } from '../../modules/workspaces/workspace-role.ts';
import type { Workspace } from '@studio/protocol';
import { useQuery } from '@tanstack/react-query';
import {
  lazy,
  useCallback,
  useMemo,
  Suspense,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { Group, Panel, Separator, useDefaultLayout, usePanelRef } from 'react-resizable-panels';
import { EditorArea } from '../../modules/ide/editor/EditorArea.tsx';
import { useOpenFiles, type EditorBridge } from '../../modules/ide/editor/use-open-files.ts';
import { useWorkspacePresence } from '../../modules/ide/editor/use-workspace-presence.ts';
import { portsQueryOptions } from '../../api/ports.ts';
import { FileTree } from '../../modules/ide/file-tree/FileTree.tsx';
import type { FileProblems } from '../../modules/ide/file-tree/TreeRowItem.tsx';
import { QuickOpen } from '../../modules/ide/quick-open/QuickOpen.tsx';
import { ProblemsPanel } from '../../modules/ide/ProblemsPanel.tsx';
import { StatusBar } from '../../modules/ide/StatusBar.tsx';
import { CommandPalette, type Command } from '../../modules/ide/CommandPalette.tsx';
import { SymbolPalette } from '../../modules/ide/SymbolPalette.tsx';
import { useCapturedKey } from '../../modules/palette/Palette.tsx';
import { useTheme } from '../../modules/theme/ThemeProvider.tsx';
import { TerminalPanel } from '../../modules/ide/terminal/TerminalPanel.tsx';
import { useFileWatch } from '../../modules/ide/use-file-watch.ts';
import {
  configForFile,
  debugControllerFor,
  type DebugController,
} from '../../modules/ide/debug/debug-session.ts';
import { Loading } from '../../components/Spinner.tsx';
import { ActivityBar, type SidebarView } from './ActivityBar.tsx';
import { IdeHeader } from './IdeHeader.tsx';

// Panels that start hidden load when first shown, keeping the JS before the editor small.
const SearchPanel = lazy(() =>
  import('../../modules/ide/search/SearchPanel.tsx').then((m) => ({ default: m.SearchPanel })),
);
const SourceControlPanel = lazy(() =>
  import('../../modules/ide/git/SourceControlPanel.tsx').then((m) => ({
    default: m.SourceControlPanel,
  })),
);
const DebugPanel = lazy(() =>
  import('../../modules/ide/debug/DebugPanel.tsx').then((m) => ({ default: m.DebugPanel })),
);
const PortsPanel = lazy(() =>
  import('../../modules/ide/ports/PortsPanel.tsx').then((m) => ({ default: m.PortsPanel })),
);
// The assistant loads when its panel first opens, so the IDE's first load does not grow.
const AssistantPanel = lazy(() => import('../../modules/assistant/AssistantPanel.tsx'));
const PreviewPane = lazy(() =>
  import('../../modules/ide/preview/PreviewPane.tsx').then((m) => ({ default: m.PreviewPane })),
);
// noVNC comes with the viewer, only for desktop workspaces and only once the view is shown.
const DesktopViewer = lazy(() =>
  import('../../modules/desktop/DesktopViewer.tsx').then((m) => ({ default: m.DesktopViewer })),
);

function ResizeHandle({ direction }: { direction: 'horizontal' | 'vertical' }) {
  return (
    <Separator
      className={`bg-line transition-colors hover:bg-accent data-[separator=active]:bg-accent ${
        direction === 'horizontal' ? 'w-px' : 'h-px'
      }`}
    />
  );
}

function SidebarTab({
  selected,
  onClick,
  children,
}: {
  selected: boolean;
  onClick: () => void;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      role="tab"
      aria-selected={selected}
      onClick={onClick}
      className={`h-8 shrink-0 px-2 text-[12px] font-medium whitespace-nowrap ${
        selected
          ? 'text-fg shadow-[inset_0_-2px_0_var(--color-accent)]'
          : 'text-muted hover:text-fg'
      }`}
    >
      {children}
    </button>
  );
}

// Remembered sizes go to localStorage under these ids (one per split).
const storage = typeof window === 'undefined' ? undefined : window.localStorage;

/** The port shown in the right panel, remembered per workspace like the panel sizes. */
function usePreviewPort(workspace: string) {
  const key = `studio.ide.preview.${workspace}`;
  const [port, setPort] = useState<number | null>(() => {
    const stored = Number(storage?.getItem(key));
    return Number.isInteger(stored) && stored > 0 ? stored : null;
  });
  const remember = (next: number | null) => {
    setPort(next);
    try {
      if (next === null) storage?.removeItem(key);
      else storage?.setItem(key, String(next));
    } catch {
      // Storage blocked: the preview is not reopened after a reload.
    }
  };
  return [port, remember] as const;
}

/** Opens the assistant panel when the editor hands it a quick action ("Explain", …). */
function QuickActionOpener({ editor, onOpen }: { editor: EditorBridge; onOpen: () => void }) {
  const onOpenRef = useRef(onOpen);
  useEffect(() => {
    onOpenRef.current = onOpen;
  });
  useEffect(() => editor.onQuickAction(() => onOpenRef.current()), [editor]);
  return null;
}

/** Ctrl/Cmd+Alt+I, VS Code's chat shortcut. `code`, not `key`: on a Mac, Alt+I types "ˆ". */
function isAssistantShortcut(event: KeyboardEvent): boolean {
  return (
    (event.ctrlKey || event.metaKey) && event.altKey && !event.shiftKey && event.code === 'KeyI'
  );
}

function isSidebarShortcut(event: KeyboardEvent): boolean {
  return (
    (event.ctrlKey || event.metaKey) && !event.shiftKey && !event.altKey && event.code === 'KeyB'
  );
}

function isProblemsShortcut(event: KeyboardEvent): boolean {
  return (event.ctrlKey || event.metaKey) && event.shiftKey && event.code === 'KeyM';
}

/** Starts "debug this file" for `active`, or shows the Run panel to pick a configuration. */
function startFileDebugging(
  debug: DebugController,
  active: string | null,
  showRun: () => void,
): void {
  showRun();
  const config = active ? configForFile(active) : null;
  if (config) void debug.start(config, active);
}

/**
 * VS Code's debugging keys: F5 starts (this file) or continues, Shift+F5 stops, Ctrl+Shift+F5
 * restarts, F6 pauses, F10/F11/Shift+F11 step, Ctrl/Cmd+Shift+D shows Run and Debug. Keys other
 * than F5 and the view's are left to the browser while nothing is being debugged.
 */
function useDebugKeys(workspace: string, active: string | null, showRun: () => void) {
  const debug = debugControllerFor(workspace);
  const actionFor = (event: KeyboardEvent): (() => unknown) | null => {
    const ctrl = event.ctrlKey || event.metaKey;
    if (ctrl && event.shiftKey && !event.altKey && event.code === 'KeyD') return showRun;
    const status = debug.getState().session?.status;
    const live = status !== undefined && status !== 'ended';
    if (event.key === 'F5' && !event.shiftKey && !ctrl) {
      if (live) return debug.continue;
      if (active && configForFile(active)) return () => startFileDebugging(debug, active, showRun);
      return null;
    }
    if (!live || event.altKey) return null;
    if (event.key === 'F5' && event.shiftKey)
      return ctrl ? () => debug.restart(active) : debug.stop;
    if (event.key === 'F6') return debug.pause;
    if (event.key === 'F10') return debug.stepOver;
    if (event.key === 'F11') return event.shiftKey ? debug.stepOut : debug.stepInto;
    return null;
  };
  useCapturedKey(
    (event) => actionFor(event) !== null,
    (event) => void actionFor(event)?.(),
  );
  return debug;
}

/** The running workspace: files and search left, editor and terminals in the middle, assistant right. */
export function IdeLayout({ workspace }: { workspace: Workspace }) {
  const name = workspaceRef(workspace);
  const files = useOpenFiles(name);
  const presence = useWorkspacePresence(name, files.active);
  // Following someone: this editor opens the file theirs shows, whenever it changes.
  const followedPath = files.following
    ? presence.peers.find((peer) => peer.key === files.following)?.path
    : undefined;
  const openFollowed = files.open;
  useEffect(() => {
    if (followedPath) openFollowed(followedPath);
  }, [followedPath, openFollowed]);
  const [sidebar, setSidebar] = useState<SidebarView>('files');
  const sidebarRef = usePanelRef();
  const [sidebarOpen, setSidebarOpen] = useState(true);
  const showSidebar = useCallback(
    (view: SidebarView) => {
      setSidebar(view);
      if (sidebarRef.current?.isCollapsed()) sidebarRef.current.expand();
    },
    [sidebarRef],
  );
  // Ctrl/Cmd+B hides and shows the sidebar, as in VS Code.
  const toggleSidebar = () =>
    sidebarRef.current?.isCollapsed()
      ? sidebarRef.current.expand()
      : sidebarRef.current?.collapse();
  useCapturedKey(isSidebarShortcut, toggleSidebar);
  // Ctrl/Cmd+Shift+M shows the problems, as in VS Code.
  useCapturedKey(isProblemsShortcut, () => showSidebar('problems'));
  const debug = useDebugKeys(name, files.active, () => showSidebar('run'));
  // Where the program stopped comes into view, as in VS Code.
  const paused = useSyncExternalStore(debug.subscribe, () => debug.getState().location);
  const openFile = files.open;
  // "Add Conditional Breakpoint…" in the editor asks for the condition in the Run panel.
  useEffect(
    () =>
      debug.subscribe(() => {
        if (debug.getState().editing) showSidebar('run');
      }),
    [debug, showSidebar],
  );
  useEffect(() => {
    if (paused) openFile(paused.path, paused.line);
  }, [paused, openFile]);
  const problems = useSyncExternalStore(files.editor.subscribe, files.editor.getProblems);
  const problemCount = problems.length;
  const problemsByFile = useMemo(() => {
    const byFile = new Map<string, FileProblems>();
    for (const { path, severity } of problems) {
      if (severity === 'info') continue;
      const seen = byFile.get(path);
      byFile.set(path, {
        severity: seen?.severity === 'error' ? 'error' : severity,
        count: (seen?.count ?? 0) + 1,
      });
    }
    return byFile;
  }, [problems]);
  const [rightOpen, setRightOpen] = useState(false);
  const [previewPort, setPreviewPort] = usePreviewPort(name);
  const hasDesktop = workspace.desktop;
  const [right, setRight] = useState<'assistant' | 'preview' | 'desktop'>(
    previewPort === null ? 'assistant' : 'preview',
  );
  const rightRef = usePanelRef();
  const portCount = useQuery(portsQueryOptions(name)).data?.length ?? 0;
  const main = useDefaultLayout({ id: 'studio.ide.layout.main', storage });
  const center = useDefaultLayout({ id: 'studio.ide.layout.center', storage });
  useFileWatch(name);
  // The panel mounts only once opened (it stays mounted after), so a closed one costs nothing.
  const [assistantUsed, setAssistantUsed] = useState(false);
  const [focusRequest, setFocusRequest] = useState(0);
  const rightAreaRef = useRef<HTMLDivElement>(null);
  // Where the shortcut took focus from, to give it back when the same shortcut closes the panel.
  const returnFocusRef = useRef<HTMLElement | null>(null);

  const showRight = (view: 'assistant' | 'preview' | 'desktop') => {
    setRight(view);
    if (view === 'assistant') setAssistantUsed(true);
    if (rightRef.current?.isCollapsed()) rightRef.current.expand();
    // Approval cards show commands and diffs: a sliver of a panel cuts them off.
    if ((rightRef.current?.getSize().asPercentage ?? 0) < 26) rightRef.current?.resize('28%');
    // A scaled-down desktop is unreadable below about 40% of the window.
    if (view === 'desktop' && (rightRef.current?.getSize().asPercentage ?? 0) < 38)
      rightRef.current?.resize('40%');
  };
  const openPreview = (port: number) => {
    setPreviewPort(port);
    setRight('preview');
    // A page needs room: a collapsed or narrow panel opens to a third of the window.
    if ((rightRef.current?.getSize().asPercentage ?? 0) < 30) rightRef.current?.resize('36%');
  };
  const assistantOpen = rightOpen && right === 'assistant';
  const desktopOpen = rightOpen && right === 'desktop';

  // Open and focus the input; pressed again from inside the panel, close it and go back.
  useCapturedKey(isAssistantShortcut, () => {
    const active = document.activeElement;
    if (assistantOpen && active && rightAreaRef.current?.contains(active)) {
      rightRef.current?.collapse();
      const back = returnFocusRef.current;
      returnFocusRef.current = null;
      if (back?.isConnected) back.focus();
      return;
    }
    returnFocusRef.current =
      active instanceof HTMLElement && active !== document.body ? active : null;
    showRight('assistant');
    setFocusRequest((count) => count + 1);
  });

  const [quickOpen, setQuickOpen] = useState(false);
  const [symbolsOpen, setSymbolsOpen] = useState(false);
  const { resolved: theme, setPreference: setTheme } = useTheme();
  // Asked when the palette opens: the IDE's commands, then the editor's (when a file is open).
  const commands = (): Command[] => [
    { label: 'Go to File…', shortcut: 'Ctrl+P', run: () => setQuickOpen(true) },
    { label: 'Go to Symbol in Workspace…', shortcut: 'Ctrl+T', run: () => setSymbolsOpen(true) },
    { label: 'View: Toggle Sidebar', shortcut: 'Ctrl+B', run: toggleSidebar },
    { label: 'View: Show Files', run: () => showSidebar('files') },
    { label: 'View: Show Search', run: () => showSidebar('search') },
    { label: 'View: Show Source Control', run: () => showSidebar('git') },
    { label: 'View: Show Run and Debug', shortcut: 'Ctrl+Shift+D', run: () => showSidebar('run') },
    { label: 'View: Show Problems', shortcut: 'Ctrl+Shift+M', run: () => showSidebar('problems') },
    {
      label: 'Debug: Start Debugging (this file)',
      shortcut: 'F5',
      run: () => startFileDebugging(debug, files.active, () => showSidebar('run')),
    },
    { label: 'Debug: Stop', shortcut: 'Shift+F5', run: () => void debug.stop() },
    { label: 'View: Show Ports', run: () => showSidebar('ports') },
    {
      label: 'View: Toggle Assistant',
      shortcut: 'Ctrl+Alt+I',
      run: () => (assistantOpen ? rightRef.current?.collapse() : showRight('assistant')),
    },
    {
      label: `Preferences: Switch to ${theme === 'dark' ? 'Light' : 'Dark'} Theme`,
      run: () => setTheme(theme === 'dark' ? 'light' : 'dark'),
    },
    ...(files.editor.getEditor()?.commands() ?? []),
  ];

  const closePreview = () => {
    setPreviewPort(null);
    setRight('assistant');
    rightRef.current?.collapse();
  };

  return (
    <WorkspaceRoleContext.Provider value={workspace.role}>
      <div className="flex h-full flex-col">
        <IdeHeader
          workspace={workspace}
          assistant={{
            open: assistantOpen,
            onToggle: () => {
              if (assistantOpen) rightRef.current?.collapse();
              else showRight('assistant');
            },
          }}
          desktop={
            hasDesktop
              ? {
                  open: desktopOpen,
                  onToggle: () => {
                    if (desktopOpen) rightRef.current?.collapse();
                    else showRight('desktop');
                  },
                }
              : undefined
          }
        />
        <div className="flex min-h-0 flex-1">
          <ActivityBar
            view={sidebar}
            open={sidebarOpen}
            counts={{ problems: problemCount, ports: portCount }}
            onSelect={showSidebar}
          />
          <Group orientation="horizontal" className="min-h-0 min-w-0 flex-1" {...main}>
            <Panel
              id="sidebar"
              panelRef={sidebarRef}
              defaultSize="20"
              minSize="160px"
              collapsible
              onResize={(size) => setSidebarOpen(size.asPercentage > 0)}
            >
              <div className="flex h-full min-h-0 flex-col border-r border-line">
                <div className="min-h-0 flex-1">
                  <Suspense fallback={<Loading label="Loading…" />}>
                    {sidebar === 'files' ? (
                      <FileTree
                        workspace={name}
                        onOpen={files.open}
                        onRenamed={files.rename}
                        problems={problemsByFile}
                        active={files.active}
                        peers={presence.byPath}
                        label={workspace.name}
                      />
                    ) : sidebar === 'search' ? (
                      <SearchPanel workspace={name} onOpen={files.open} />
                    ) : sidebar === 'git' ? (
                      <SourceControlPanel workspace={name} onOpen={files.open} />
                    ) : sidebar === 'run' ? (
                      <DebugPanel workspace={name} activeFile={files.active} onOpen={files.open} />
                    ) : sidebar === 'problems' ? (
                      <ProblemsPanel bridge={files.editor} onOpen={files.open} />
                    ) : (
                      <PortsPanel
                        workspace={name}
                        declared={workspace.ports}
                        onPreview={openPreview}
                      />
                    )}
                  </Suspense>
                </div>
              </div>
            </Panel>
            <ResizeHandle direction="horizontal" />
            <Panel id="center" minSize="30">
              <Group orientation="vertical" {...center}>
                <Panel id="editor" defaultSize="62" minSize="20">
                  <EditorArea workspace={name} files={files} peers={presence.byPath} />
                </Panel>
                <ResizeHandle direction="vertical" />
                <Panel id="terminals" defaultSize="38" minSize="80px" collapsible>
                  <TerminalPanel workspace={name} bridge={files.editor} />
                </Panel>
              </Group>
            </Panel>
            <ResizeHandle direction="horizontal" />
            <Panel
              id="assistant"
              panelRef={rightRef}
              defaultSize="0"
              minSize="240px"
              collapsible
              onResize={(size) => setRightOpen(size.asPercentage > 0)}
            >
              <div ref={rightAreaRef} className="flex h-full min-h-0 flex-col border-l border-line">
                {previewPort !== null || hasDesktop ? (
                  <div
                    role="tablist"
                    aria-label="Right panel"
                    className="flex shrink-0 border-b border-line bg-subtle/60"
                  >
                    {previewPort !== null ? (
                      <SidebarTab
                        selected={right === 'preview'}
                        onClick={() => setRight('preview')}
                      >
                        Preview :{previewPort}
                      </SidebarTab>
                    ) : null}
                    {hasDesktop ? (
                      <SidebarTab
                        selected={right === 'desktop'}
                        onClick={() => showRight('desktop')}
                      >
                        Desktop
                      </SidebarTab>
                    ) : null}
                    <SidebarTab
                      selected={right === 'assistant'}
                      onClick={() => setRight('assistant')}
                    >
                      Assistant
                    </SidebarTab>
                  </div>
                ) : null}
                <div className="min-h-0 flex-1">
                  {right === 'preview' && previewPort !== null ? (
                    <Suspense fallback={<Loading label="Loading…" />}>
                      <PreviewPane workspace={name} port={previewPort} onClose={closePreview} />
                    </Suspense>
                  ) : right === 'desktop' && hasDesktop ? (
                    // Mounted only while shown: hiding the panel or the tab disconnects.
                    desktopOpen ? (
                      <Suspense fallback={<Loading label="Loading the desktop viewer…" />}>
                        <DesktopViewer workspace={name} />
                      </Suspense>
                    ) : null
                  ) : assistantUsed || rightOpen ? (
                    <Suspense fallback={<Loading label="Loading the assistant…" />}>
                      <AssistantPanel
                        workspace={name}
                        tabs={files.tabs}
                        editor={files.editor}
                        focusRequest={focusRequest}
                      />
                    </Suspense>
                  ) : (
                    <aside aria-label="Assistant" className="h-full" />
                  )}
                </div>
              </div>
            </Panel>
          </Group>
        </div>
        <StatusBar
          workspace={name}
          bridge={files.editor}
          onShowProblems={() => showSidebar('problems')}
        />
        <QuickOpen
          workspace={name}
          open={quickOpen}
          onOpenChange={setQuickOpen}
          onOpen={files.open}
        />
        <SymbolPalette
          workspace={name}
          open={symbolsOpen}
          onOpenChange={setSymbolsOpen}
          onOpen={files.open}
        />
        <CommandPalette commands={commands} />
        <QuickActionOpener editor={files.editor} onOpen={() => showRight('assistant')} />
      </div>
    </WorkspaceRoleContext.Provider>
  );
}
