/**
 * A request URL as logged: secrets that ride in URLs never reach the log — invite and setup
 * tokens, preview links' tokens, and preview passes (in the path, and at a preview host's door).
 */
export function redactUrl(url: string): string {
  return url
    .replace(/(\/api\/invites\/)[^/?#]+/, '$1[redacted]')
    .replace(/^(\/l\/)[^/?#]+/, '$1[redacted]')
    .replace(/(\/~)[^/?#]+/, '$1[redacted]')
    .replace(/([?&](?:token|pass|link)=)[^&#]+/g, '$1[redacted]');
}
