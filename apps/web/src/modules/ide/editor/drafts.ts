// Unsaved edits live in localStorage per workspace and path, so they survive a reload or a
// crashed tab; a save (or "use the disk version") forgets them.
const PREFIX = 'studio.ide.draft.';

/** An unsaved edit, with the version of the file it was based on. */
export interface Draft {
  content: string;
  baseVersion: string;
}

function key(workspace: string, path: string): string {
  return `${PREFIX}${workspace}:${path}`;
}

/** The paths of a workspace's files with unsaved edits kept in this browser. */
export function draftPaths(workspace: string): string[] {
  const prefix = key(workspace, '');
  const paths: string[] = [];
  try {
    for (let index = 0; index < window.localStorage.length; index++) {
      const name = window.localStorage.key(index);
      if (name?.startsWith(prefix)) paths.push(name.slice(prefix.length));
    }
  } catch {
    // Storage blocked: nothing was kept either.
  }
  return paths.sort();
}

/** The unsaved edit of a file, if one was kept. */
export function readDraft(workspace: string, path: string): Draft | undefined {
  try {
    const raw = window.localStorage.getItem(key(workspace, path));
    return raw === null ? undefined : (JSON.parse(raw) as Draft);
  } catch {
    return undefined;
  }
}

/** Keep an unsaved edit. */
export function writeDraft(workspace: string, path: string, draft: Draft): void {
  try {
    window.localStorage.setItem(key(workspace, path), JSON.stringify(draft));
  } catch {
    // Storage full or blocked: the edit just won't survive a reload.
  }
}

/** Forget an unsaved edit. */
export function clearDraft(workspace: string, path: string): void {
  try {
    window.localStorage.removeItem(key(workspace, path));
  } catch {
    // Nothing to clean up when storage is blocked.
  }
}
