import { useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useState, useSyncExternalStore } from 'react';
import { Link } from 'react-router';
import { completionPause } from '../../../api/completion-pause.ts';
import { fileContentQueryOptions } from '../../../api/files.ts';
import { hasCode } from '../../../api/http.ts';
import { Alert } from '../../../components/Alert.tsx';
import { Button } from '../../../components/Button.tsx';
import { ConfirmDialog } from '../../../components/ConfirmDialog.tsx';
import { Loading } from '../../../components/Spinner.tsx';
import { parseDiffTab } from '../git/diff-tab.ts';
import { clearDraft, readDraft } from './drafts.ts';
import { EditorTabs } from './EditorTabs.tsx';
import { BinaryPreview, FileGuard } from './FilePreview.tsx';
import type { OpenFiles } from './use-open-files.ts';
import type { WorkspacePeer } from './use-workspace-presence.ts';

// Monaco is most of the IDE's weight: its own chunk, fetched when the first file opens.
const CodeEditor = lazy(() => import('./CodeEditor.tsx'));
const GitDiffView = lazy(() => import('../git/GitDiffView.tsx'));

function ActiveFile({ workspace, files }: { workspace: string; files: OpenFiles }) {
  const path = files.active!;
  const content = useQuery(fileContentQueryOptions(workspace, path));
  if (content.isPending) return <Loading label={`Opening ${path}…`} />;
  // Unsaved text for a file deleted since (or its folder) is still shown, and can be saved.
  const draft =
    content.isError && hasCode(content.error, 'not_found') && readDraft(workspace, path);
  if (draft) {
    return (
      <div className="flex h-full min-h-0 flex-col">
        <Alert tone="warning" className="m-2">
          {path} is no longer on disk. Your unsaved text is kept; saving writes it back.
        </Alert>
        <div className="min-h-0 flex-1">
          <Suspense fallback={<Loading label="Loading the editor…" />}>
            <CodeEditor
              workspace={workspace}
              path={path}
              file={{
                content: draft.content,
                encoding: 'utf8',
                binary: false,
                size: draft.content.length,
                version: draft.baseVersion,
              }}
              tabs={files.tabs}
              reveal={files.reveal}
              onDirtyChange={files.setFileDirty}
              bridge={files.editor}
            />
          </Suspense>
        </div>
      </div>
    );
  }
  if (content.isError) {
    if (hasCode(content.error, 'payload_too_large')) {
      return (
        <FileGuard title="This file is too large to edit here">
          Files over 5 MiB open in the terminal instead, for example with less or vim.
        </FileGuard>
      );
    }
    return (
      <div className="p-4">
        <Alert tone="error">{content.error.message}</Alert>
      </div>
    );
  }
  if (content.data.binary) return <BinaryPreview path={path} file={content.data} />;
  return (
    <Suspense fallback={<Loading label="Loading the editor…" />}>
      <CodeEditor
        workspace={workspace}
        path={path}
        file={content.data}
        tabs={files.tabs}
        reveal={files.reveal}
        onDirtyChange={files.setFileDirty}
        bridge={files.editor}
        onOpenFile={files.open}
        following={files.following}
        onFollow={files.follow}
      />
    </Suspense>
  );
}

/** The center of the IDE: open files as tabs over the editor. */
export function EditorArea({
  workspace,
  files,
  peers,
}: {
  workspace: string;
  files: OpenFiles;
  /** Who else is in each file. */
  peers?: ReadonlyMap<string, WorkspacePeer[]>;
}) {
  const [closing, setClosing] = useState<string | null>(null);

  const close = (path: string) => {
    if (files.dirty.has(path)) setClosing(path);
    else files.close(path);
  };

  return (
    <div className="flex h-full min-h-0 flex-col bg-surface">
      {files.tabs.length > 0 ? (
        <EditorTabs
          tabs={files.tabs}
          active={files.active}
          dirty={files.dirty}
          onSelect={(path) => files.open(path)}
          onClose={close}
          peers={peers}
        />
      ) : null}
      <CompletionPauseNotice />
      <div className="min-h-0 flex-1">
        {files.active && parseDiffTab(files.active) ? (
          <Suspense fallback={<Loading label="Loading the editor…" />}>
            <GitDiffView
              key={files.active}
              workspace={workspace}
              tab={parseDiffTab(files.active)!}
            />
          </Suspense>
        ) : files.active ? (
          <ActiveFile key={files.active} workspace={workspace} files={files} />
        ) : (
          <FileGuard title="No file is open">
            Pick a file in the tree, or press Ctrl+P to find one by name.
          </FileGuard>
        )}
      </div>
      <ConfirmDialog
        open={closing !== null}
        title={`Close ${closing ?? ''} without saving?`}
        description="Your unsaved changes to this file are lost."
        confirmLabel="Discard changes"
        onConfirm={() => {
          if (closing) {
            clearDraft(workspace, closing);
            files.close(closing);
          }
          setClosing(null);
        }}
        onClose={() => setClosing(null)}
      />
    </div>
  );
}

/** Said once when inline completions stop asking: why, where to fix it, and a way to retry. */
function CompletionPauseNotice() {
  const reason = useSyncExternalStore(completionPause.subscribe, completionPause.shown);
  if (reason === null) return null;
  return (
    <Alert tone="warning" className="m-2" title="Inline completions are paused">
      <p>{reason}</p>
      <p className="mt-1.5 flex items-center gap-3">
        <Link to="/settings#ai" className="text-accent underline">
          Settings → AI
        </Link>
        <Button size="sm" variant="ghost" onClick={completionPause.resume}>
          Try again
        </Button>
      </p>
    </Alert>
  );
}
