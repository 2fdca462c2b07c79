import type { ComponentType, SVGProps } from 'react';
import {
  AlertIcon,
  BranchIcon,
  DebugIcon,
  FilesIcon,
  GlobeIcon,
  SearchIcon,
} from '../../components/icons.tsx';

export type SidebarView = 'files' | 'search' | 'git' | 'run' | 'problems' | 'ports';

const VIEWS: {
  id: SidebarView;
  label: string;
  shortcut?: string;
  icon: ComponentType<SVGProps<SVGSVGElement>>;
}[] = [
  { id: 'files', label: 'Files', icon: FilesIcon },
  { id: 'search', label: 'Search', icon: SearchIcon },
  { id: 'git', label: 'Git', icon: BranchIcon },
  { id: 'run', label: 'Run and Debug', shortcut: 'Ctrl+Shift+D', icon: DebugIcon },
  { id: 'problems', label: 'Problems', shortcut: 'Ctrl+Shift+M', icon: AlertIcon },
  { id: 'ports', label: 'Ports', icon: GlobeIcon },
];

/**
 * VS Code's activity bar: one icon per sidebar view, down the left edge, with a count where the
 * view has one. A click shows the view (and the sidebar, when Ctrl/Cmd+B had hidden it).
 */
export function ActivityBar({
  view,
  open,
  counts,
  onSelect,
}: {
  view: SidebarView;
  /** Whether the sidebar is showing. */
  open: boolean;
  counts: Partial<Record<SidebarView, number>>;
  onSelect: (view: SidebarView) => void;
}) {
  return (
    <div
      role="tablist"
      aria-label="Sidebar"
      aria-orientation="vertical"
      className="flex w-11 shrink-0 flex-col items-center gap-0.5 border-r border-line bg-subtle/60 py-1"
    >
      {VIEWS.map(({ id, label, shortcut, icon: Icon }) => {
        const selected = open && view === id;
        const count = counts[id] ?? 0;
        return (
          <button
            key={id}
            type="button"
            role="tab"
            aria-selected={selected}
            aria-label={count > 0 ? `${label} (${count})` : label}
            title={shortcut ? `${label} (${shortcut})` : label}
            onClick={() => onSelect(id)}
            className={`relative flex size-10 items-center justify-center rounded text-[20px] ${
              selected
                ? 'text-fg shadow-[inset_2px_0_0_var(--color-accent)]'
                : 'text-muted hover:text-fg'
            }`}
          >
            <Icon />
            {count > 0 ? (
              <span className="absolute right-0.5 bottom-1 min-w-4 rounded-full bg-accent px-1 text-center text-[10px] leading-4 font-semibold text-accent-fg">
                {count > 99 ? '99+' : count}
              </span>
            ) : null}
          </button>
        );
      })}
    </div>
  );
}
