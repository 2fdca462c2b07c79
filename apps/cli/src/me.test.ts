import { meSchema, ROLES, userSchema } from '@studio/protocol';
import { describe, expect, it } from 'vitest';
import { meParser } from './me.ts';

const user = {
  id: 'u1',
  email: 'me@example.com',
  name: 'Me',
  role: 'member',
  disabled: false,
  createdAt: '2026-01-01T00:00:00.000Z',
};

/** What each parser makes of a value: its result, or that it refused it. */
function both(value: unknown): { ours: unknown; protocol: unknown } {
  const outcome = (parse: () => unknown) => {
    try {
      return { ok: parse() };
    } catch {
      return 'refused';
    }
  };
  return {
    ours: outcome(() => meParser.parse(value)),
    protocol: outcome(() => meSchema.parse(value)),
  };
}

describe("the CLI's zod-free parser of GET /api/me", () => {
  it('returns what meSchema returns, keys in the same order and unknown ones dropped', () => {
    const answers = [
      { user, via: 'token' },
      { via: 'session', user: { ...user, role: 'admin', disabled: true } },
      { user: { extra: 1, ...user, quota: { cpus: 2 } }, via: 'token', more: [] },
      ...ROLES.map((role) => ({ user: { ...user, role }, via: 'token' })),
    ];
    for (const answer of answers) {
      const { ours, protocol } = both(answer);
      expect(protocol).not.toBe('refused');
      expect(JSON.stringify(ours)).toBe(JSON.stringify(protocol));
    }
  });

  it('knows every field the protocol has', () => {
    const parsed = meParser.parse({ user, via: 'token' });
    expect(Object.keys(parsed)).toEqual(Object.keys(meSchema.shape));
    expect(Object.keys(parsed.user)).toEqual(Object.keys(userSchema.shape));
  });

  it('refuses what meSchema refuses', () => {
    const { id: _id, ...withoutId } = user;
    const answers: unknown[] = [
      null,
      [],
      'me',
      {},
      { user },
      { user: null, via: 'token' },
      { user: [user], via: 'token' },
      { user: withoutId, via: 'token' },
      { user: { ...user, id: 1 }, via: 'token' },
      { user: { ...user, email: null }, via: 'token' },
      { user: { ...user, name: undefined }, via: 'token' },
      { user: { ...user, role: 'owner' }, via: 'token' },
      { user: { ...user, disabled: 'false' }, via: 'token' },
      { user: { ...user, createdAt: 0 }, via: 'token' },
      { user, via: 'cookie' },
    ];
    for (const answer of answers) {
      expect(both(answer)).toEqual({ ours: 'refused', protocol: 'refused' });
    }
  });
});
