// Kept apart from ai-settings.ts so the editor reads it without loading the settings API.

/**
 * Why inline completions stopped asking (what the server said was wrong), or null while they
 * ask. A change to the AI settings or providers resumes them; so does "Try again".
 */
export const completionPause = (() => {
  let reason: string | null = null;
  const listeners = new Set<() => void>();
  const set = (next: string | null) => {
    if (reason === next) return;
    reason = next;
    for (const listener of listeners) listener();
  };
  return {
    get: () => reason,
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    pause: (why: string) => set(why),
    resume: () => set(null),
  };
})();
