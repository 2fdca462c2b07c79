import { useCallback, useState } from 'react';

// Drafts live in sessionStorage: they survive a sign-in round-trip in this tab and vanish with it.
const PREFIX = 'studio.draft.';

function read<T>(key: string): T | undefined {
  try {
    const raw = window.sessionStorage.getItem(PREFIX + key);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  } catch {
    return undefined;
  }
}

function write(key: string, value: unknown): void {
  try {
    window.sessionStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // Storage full or blocked: the draft just won't survive a reload.
  }
}

function remove(key: string): void {
  try {
    window.sessionStorage.removeItem(PREFIX + key);
  } catch {
    // Nothing to clean up when storage is blocked.
  }
}

/**
 * Form state that is kept in sessionStorage, so what someone typed survives being sent to
 * sign in and back. Never use it for passwords or secrets. Returns [value, setValue, clear];
 * `clear(next?)` forgets the draft (call it after a successful submit).
 */
export function useDraft<T>(key: string, initial: T): [T, (value: T) => void, (next?: T) => void] {
  const [value, setValue] = useState<T>(() => read<T>(key) ?? initial);

  const update = useCallback(
    (next: T) => {
      setValue(next);
      write(key, next);
    },
    [key],
  );

  const clear = useCallback(
    (next?: T) => {
      remove(key);
      if (next !== undefined) setValue(next);
    },
    [key],
  );

  return [value, update, clear];
}

/** Forget every draft; called on an explicit sign-out. */
export function clearAllDrafts(): void {
  try {
    const keys: string[] = [];
    for (let i = 0; i < window.sessionStorage.length; i++) {
      const key = window.sessionStorage.key(i);
      if (key?.startsWith(PREFIX)) keys.push(key);
    }
    for (const key of keys) window.sessionStorage.removeItem(key);
  } catch {
    // Storage blocked: there are no drafts to clear.
  }
}
