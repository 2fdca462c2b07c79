/** Where to go after signing in: only same-origin paths, never back to an auth page. */
export function safeNextPath(raw: string | null | undefined): string {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  if (/^\/(sign-in|setup|invite)(\/|\?|$)/.test(raw)) return '/';
  return raw;
}

/** The sign-in URL that comes back to `path` afterwards. */
export function signInPathFor(path: string): string {
  const next = safeNextPath(path);
  return next === '/' ? '/sign-in' : `/sign-in?next=${encodeURIComponent(next)}`;
}
