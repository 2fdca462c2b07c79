const KEY = 'studio.recentWorkspaces';
const KEEP = 10;

/** Names of the workspaces this browser opened, most recent first. */
export function recentWorkspaces(): string[] {
  try {
    const parsed: unknown = JSON.parse(window.localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((item) => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/** Remember that `name` was just opened. */
export function markRecent(name: string): void {
  try {
    const next = [name, ...recentWorkspaces().filter((item) => item !== name)].slice(0, KEEP);
    window.localStorage.setItem(KEY, JSON.stringify(next));
  } catch {
    // Storage blocked: the switcher falls back to the server's last-active order.
  }
}

/** `names` with the recently opened ones first, in the order they were opened. */
export function recentFirst(names: string[], recent: string[] = recentWorkspaces()): string[] {
  const rank = (name: string) => {
    const at = recent.indexOf(name);
    return at === -1 ? recent.length : at;
  };
  return [...names].sort((a, b) => rank(a) - rank(b));
}
