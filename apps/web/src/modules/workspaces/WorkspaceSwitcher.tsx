import { useQuery } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { workspaceRef, workspacesQueryOptions } from '../../api/workspaces.ts';
import { BoxesIcon } from '../../components/icons.tsx';
import { Palette, useShortcut } from '../palette/Palette.tsx';
import { recentFirst } from './recent.ts';

const OpenSwitcher = createContext<() => void>(() => {});

/** Opens the workspace switcher (for a button; the keyboard has Ctrl/Cmd+K). */
export function useOpenSwitcher(): () => void {
  return useContext(OpenSwitcher);
}

function SwitcherDialog({ onClose }: { onClose: () => void }) {
  const workspaces = useQuery(workspacesQueryOptions());
  const navigate = useNavigate();
  // One's own by name; one shared with them as `owner/name`, which finds it by either.
  const byName = useMemo(
    () =>
      new Map(
        (workspaces.data ?? []).map((item) => [
          item.role === 'owner' ? item.name : `${item.ownerEmail ?? 'shared'}/${item.name}`,
          item,
        ]),
      ),
    [workspaces.data],
  );
  // Recently opened here first, then the rest by when they were last active.
  const names = useMemo(() => {
    if (!workspaces.data) return undefined;
    const byActivity = [...byName]
      .sort(([, a], [, b]) => b.lastActiveAt.localeCompare(a.lastActiveAt))
      .map(([label]) => label);
    return recentFirst(byActivity);
  }, [workspaces.data, byName]);

  return (
    <Palette
      label="Switch workspace"
      placeholder="Type a workspace name"
      items={names}
      pendingLabel="Loading workspaces…"
      emptyLabel="No workspace matches."
      icon={(name) => (
        <span className="flex items-center gap-2">
          <BoxesIcon className="size-4 text-muted" />
          <span
            aria-hidden="true"
            title={byName.get(name)?.status}
            className={`size-1.5 rounded-full ${
              byName.get(name)?.status === 'running' ? 'bg-success' : 'bg-line-strong'
            }`}
          />
        </span>
      )}
      onChoose={(label) => {
        const chosen = byName.get(label);
        if (chosen) void navigate(`/w/${encodeURIComponent(workspaceRef(chosen))}`);
      }}
      onClose={onClose}
    />
  );
}

/** Ctrl/Cmd+K on any signed-in page: jump to a workspace's IDE by name, recent ones first. */
export function WorkspaceSwitcher({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState(false);
  const show = useCallback(() => setOpen(true), []);
  // Bubble phase: a focused Monaco keeps its Ctrl+K chords, a focused terminal its ^K.
  useShortcut('k', show, false);
  return (
    <OpenSwitcher.Provider value={show}>
      {children}
      {open ? <SwitcherDialog onClose={() => setOpen(false)} /> : null}
    </OpenSwitcher.Provider>
  );
}
