// Kept apart from ai-settings.ts so the editor reads it without loading the settings API.

/**
 * Why inline completions stopped asking (what the server said was wrong), or null while they
 * ask. A change to the AI settings or providers resumes them; so does "Try again". A quiet pause
 * (nobody set up a model: nothing to fix in the editor) is not shown.
 */
export const completionPause = (() => {
  let reason: string | null = null;
  let quiet = false;
  const listeners = new Set<() => void>();
  const set = (next: string | null, nextQuiet = false) => {
    if (reason === next && quiet === nextQuiet) return;
    reason = next;
    quiet = nextQuiet;
    for (const listener of listeners) listener();
  };
  return {
    get: () => reason,
    /** The reason to show, when the pause is not quiet. */
    shown: () => (quiet ? null : reason),
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    pause: (why: string, quietly = false) => set(why, quietly),
    resume: () => set(null),
  };
})();
