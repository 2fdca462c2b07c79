import { describe, expect, it } from 'vitest';
import { isAllowedHost } from './access.ts';
import { findNul } from './text-rules.ts';

describe('isAllowedHost (THREATS 28)', () => {
  const deps = { publicUrl: new URL('https://studio.example.com'), allowedHosts: ['studio'] };
  it.each([
    ['studio.example.com', true],
    ['STUDIO.example.com:443', true],
    ['studio:3000', true],
    ['localhost:3000', true],
    ['127.0.0.1:3000', true],
    ['[::1]:3000', true],
    ['10.1.2.3', true],
    ['rebound.attacker.example', false],
    ['studio.example.com.attacker.example', false],
    ['', false],
    [undefined, false],
    ['bad host', false],
  ])('%s → %s', (host, allowed) => {
    expect(isAllowedHost(host, deps)).toBe(allowed);
  });
});

describe('findNul (THREATS 30)', () => {
  it('names the first field holding a NUL, at any depth', () => {
    expect(findNul({ name: 'ok', nested: { list: ['a', 'b\u0000'] } }, 'body')).toBe(
      'body.nested.list.1',
    );
    expect(findNul({ 'k\u0000': 1 }, 'query')).toBe('query."k\\u0000"');
    expect(findNul({ fine: 'text', n: 1 }, 'body')).toBeNull();
    expect(findNul(Buffer.from([0]), 'body')).toBeNull();
  });
});
