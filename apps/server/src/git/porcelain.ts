import type { GitFileStatus, GitStatus, GitStatusLetter } from '@studio/protocol';

/** A status without the repository path it was asked for. */
export type ParsedStatus = Omit<GitStatus, 'repo'>;

/**
 * Parse `git status --porcelain=v2 --branch -z`. With `-z` paths are never quoted, so spaces,
 * newlines and any Unicode arrive as they are; a rename's original path is the next NUL-separated
 * field. Unmerged entries are reported as 'U' on both sides whatever git's two letters were (for
 * a conflict the UI needs "conflicted", and AA or UD alone read as ordinary changes).
 */
export function parsePorcelainStatus(output: string): ParsedStatus {
  const status: ParsedStatus = {
    branch: null,
    head: null,
    upstream: null,
    ahead: 0,
    behind: 0,
    files: [],
  };
  const fields = output.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i]!;
    if (entry === '') continue;
    switch (entry[0]) {
      case '#':
        readHeader(entry, status);
        break;
      case '1': {
        // 1 XY sub mH mI mW hH hI path
        const [xy, path] = splitFields(entry, 8);
        status.files.push(changed(xy, path));
        break;
      }
      case '2': {
        // 2 XY sub mH mI mW hH hI Xscore path, then the original path as its own field
        const [xy, path] = splitFields(entry, 9);
        const origPath = fields[++i] ?? '';
        status.files.push({ ...changed(xy, path), origPath });
        break;
      }
      case 'u': {
        // u XY sub m1 m2 m3 mW h1 h2 h3 path
        const [, path] = splitFields(entry, 10);
        status.files.push({ path, index: 'U', worktree: 'U' });
        break;
      }
      case '?':
        status.files.push({ path: entry.slice(2), index: '?', worktree: '?' });
        break;
      default:
        // '!' (ignored) is not asked for; anything else is from a newer git and is skipped.
        break;
    }
  }
  return status;
}

function readHeader(entry: string, status: ParsedStatus): void {
  const space = entry.indexOf(' ', 2);
  const key = entry.slice(2, space < 0 ? undefined : space);
  const value = space < 0 ? '' : entry.slice(space + 1);
  switch (key) {
    case 'branch.oid':
      status.head = value === '(initial)' ? null : value.slice(0, 7);
      break;
    case 'branch.head':
      status.branch = value === '(detached)' ? null : value;
      break;
    case 'branch.upstream':
      status.upstream = value;
      break;
    case 'branch.ab': {
      const match = /^\+(\d+) -(\d+)$/.exec(value);
      if (match) {
        status.ahead = Number(match[1]);
        status.behind = Number(match[2]);
      }
      break;
    }
  }
}

/** The XY field and the path after `count` space-separated fields (the path may hold spaces). */
function splitFields(entry: string, count: number): [string, string] {
  let at = 0;
  for (let n = 0; n < count; n++) {
    at = entry.indexOf(' ', at) + 1;
    if (at === 0) return [entry.slice(2, 4), ''];
  }
  return [entry.slice(2, 4), entry.slice(at)];
}

function changed(xy: string, path: string): GitFileStatus {
  return { path, index: letter(xy[0]), worktree: letter(xy[1]) };
}

/** Git's letters, with a type change (file ↔ symlink) shown as a modification. */
function letter(value: string | undefined): GitStatusLetter {
  switch (value) {
    case 'M':
    case 'A':
    case 'D':
    case 'R':
    case 'C':
    case 'U':
    case '.':
      return value;
    case 'T':
      return 'M';
    default:
      return '.';
  }
}
