import { describe, expect, it } from 'vitest';
import { safeNextPath, signInPathFor } from './next-path.ts';

describe('safeNextPath', () => {
  it('keeps a same-origin path with its query and hash', () => {
    expect(safeNextPath('/settings?tab=1#api-tokens')).toBe('/settings?tab=1#api-tokens');
  });

  it('refuses anything that could leave the origin', () => {
    for (const raw of [
      'https://evil.example',
      '//evil.example',
      '/\\evil.example',
      'settings',
      '',
    ]) {
      expect(safeNextPath(raw)).toBe('/');
    }
    expect(safeNextPath(null)).toBe('/');
  });

  it('never sends someone back to an auth page', () => {
    expect(safeNextPath('/sign-in?next=/x')).toBe('/');
    expect(safeNextPath('/invite/abc')).toBe('/');
    expect(safeNextPath('/setup')).toBe('/');
    expect(safeNextPath('/setup-guide')).toBe('/setup-guide');
  });
});

describe('signInPathFor', () => {
  it('carries the current path in ?next=', () => {
    expect(signInPathFor('/admin/users')).toBe('/sign-in?next=%2Fadmin%2Fusers');
    expect(signInPathFor('/')).toBe('/sign-in');
  });
});
