import type { Workspace } from '@studio/protocol';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { presenceQueryOptions } from '../../api/members.ts';
import { previewModeQueryOptions, previewUrl } from '../../api/ports.ts';
import { workspaceRef } from '../../api/workspaces.ts';
import { Avatar, MembersDialog } from '../../modules/workspaces/MembersDialog.tsx';
import { ExternalLinkIcon, LogoMark } from '../../components/icons.tsx';
import { useToast } from '../../components/Toaster.tsx';
import { ThemeToggle } from '../../modules/theme/ThemeToggle.tsx';
import { useOpenSwitcher } from '../../modules/workspaces/WorkspaceSwitcher.tsx';
import { WorkspaceStatusBadge } from '../../modules/workspaces/WorkspaceStatusBadge.tsx';

/** The IDE's slim top bar: back to the dashboard, the workspace and its status, actions. */
export function IdeHeader({
  workspace,
  assistant,
  desktop,
}: {
  workspace: Workspace;
  /** The assistant panel's toggle; absent while the workspace is not running. */
  assistant?: { open: boolean; onToggle: () => void };
  /** The desktop viewer's toggle; only for a running workspace made from the desktop template. */
  desktop?: { open: boolean; onToggle: () => void };
}) {
  const openSwitcher = useOpenSwitcher();
  const [sharing, setSharing] = useState(false);
  // Who has it open now (shown once someone besides you does).
  const present = useQuery({
    ...presenceQueryOptions(workspaceRef(workspace)),
    enabled: workspace.status === 'running',
  });
  const together = (present.data ?? []).length > 1;
  return (
    <header className="flex h-11 shrink-0 items-center gap-3 border-b border-line bg-surface px-3">
      <Link
        to="/"
        aria-label="Back to the dashboard"
        title="Back to the dashboard"
        className="flex items-center gap-2 rounded-md p-1 text-muted hover:bg-subtle hover:text-fg"
      >
        <LogoMark className="size-6" />
      </Link>
      <nav aria-label="Breadcrumb" className="flex min-w-0 items-center gap-1.5 text-sm">
        <Link to="/" className="text-muted hover:text-fg">
          Workspaces
        </Link>
        <span className="text-muted">/</span>
        <h1 className="truncate font-semibold text-fg">
          <button
            type="button"
            onClick={openSwitcher}
            title="Switch workspace (Ctrl+K)"
            className="rounded px-1 hover:bg-subtle"
          >
            {workspace.name}
          </button>
        </h1>
      </nav>
      <WorkspaceStatusBadge status={workspace.status} />
      {workspace.role !== 'owner' ? (
        <span className="rounded-full bg-subtle px-2 py-0.5 text-[12px] text-muted">
          {workspace.ownerEmail ?? 'Shared'} ·{' '}
          <span className="font-medium text-fg">
            {workspace.role === 'viewer' ? 'viewer, read-only' : workspace.role}
          </span>
        </span>
      ) : null}
      {workspace.devcontainer ? (
        <span
          role="note"
          aria-label="Dev container"
          title={devcontainerHint(workspace.devcontainer)}
          className="hidden rounded-full bg-subtle px-2 py-0.5 text-[12px] text-muted sm:inline"
        >
          Dev container
        </span>
      ) : null}
      <div className="ml-auto flex items-center gap-1">
        <button
          type="button"
          onClick={() => setSharing(true)}
          title="Who this workspace is shared with"
          className="mr-1 flex h-8 items-center gap-2 rounded-md px-1.5 text-[13px] font-medium text-muted hover:bg-subtle hover:text-fg"
        >
          {together ? (
            <span
              className="flex -space-x-1.5"
              aria-label={`Here now: ${present.data!.map((member) => `${member.name} (${member.role})`).join(', ')}`}
            >
              {present.data!.slice(0, 5).map((member) => (
                <Avatar key={member.userId} member={member} size="size-6" />
              ))}
            </span>
          ) : null}
          Share
        </button>
        {assistant ? (
          <>
            <kbd className="mr-2 hidden rounded border border-line px-1.5 py-0.5 font-sans text-[11px] text-muted md:inline">
              Ctrl P to find a file
            </kbd>
            {workspace.vscode ? (
              <VsCodeLink workspace={workspaceRef(workspace)} port={workspace.vscode.port} />
            ) : null}
            {desktop ? (
              <button
                type="button"
                aria-pressed={desktop.open}
                title="The workspace's desktop"
                onClick={desktop.onToggle}
                className="h-8 rounded-md px-2.5 text-[13px] font-medium text-muted hover:bg-subtle hover:text-fg aria-pressed:bg-accent-soft aria-pressed:text-accent"
              >
                Desktop
              </button>
            ) : null}
            <button
              type="button"
              aria-pressed={assistant.open}
              aria-keyshortcuts="Control+Alt+I Meta+Alt+I"
              title="Assistant (Ctrl+Alt+I)"
              onClick={assistant.onToggle}
              className="h-8 rounded-md px-2.5 text-[13px] font-medium text-muted hover:bg-subtle hover:text-fg aria-pressed:bg-accent-soft aria-pressed:text-accent"
            >
              Assistant
            </button>
          </>
        ) : null}
        <ThemeToggle />
      </div>
      {sharing ? <MembersDialog workspace={workspace} onClose={() => setSharing(false)} /> : null}
    </header>
  );
}

const HEADER_BUTTON =
  'flex h-8 items-center gap-1 rounded-md px-2.5 text-[13px] font-medium text-muted hover:bg-subtle hover:text-fg';

/**
 * VS Code's own workbench (code-server in the workspace), in a new tab through the preview proxy.
 * It needs a preview host of its own: sandboxed under the platform's path, it has no storage.
 */
function VsCodeLink({ workspace, port }: { workspace: string; port: number }) {
  const toast = useToast();
  const mode = useQuery(previewModeQueryOptions(workspace, port)).data;
  if (mode === 'path')
    return (
      <button
        type="button"
        className={HEADER_BUTTON}
        onClick={() =>
          toast(
            'VS Code needs a preview host of its own: start the server with STUDIO_PREVIEW_DOMAIN set (localhost when the browser runs on the same machine).',
            'error',
          )
        }
      >
        VS Code
      </button>
    );
  return (
    <a
      href={previewUrl(workspace, port)}
      target="_blank"
      rel="noreferrer"
      title="VS Code's own workbench for this workspace, in a new tab (code-server)"
      className={HEADER_BUTTON}
    >
      VS Code
      <ExternalLinkIcon className="size-3.5" />
    </a>
  );
}

/** What the dev container badge says on hover: where it came from, the extensions it names. */
export function devcontainerHint(devcontainer: { config: string; extensions: string[] }): string {
  const from = `Built from ~/${devcontainer.config}.`;
  return devcontainer.extensions.length === 0
    ? from
    : `${from} It recommends these VS Code extensions, which this IDE does not install: ${devcontainer.extensions.join(', ')}.`;
}
