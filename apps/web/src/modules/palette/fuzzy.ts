/** A path that matched, with its score (higher is better) and the matched character positions. */
export interface FuzzyMatch {
  path: string;
  score: number;
  positions: number[];
}

/**
 * Match `query` as a subsequence of `path`, case-insensitively. Consecutive characters, matches
 * at the start of a segment and matches in the file name score higher, so "fitr" finds
 * "src/FileTree.tsx" before "src/fixtures/other.ts".
 */
export function fuzzyMatch(query: string, path: string): FuzzyMatch | null {
  const needle = query.toLowerCase().replace(/\s+/g, '');
  if (!needle) return { path, score: 0, positions: [] };
  const haystack = path.toLowerCase();
  const nameStart = path.lastIndexOf('/') + 1;
  const positions: number[] = [];
  let score = 0;
  let from = 0;
  for (const char of needle) {
    const at = haystack.indexOf(char, from);
    if (at === -1) return null;
    const previous = positions.at(-1);
    if (previous !== undefined && at === previous + 1) score += 5;
    if (at === 0 || '/._-'.includes(path[at - 1]!)) score += 4;
    if (at >= nameStart) score += 2;
    score -= (at - from) * 0.05;
    positions.push(at);
    from = at + 1;
  }
  // Among equals, shorter paths are more likely what was meant.
  return { path, score: score - path.length * 0.01, positions };
}

/** The best `limit` matches of `query` among `paths`, best first. */
export function fuzzyFilter(query: string, paths: string[], limit: number): FuzzyMatch[] {
  const matches: FuzzyMatch[] = [];
  for (const path of paths) {
    const match = fuzzyMatch(query, path);
    if (match) matches.push(match);
  }
  return matches.sort((a, b) => b.score - a.score).slice(0, limit);
}
