import { describe, expect, it } from 'vitest';
import { redactSecrets, redactValue } from './redact.ts';

// Fake credentials of the right shapes, built at runtime so secret scanners don't flag this file.
const alnum = (n: number) => 'aB3dE5gH7jK9mN1pQ2sT4vW6yZ8'.repeat(4).slice(0, n);
const upper = (n: number) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.slice(0, n);
const JWT = ['eyJhbGciOiJIUzI1NiJ9', 'eyJzdWIiOiIxMjM0In0', 'c2lnbmF0dXJlLXZhbHVl'].join('.');

describe('redactSecrets token shapes', () => {
  it.each([
    ['OpenAI key', `sk-${alnum(48)}`],
    ['OpenAI project key', `sk-proj-${alnum(40)}_${alnum(20)}`],
    ['Anthropic key', `sk-ant-api03-${alnum(60)}-${alnum(20)}AA`],
    ['GitHub classic token', `ghp_${alnum(36)}`],
    ['GitHub OAuth token', `gho_${alnum(36)}`],
    ['GitHub user-to-server token', `ghu_${alnum(36)}`],
    ['GitHub server-to-server token', `ghs_${alnum(36)}`],
    ['GitHub refresh token', `ghr_${alnum(36)}`],
    ['GitHub fine-grained token', `github_pat_${alnum(22)}_${alnum(59)}`],
    ['GitLab token', `glpat-${alnum(20)}`],
    ['Slack bot token', `xoxb-1234567890-0987654321-${alnum(24)}`],
    ['Slack user token', `xoxp-1234567890-${alnum(24)}`],
    ['AWS access key id', `AKIA${upper(16)}`],
    ['AWS temporary key id', `ASIA${upper(16)}`],
    ['Google API key', `AIza${alnum(35)}`],
    ['JWT', JWT],
    // The platform's own (THREATS 32): an API token and a daemon secret.
    ['Studio API token', `studio_${alnum(43)}`],
    ['Studio daemon secret', `studio_daemon_${'0123456789abcdef'.repeat(4)}`],
  ])('%s', (_name, secret) => {
    expect(redactSecrets(`value: ${secret} (end)`)).toBe('value: [REDACTED] (end)');
    expect(redactSecrets(`"${secret}"`)).toBe('"[REDACTED]"');
  });

  it('keeps the Authorization scheme and hides its value', () => {
    expect(redactSecrets(`Authorization: Bearer ${alnum(30)}`)).toBe(
      'Authorization: Bearer [REDACTED]',
    );
    expect(redactSecrets('authorization: basic dXNlcjpwYXNzd29yZA==')).toBe(
      'authorization: basic [REDACTED]',
    );
    expect(redactSecrets(`curl -H "Proxy-Authorization: Token ${alnum(12)}" https://x`)).toBe(
      'curl -H "Proxy-Authorization: Token [REDACTED]" https://x',
    );
    expect(redactSecrets(`{"authorization": "Bearer ${alnum(20)}"}`)).toBe(
      '{"authorization": "Bearer [REDACTED]"}',
    );
  });

  it('redacts PEM private key blocks, even unterminated ones', () => {
    const pem = [
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      alnum(64),
      alnum(40),
      '-----END OPENSSH PRIVATE KEY-----',
    ].join('\n');
    expect(redactSecrets(`key:\n${pem}\ndone`)).toBe('key:\n[REDACTED]\ndone');
    expect(redactSecrets(`-----BEGIN RSA PRIVATE KEY-----\n${alnum(64)}\n`)).toBe('[REDACTED]');
    // Public material is not secret.
    const cert = `-----BEGIN CERTIFICATE-----\n${alnum(64)}\n-----END CERTIFICATE-----`;
    expect(redactSecrets(cert)).toBe(cert);
  });

  it('redacts the value of KEY=value for secret-like keys only', () => {
    const env = [
      'PATH=/usr/bin:/bin',
      'OPENAI_API_KEY=abc123',
      'export GITHUB_TOKEN="quoted value"',
      "CLIENT_SECRET='single'",
      'DB_PASSWORD=hunter2',
      'PGPASSWORD=hunter2',
      'NODE_ENV=production',
    ].join('\n');
    expect(redactSecrets(env)).toBe(
      [
        'PATH=/usr/bin:/bin',
        'OPENAI_API_KEY=[REDACTED]',
        'export GITHUB_TOKEN=[REDACTED]',
        'CLIENT_SECRET=[REDACTED]',
        'DB_PASSWORD=[REDACTED]',
        'PGPASSWORD=[REDACTED]',
        'NODE_ENV=production',
      ].join('\n'),
    );
    expect(redactSecrets('docker run -e API_KEY=abc123 img')).toBe(
      'docker run -e API_KEY=[REDACTED] img',
    );
    expect(redactSecrets('GET /cb?access_token=abc123&state=xyz')).toBe(
      'GET /cb?access_token=[REDACTED]&state=xyz',
    );
  });

  it('replaces known secrets of 8+ chars anywhere, ignoring shorter ones', () => {
    const known = ['correct-horse-battery', 'short', 'a.b*c+d?e'];
    expect(redactSecrets('pw=correct-horse-battery; x=short; re=a.b*c+d?e', known)).toBe(
      'pw=[REDACTED]; x=short; re=[REDACTED]',
    );
    // A known secret containing another is replaced whole.
    expect(redactSecrets('tok-12345678-extra', ['tok-12345678', 'tok-12345678-extra'])).toBe(
      '[REDACTED]',
    );
  });

  it('is idempotent', () => {
    const text = `Authorization: Bearer ${alnum(20)}\nAPI_KEY=${alnum(10)} ${JWT}`;
    const once = redactSecrets(text);
    expect(redactSecrets(once)).toBe(once);
  });

  it('leaves ordinary code and prose alone', () => {
    const code = `
// Tokens are refreshed when they expire; "sk-" prefixes mark OpenAI keys.
import { skip } from './util.ts';

const API_KEY = process.env.API_KEY;
const headers = { authorization: \`Bearer \${token}\` };
export function tokenize(input: string, maxTokens = 4096): string[] {
  const tokens = input.split(/\\s+/);
  if (tokens.length > maxTokens) skip('too many tokens: ' + tokens.length);
  return tokens.filter((t) => t !== 'sk-' && t !== 'task-runner-config-loader-2');
}
// Send "Authorization: Bearer <token>" with a token from the settings page.
// className="sk-spinner-fading-circle-animation"
const password = await prompt('password');
if (PASSWORD_MIN_LENGTH > 8 || a.API_KEY == b) throw new Error('bad');
`;
    expect(redactSecrets(code)).toBe(code);
  });

  it('returns 1 MB of secret-free text unchanged, quickly', () => {
    const line = 'const value = computeSomething(input, options); // ordinary line of code 123\n';
    const text = line.repeat(Math.ceil((1024 * 1024) / line.length));
    const started = performance.now();
    const result = redactSecrets(text, ['a-known-secret-value']);
    const elapsed = performance.now() - started;
    expect(result).toBe(text);
    expect(elapsed).toBeLessThan(1000);
  });

  it('stays fast on one huge token-like word', () => {
    const text = `X${'A'.repeat(1024 * 1024)}`;
    const started = performance.now();
    expect(redactSecrets(text)).toBe(text);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('redactValue', () => {
  it('replaces whole values under secret-like keys and redacts strings elsewhere', () => {
    const input = {
      user: 'ada',
      password: 'hunter2',
      apiKey: 'k',
      api_key: 'k',
      'x-api-key': 'k',
      accessToken: { value: 'nested' },
      client_secret: 42,
      headers: { Authorization: 'Bearer x', Cookie: 'sid=1', 'set-cookie': ['a', 'b'] },
      usage: { inputTokens: 10, maxTokens: 100 },
      refreshToken: null,
      output: [`printed ghp_${alnum(36)} and the known one: my-known-secret`],
    };
    expect(redactValue(input, ['my-known-secret'])).toEqual({
      user: 'ada',
      password: '[REDACTED]',
      apiKey: '[REDACTED]',
      api_key: '[REDACTED]',
      'x-api-key': '[REDACTED]',
      accessToken: '[REDACTED]',
      client_secret: '[REDACTED]',
      headers: { Authorization: '[REDACTED]', Cookie: '[REDACTED]', 'set-cookie': '[REDACTED]' },
      usage: { inputTokens: 10, maxTokens: 100 },
      refreshToken: null,
      output: ['printed [REDACTED] and the known one: [REDACTED]'],
    });
    expect(input.password).toBe('hunter2');
  });

  it('handles primitives, shared objects and cycles', () => {
    expect(redactValue(`AKIA${upper(16)}`)).toBe('[REDACTED]');
    expect(redactValue(7)).toBe(7);
    const shared = { note: 'hi' };
    expect(redactValue({ a: shared, b: shared })).toEqual({ a: shared, b: shared });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(redactValue(cyclic)).toEqual({ name: 'loop', self: '[Circular]' });
  });
});
