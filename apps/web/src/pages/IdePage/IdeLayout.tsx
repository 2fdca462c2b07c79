import type { Workspace } from '@studio/protocol';
import { useState, type ReactNode } from 'react';
import { Group, Panel, Separator, useDefaultLayout, usePanelRef } from 'react-resizable-panels';
import { EditorArea } from '../../modules/ide/editor/EditorArea.tsx';
import { useOpenFiles } from '../../modules/ide/editor/use-open-files.ts';
import { FileTree } from '../../modules/ide/file-tree/FileTree.tsx';
import { QuickOpen } from '../../modules/ide/quick-open/QuickOpen.tsx';
import { SearchPanel } from '../../modules/ide/search/SearchPanel.tsx';
import { TerminalPanel } from '../../modules/ide/terminal/TerminalPanel.tsx';
import { useFileWatch } from '../../modules/ide/use-file-watch.ts';
import { AssistantPlaceholder } from './AssistantPlaceholder.tsx';
import { IdeHeader } from './IdeHeader.tsx';

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
      className={`h-8 px-3 text-[12px] font-medium ${
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

/** The running workspace: files and search left, editor and terminals in the middle, assistant right. */
export function IdeLayout({ workspace }: { workspace: Workspace }) {
  const name = workspace.name;
  const files = useOpenFiles(name);
  const [sidebar, setSidebar] = useState<'files' | 'search'>('files');
  const [assistantOpen, setAssistantOpen] = useState(false);
  const assistantRef = usePanelRef();
  const main = useDefaultLayout({ id: 'studio.ide.layout.main', storage });
  const center = useDefaultLayout({ id: 'studio.ide.layout.center', storage });
  useFileWatch(name);

  return (
    <div className="flex h-full flex-col">
      <IdeHeader
        workspace={workspace}
        assistant={{
          open: assistantOpen,
          onToggle: () => {
            if (assistantRef.current?.isCollapsed()) assistantRef.current.expand();
            else assistantRef.current?.collapse();
          },
        }}
      />
      <Group orientation="horizontal" className="min-h-0 flex-1" {...main}>
        <Panel id="sidebar" defaultSize="20" minSize="160px" collapsible>
          <div className="flex h-full min-h-0 flex-col border-r border-line">
            <div
              role="tablist"
              aria-label="Sidebar"
              className="flex shrink-0 border-b border-line bg-subtle/60"
            >
              <SidebarTab selected={sidebar === 'files'} onClick={() => setSidebar('files')}>
                Files
              </SidebarTab>
              <SidebarTab selected={sidebar === 'search'} onClick={() => setSidebar('search')}>
                Search
              </SidebarTab>
            </div>
            <div className="min-h-0 flex-1">
              {sidebar === 'files' ? (
                <FileTree workspace={name} onOpen={files.open} onRenamed={files.rename} />
              ) : (
                <SearchPanel workspace={name} onOpen={files.open} />
              )}
            </div>
          </div>
        </Panel>
        <ResizeHandle direction="horizontal" />
        <Panel id="center" minSize="30">
          <Group orientation="vertical" {...center}>
            <Panel id="editor" defaultSize="62" minSize="20">
              <EditorArea workspace={name} files={files} />
            </Panel>
            <ResizeHandle direction="vertical" />
            <Panel id="terminals" defaultSize="38" minSize="80px" collapsible>
              <TerminalPanel workspace={name} />
            </Panel>
          </Group>
        </Panel>
        <ResizeHandle direction="horizontal" />
        <Panel
          id="assistant"
          panelRef={assistantRef}
          defaultSize="0"
          minSize="240px"
          collapsible
          onResize={(size) => setAssistantOpen(size.asPercentage > 0)}
        >
          <AssistantPlaceholder />
        </Panel>
      </Group>
      <QuickOpen workspace={name} onOpen={files.open} />
    </div>
  );
}
