import { Alert } from '../../../components/Alert.tsx';
import { Button } from '../../../components/Button.tsx';
import { useReadOnlyDiff } from './use-read-only-diff.ts';

/** Disk against the refused edits, side by side, and the two ways out. */
export function ConflictView({
  path,
  language,
  disk,
  mine,
  theme,
  onKeepMine,
  onUseDisk,
}: {
  path: string;
  language: string | undefined;
  disk: string;
  mine: string;
  theme: 'light' | 'dark';
  onKeepMine: () => void;
  onUseDisk: () => void;
}) {
  const containerRef = useReadOnlyDiff({
    original: disk,
    modified: mine,
    language,
    dark: theme === 'dark',
  });

  return (
    <div
      role="region"
      aria-label={`Save conflict in ${path}`}
      className="absolute inset-0 z-10 flex flex-col bg-surface"
    >
      <div className="flex items-center gap-3 border-b border-line px-3 py-2">
        <Alert tone="warning" className="min-w-0 flex-1 py-1.5">
          {path} changed on disk since you opened it. Left: the disk. Right: your edits.
        </Alert>
        <Button size="sm" onClick={onUseDisk}>
          Use the disk version
        </Button>
        <Button size="sm" variant="primary" onClick={onKeepMine}>
          Keep mine (overwrite)
        </Button>
      </div>
      <div ref={containerRef} className="min-h-0 flex-1" />
    </div>
  );
}
