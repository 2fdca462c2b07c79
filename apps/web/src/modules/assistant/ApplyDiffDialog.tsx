import { useEffect, useRef } from 'react';
import { Button } from '../../components/Button.tsx';
import { useTheme } from '../theme/ThemeProvider.tsx';
import { useReadOnlyDiff } from '../ide/editor/use-read-only-diff.ts';

/**
 * The open file against a reply's code, side by side. Accept puts the code in the editor as one
 * undoable edit and leaves the file unsaved, so the person reviews and saves it.
 */
export default function ApplyDiffDialog({
  path,
  language,
  current,
  proposed,
  onAccept,
  onClose,
}: {
  path: string;
  language: string | undefined;
  current: string;
  proposed: string;
  onAccept: () => void;
  onClose: () => void;
}) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const { resolved } = useTheme();
  const containerRef = useReadOnlyDiff({
    original: current,
    modified: proposed,
    language,
    dark: resolved === 'dark',
  });

  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);

  return (
    <dialog
      ref={dialogRef}
      aria-label={`Apply to ${path}`}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      className="m-auto flex h-[min(44rem,calc(100vh-4rem))] w-[min(72rem,calc(100vw-4rem))] flex-col rounded-xl border border-line bg-surface p-0 text-fg shadow-2xl"
    >
      <div className="flex items-center gap-3 border-b border-line px-4 py-2.5">
        <p className="min-w-0 flex-1 truncate text-sm">
          <span className="font-medium">{path}</span>
          <span className="text-muted"> — left: the editor now. Right: the assistant's code.</span>
        </p>
        <Button size="sm" onClick={onClose}>
          Reject
        </Button>
        <Button size="sm" variant="primary" onClick={onAccept}>
          Accept
        </Button>
      </div>
      <div ref={containerRef} className="min-h-0 flex-1" />
    </dialog>
  );
}
