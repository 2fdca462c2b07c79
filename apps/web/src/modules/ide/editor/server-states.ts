// Kept apart from language-client.ts, so the editor and the status bar read it without loading
// the client.
import type { LspLanguage } from '@studio/protocol';

/** Monaco's language ids that have a server, and the server's language for each. */
const LANGUAGES: Record<string, LspLanguage> = {
  python: 'python',
  typescript: 'typescript',
  javascript: 'javascript',
  go: 'go',
  cpp: 'cpp',
  c: 'c',
  rust: 'rust',
};

/** The server language of a Monaco language id, or null when none runs for it. */
export function serverLanguageOf(languageId: string): LspLanguage | null {
  return LANGUAGES[languageId] ?? null;
}

/** What the status bar says of a language's server. */
export type ServerState =
  { state: 'starting' } | { state: 'ready'; name: string } | { state: 'failed'; message: string };

/** Server states by `workspace:language`, for the status bar. */
export const serverStates = (() => {
  const states = new Map<string, ServerState>();
  const listeners = new Set<() => void>();
  return {
    get: (key: string) => states.get(key),
    entries: () => states.entries(),
    set(key: string, state: ServerState) {
      states.set(key, state);
      for (const listener of listeners) listener();
    },
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
})();
