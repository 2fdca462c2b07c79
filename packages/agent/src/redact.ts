/**
 * Secret redaction for logs, the audit log and agent transcripts (THREATS.md item 19).
 *
 * Two layers: values we know are secret (e.g. the workspace's configured keys) are replaced
 * wherever they occur, and well-known token shapes are caught by one combined regex so that a
 * key printed by `env` or `cat .env` is hidden even if we never knew it. The shapes are chosen
 * to be specific enough not to mangle ordinary code and prose.
 */

const REDACTED = '[REDACTED]';

/** Known secrets shorter than this are ignored: short strings occur everywhere by chance. */
const MIN_KNOWN_SECRET_LENGTH = 8;

/** `ci('bearer')` → `[Bb][Ee]…`: case-insensitive words without making the whole regex `i`. */
function ci(word: string): string {
  return [...word].map((c) => `[${c.toUpperCase()}${c.toLowerCase()}]`).join('');
}

/**
 * Token shapes. Each is either a whole match (replaced entirely) or has a named `keep` prefix
 * group, where only what follows the prefix (the value) is replaced.
 */
const PATTERNS: string[] = [
  // PEM private keys (RSA, EC, OPENSSH, ENCRYPTED, …). An unterminated block, e.g. in
  // truncated output, is redacted to the end of the text.
  String.raw`-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|(?![\s\S]))`,
  // Anthropic: sk-ant-api03-…
  String.raw`\bsk-ant-[A-Za-z0-9_-]{20,}`,
  // OpenAI: sk-…, sk-proj-…, sk-svcacct-…. Requiring 20+ chars and a digit keeps prose like
  // "sk-" or kebab-case names (sk-spinner-fading-circle) untouched.
  String.raw`\bsk-(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}`,
  // GitHub: classic (ghp_/gho_/ghu_/ghs_/ghr_ + 36) and fine-grained (github_pat_…).
  String.raw`\bgh[pousr]_[A-Za-z0-9]{36,}`,
  String.raw`\bgithub_pat_[A-Za-z0-9_]{22,}`,
  // The platform's own: API tokens (studio_ + 43 base64url) and daemon secrets
  // (studio_daemon_ + 64 hex), printed by a command in a workspace.
  String.raw`\bstudio_[A-Za-z0-9_-]{32,}`,
  // GitLab personal access tokens.
  String.raw`\bglpat-[A-Za-z0-9_-]{20,}`,
  // Slack bot/app/user/refresh tokens: xoxb-123-456-abc…
  String.raw`\bxox[abpr]-[A-Za-z0-9-]{10,}`,
  // AWS access key ids (long-lived AKIA, temporary ASIA).
  String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`,
  // Google API keys.
  String.raw`\bAIza[0-9A-Za-z_-]{35}`,
  // JWTs: header.payload.signature, header starting {" → eyJ. The signature may be empty (alg none).
  String.raw`\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`,
  // Authorization / Proxy-Authorization header values; the scheme word stays for context. The value
  // must look like a real credential (token68, 8+ chars), so `Bearer ${token}` in code is left alone.
  String.raw`(?<keepAuth>${ci('authorization')}["']?\s*:\s*["']?(?:${ci('bearer')}|${ci('basic')}|${ci('token')})\s+)[A-Za-z0-9._~+/-]{8,}=*`,
  // KEY=value where KEY ends with _KEY, _TOKEN, _SECRET or PASSWORD (.env lines, `export`, `docker
  // -e`, query strings). No spaces around `=`: `const API_KEY = process.env.API_KEY` is code.
  String.raw`(?<keepEnv>\b[A-Za-z0-9_]*(?:_${ci('key')}|_${ci('token')}|_${ci('secret')}|${ci('password')})=)(?!=)(?:"[^"\n]*"|'[^'\n]*'|[^\s"'&]+)`,
];

const TOKEN_REGEX = new RegExp(PATTERNS.join('|'), 'g');

interface KeepGroups {
  keepAuth?: string;
  keepEnv?: string;
}

/** Replace known secret values and well-known token shapes with `[REDACTED]`. */
export function redactSecrets(text: string, knownSecrets?: Iterable<string>): string {
  return redactWith(text, knownSecretsRegex(knownSecrets));
}

function redactWith(text: string, known: RegExp | undefined): string {
  // Known values first, so a known secret that also has a token shape is replaced whole.
  const withoutKnown = known ? text.replace(known, REDACTED) : text;
  return withoutKnown.replace(TOKEN_REGEX, (...args: unknown[]) => {
    // With named groups, the last replace() argument is the groups object.
    const groups = args.at(-1) as KeepGroups;
    return (groups.keepAuth ?? groups.keepEnv ?? '') + REDACTED;
  });
}

/** One alternation of the known secrets, longest first so a secret containing another wins. */
function knownSecretsRegex(knownSecrets: Iterable<string> | undefined): RegExp | undefined {
  if (!knownSecrets) return undefined;
  const usable = [...new Set(knownSecrets)].filter((s) => s.length >= MIN_KNOWN_SECRET_LENGTH);
  if (usable.length === 0) return undefined;
  usable.sort((a, b) => b.length - a.length);
  return new RegExp(usable.map(escapeRegExp).join('|'), 'g');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Keys whose whole value is secret, matched on the key's ending after dropping case and
 * separators: `password`, `apiKey`, `x-api-key`, `accessToken`, `client_secret`, `set-cookie`.
 * Matching the ending (not "contains") keeps `inputTokens`/`maxTokens` usage counts visible.
 */
const SECRET_KEY =
  /(?:password|passwd|passphrase|secret|token|apikey|privatekey|authorization|cookies?)$/;

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/**
 * Deep-redact strings inside a JSON-like value (objects, arrays); keys named like secrets
 * (password, token, apiKey, api_key, secret, authorization, cookie) get their whole value
 * replaced. Returns a new value; null/undefined under a secret key stay as they are, since
 * "not set" is useful to see and reveals nothing.
 */
export function redactValue<T>(value: T, knownSecrets?: Iterable<string>): T {
  // Build the known-secrets regex once for all the strings inside.
  const known = knownSecretsRegex(knownSecrets);
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redactWith(v, known);
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v)) return '[Circular]';
    seen.add(v);
    try {
      if (Array.isArray(v)) return v.map(walk);
      if (!isPlainObject(v)) return v;
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(v)) {
        out[key] =
          isSecretKey(key) && inner !== null && inner !== undefined ? REDACTED : walk(inner);
      }
      return out;
    } finally {
      // Only ancestors count as cycles; the same object twice in siblings is fine.
      seen.delete(v);
    }
  };
  return walk(value) as T;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
