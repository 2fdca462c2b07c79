/** What the person chose: follow the operating system, or a fixed theme. */
export type ThemePreference = 'system' | 'light' | 'dark';

/** The theme actually shown. */
export type ResolvedTheme = 'light' | 'dark';

// Keep in sync with public/theme-init.js, which applies the theme before React loads.
const STORAGE_KEY = 'studio.theme';
const DARK_QUERY = '(prefers-color-scheme: dark)';

/** The stored preference; "system" when nothing (or nothing valid) is stored. */
export function readPreference(): ThemePreference {
  try {
    const stored = window.localStorage.getItem(STORAGE_KEY);
    return stored === 'light' || stored === 'dark' ? stored : 'system';
  } catch {
    return 'system';
  }
}

/** Remember a preference; "system" forgets the choice. */
export function storePreference(preference: ThemePreference): void {
  try {
    if (preference === 'system') window.localStorage.removeItem(STORAGE_KEY);
    else window.localStorage.setItem(STORAGE_KEY, preference);
  } catch {
    // Storage blocked: the choice lasts for this page only.
  }
}

/** The operating system's current theme. */
export function systemTheme(): ResolvedTheme {
  return window.matchMedia(DARK_QUERY).matches ? 'dark' : 'light';
}

/** Call `listener` when the operating system's theme changes; returns the unsubscribe function. */
export function onSystemThemeChange(listener: () => void): () => void {
  const media = window.matchMedia(DARK_QUERY);
  media.addEventListener('change', listener);
  return () => media.removeEventListener('change', listener);
}

/** Put the theme class on <html>; Tailwind's `dark:` variant keys off it. */
export function applyTheme(theme: ResolvedTheme): void {
  document.documentElement.classList.toggle('dark', theme === 'dark');
}
