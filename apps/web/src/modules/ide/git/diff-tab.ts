/** What a diff tab shows: one file of one repository, staged (HEAD ↔ index) or not (index ↔ disk). */
export interface DiffTab {
  repo: string;
  path: string;
  staged: boolean;
}

const PREFIX = 'git-diff:';

/** The editor tab id of a diff; file tabs are plain paths, which never start with this prefix. */
export function diffTabId(tab: DiffTab): string {
  return PREFIX + JSON.stringify([tab.repo, tab.path, tab.staged]);
}

/** The diff a tab id names, or null for a file tab. */
export function parseDiffTab(id: string): DiffTab | null {
  if (!id.startsWith(PREFIX)) return null;
  try {
    const [repo, path, staged] = JSON.parse(id.slice(PREFIX.length)) as [string, string, boolean];
    return { repo, path, staged };
  } catch {
    return null;
  }
}

/** The file a diff is about, relative to the workspace home. */
export function diffFilePath(tab: DiffTab): string {
  return tab.repo === '' || tab.repo === '.' ? tab.path : `${tab.repo}/${tab.path}`;
}
