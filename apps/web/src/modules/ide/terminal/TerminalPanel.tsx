import { roleAllows, type Terminal } from '@studio/protocol';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import {
  closeTerminal,
  createTerminal,
  renameTerminal,
  terminalsQueryKey,
  terminalsQueryOptions,
} from '../../../api/terminals.ts';
import { Alert } from '../../../components/Alert.tsx';
import { Button } from '../../../components/Button.tsx';
import { CloseIcon, PlusIcon, TerminalIcon } from '../../../components/icons.tsx';
import { Loading } from '../../../components/Spinner.tsx';
import { useToast } from '../../../components/Toaster.tsx';
import type { EditorBridge } from '../editor/use-open-files.ts';
import { useWorkspaceRole } from '../../workspaces/workspace-role.ts';

// xterm.js loads with the first terminal shown, not before the editor.
const TerminalView = lazy(() =>
  import('./TerminalView.tsx').then((module) => ({ default: module.TerminalView })),
);

/** What a terminal's tab says: its title, or its place when it has none. */
function terminalTitle(terminal: Terminal, position: number): string {
  return terminal.title || `Terminal ${position + 1}`;
}

/** The program running in a terminal when it is not the shell it started with, as VS Code shows. */
function runningIn(terminal: Terminal, running: string | undefined): string | null {
  const shell = terminal.command.split(' ')[0]?.split('/').at(-1);
  return running && running !== shell ? running : null;
}

/**
 * The bottom panel: one tab per terminal; "+" opens a shell, and a reload re-attaches to all.
 * The shown terminal offers its output to the assistant through `bridge`.
 */
export function TerminalPanel({ workspace, bridge }: { workspace: string; bridge?: EditorBridge }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const terminals = useQuery(terminalsQueryOptions(workspace));
  // A viewer watches the terminals others opened; opening one needs the editor role.
  const mayOpen = roleAllows(useWorkspaceRole(), 'editor');
  const [active, setActive] = useState<string | null>(null);
  const [opening, setOpening] = useState(false);
  const [renaming, setRenaming] = useState<string | null>(null);
  /** What runs in each terminal's foreground, by terminal id. */
  const [running, setRunning] = useState<Record<string, string>>({});
  const list = terminals.data ?? [];
  const shown = list.find((terminal) => terminal.id === active) ?? list.at(-1) ?? null;

  const setList = (update: (current: Terminal[]) => Terminal[]) =>
    queryClient.setQueryData<Terminal[]>(terminalsQueryKey(workspace), (current = []) =>
      update(current),
    );

  const open = async () => {
    setOpening(true);
    try {
      const terminal = await createTerminal(workspace, { cols: 120, rows: 30 });
      setList((current) => [...current, terminal]);
      setActive(terminal.id);
    } catch (error) {
      toast(`Could not open a terminal: ${(error as Error).message}`, 'error');
    } finally {
      setOpening(false);
    }
  };

  const rename = async (terminal: Terminal, title: string) => {
    setRenaming(null);
    const trimmed = title.trim();
    if (trimmed === '' || trimmed === terminal.title) return;
    try {
      const renamed = await renameTerminal(workspace, terminal.id, trimmed);
      setList((current) => current.map((item) => (item.id === renamed.id ? renamed : item)));
    } catch (error) {
      toast(`Could not rename the terminal: ${(error as Error).message}`, 'error');
    }
  };

  const close = (terminal: Terminal) => {
    setList((current) => current.filter((item) => item.id !== terminal.id));
    closeTerminal(workspace, terminal.id).catch(() => {
      // Already gone (exited, or the workspace stopped): nothing left to close.
    });
  };

  return (
    <section aria-label="Terminals" className="flex h-full min-h-0 flex-col bg-surface">
      <div
        role="tablist"
        aria-label="Terminals"
        className="flex h-9 shrink-0 items-center gap-0.5 border-b border-line bg-subtle px-1.5"
      >
        {list.map((terminal, position) => {
          const selected = terminal.id === shown?.id;
          return (
            <div
              key={terminal.id}
              className={`group flex h-7 items-center rounded text-[13px] ${
                selected ? 'bg-surface text-fg shadow-xs' : 'text-muted hover:text-fg'
              }`}
            >
              {renaming === terminal.id ? (
                <input
                  autoFocus
                  aria-label="Terminal name"
                  defaultValue={terminal.title}
                  maxLength={200}
                  onFocus={(event) => event.target.select()}
                  onBlur={(event) => void rename(terminal, event.target.value)}
                  onKeyDown={(event) => {
                    if (event.key === 'Enter') void rename(terminal, event.currentTarget.value);
                    else if (event.key === 'Escape') setRenaming(null);
                  }}
                  className="mx-1 h-6 w-32 rounded border border-accent bg-surface px-1.5 text-[13px] text-fg"
                />
              ) : (
                <button
                  type="button"
                  role="tab"
                  aria-selected={selected}
                  title="Double-click or F2 to rename"
                  onClick={() => setActive(terminal.id)}
                  onDoubleClick={() => setRenaming(terminal.id)}
                  onKeyDown={(event) => {
                    if (event.key === 'F2') setRenaming(terminal.id);
                  }}
                  className="flex h-full items-center gap-1.5 pr-1 pl-2.5"
                >
                  <TerminalIcon className="size-3.5" />
                  {terminalTitle(terminal, position)}
                  {runningIn(terminal, running[terminal.id]) ? (
                    <span className="text-muted">
                      · {runningIn(terminal, running[terminal.id])}
                    </span>
                  ) : null}
                </button>
              )}
              <button
                type="button"
                aria-label={`Close terminal ${position + 1}`}
                onClick={() => close(terminal)}
                className="mr-1 rounded p-0.5 opacity-60 group-hover:opacity-100 hover:bg-line"
              >
                <CloseIcon className="size-3" />
              </button>
            </div>
          );
        })}
        {mayOpen ? (
          <button
            type="button"
            aria-label="New terminal"
            title="New terminal"
            disabled={opening}
            onClick={() => void open()}
            className="ml-0.5 inline-flex size-7 items-center justify-center rounded text-muted hover:bg-line/60 hover:text-fg disabled:opacity-50"
          >
            <PlusIcon className="size-4" />
          </button>
        ) : null}
      </div>
      <div className="min-h-0 flex-1">
        {terminals.isPending ? (
          <Loading label="Loading terminals…" />
        ) : terminals.isError ? (
          <div className="p-3">
            <Alert tone="error">{terminals.error.message}</Alert>
          </div>
        ) : list.length === 0 ? (
          <div className="flex h-full items-center justify-center">
            {mayOpen ? (
              <Button size="sm" pending={opening} onClick={() => void open()}>
                <TerminalIcon className="size-4" />
                Open a terminal
              </Button>
            ) : (
              <p className="text-[13px] text-muted">No terminals are open in this workspace.</p>
            )}
          </div>
        ) : (
          <Suspense fallback={<Loading label="Loading the terminal…" />}>
            {list.map((terminal, position) => (
              <TerminalView
                key={terminal.id}
                workspace={workspace}
                id={terminal.id}
                title={terminalTitle(terminal, position)}
                visible={terminal.id === shown?.id}
                bridge={bridge}
                onProcess={(name) =>
                  setRunning((current) =>
                    current[terminal.id] === name ? current : { ...current, [terminal.id]: name },
                  )
                }
              />
            ))}
          </Suspense>
        )}
      </div>
    </section>
  );
}
