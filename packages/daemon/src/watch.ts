import { watch, type FSWatcher } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileChange } from '@studio/protocol';
import { DaemonFailure } from './errors.ts';
import { KEPT_FOLDER, TEMP_FILE_PATTERN } from './files.ts';
import { resolveInRoot, toWorkspacePath } from './paths.ts';
import type { OutStream } from './streams.ts';

// Editors and builds touch a file several times in a burst; one batch per quiet period is enough.
const DEBOUNCE_MS = 75;
// A steady stream of changes (a build writing output) still reports at least this often.
const MAX_DELAY_MS = 500;
// A huge burst (git checkout, npm install) is reported in slices the client can digest.
const MAX_BATCH = 1000;

/** Watch a file or directory tree and send debounced `changes` events on `stream`. */
export async function startWatch(root: string, workspacePath: string, stream: OutStream) {
  const target = await resolveInRoot(root, workspacePath);
  const isDirectory = (await stat(target)).isDirectory();
  const base = isDirectory ? target : path.dirname(target);
  // Per path: was it renamed (created or deleted) or only written to?
  const pending = new Map<string, boolean>();
  let timer: NodeJS.Timeout | null = null;
  let firstAt = 0;
  let closed = false;

  let watcher: FSWatcher;
  try {
    watcher = watch(target, { recursive: isDirectory, persistent: false });
  } catch (error) {
    throw watchFailure(error);
  }

  const flush = async () => {
    timer = null;
    const batch = [...pending.entries()].slice(0, MAX_BATCH);
    for (const [name] of batch) pending.delete(name);
    if (pending.size > 0) schedule();
    const changes: FileChange[] = [];
    await Promise.all(
      batch.map(async ([absolute, renamed]) => {
        const exists = await lstat(absolute).then(
          () => true,
          () => false,
        );
        changes.push({
          path: toWorkspacePath(root, absolute),
          kind: !exists ? 'deleted' : renamed ? 'created' : 'changed',
        });
      }),
    );
    if (!closed && changes.length > 0) {
      changes.sort((a, b) => (a.path < b.path ? -1 : 1));
      stream.event({ kind: 'changes', changes });
    }
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    const now = Date.now();
    if (pending.size === 1 || firstAt === 0) firstAt = now;
    const delay = Math.max(0, Math.min(DEBOUNCE_MS, firstAt + MAX_DELAY_MS - now));
    timer = setTimeout(() => {
      firstAt = 0;
      void flush();
    }, delay);
  };

  watcher.on('change', (eventType, filename) => {
    if (closed || filename === null) return;
    const name = filename.toString();
    if (TEMP_FILE_PATTERN.test(name)) return;
    const absolute = isDirectory ? path.join(base, name) : target;
    if (toWorkspacePath(root, absolute).startsWith(`${KEPT_FOLDER}/`)) return;
    pending.set(absolute, (pending.get(absolute) ?? false) || eventType === 'rename');
    schedule();
  });
  watcher.on('error', (error) => {
    close();
    const failure = watchFailure(error);
    stream.end({ code: failure.code, message: failure.message });
  });
  const close = () => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    watcher.close();
  };
  stream.handlers = { onCancel: close, onClientEnd: () => (close(), stream.end()) };
  return close;
}

function watchFailure(error: unknown): DaemonFailure {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EMFILE') {
    return new DaemonFailure(
      'unavailable',
      'The workspace ran out of file watchers (raise fs.inotify.max_user_watches)',
    );
  }
  if (code === 'ENOENT') return new DaemonFailure('not_found', 'No such file or directory');
  return new DaemonFailure('internal', 'Watching files failed');
}
