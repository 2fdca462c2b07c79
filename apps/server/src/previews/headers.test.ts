import { describe, expect, it } from 'vitest';
import { rewriteLocation, rewriteSetCookie, stripPlatformCookies } from './headers.ts';

const prefix = '/w/demo/p/8000';

describe('preview headers', () => {
  it("drops the platform's cookies, including the HTTPS-prefixed ones, and keeps the app's", () => {
    expect(
      stripPlatformCookies('a=1; studio.session_token=x; __Secure-studio.session_token=y; b=2'),
    ).toBe('a=1; b=2');
    expect(stripPlatformCookies('studio.session_token=x')).toBeUndefined();
    expect(rewriteSetCookie('__Secure-studio.session_token=x; Path=/; Secure', prefix)).toBeNull();
  });

  it('keeps cookies without a Path or with one already under the prefix as they are', () => {
    expect(rewriteSetCookie('a=1; HttpOnly', prefix)).toBe('a=1; HttpOnly');
    expect(rewriteSetCookie(`a=1; path=${prefix}/x; domain=.example.com`, prefix)).toBe(
      `a=1; Path=${prefix}/x`,
    );
  });

  it('keeps redirects to the app itself inside the preview and leaves others alone', () => {
    const target = { prefix, port: 8000 };
    expect(rewriteLocation('/login?next=/', target)).toBe(`${prefix}/login?next=/`);
    expect(rewriteLocation(`${prefix}/done`, target)).toBe(`${prefix}/done`);
    expect(rewriteLocation('http://localhost:8000/a#b', target)).toBe(`${prefix}/a#b`);
    expect(rewriteLocation('http://localhost:9000/a', target)).toBe('http://localhost:9000/a');
    expect(rewriteLocation('//evil.example/a', target)).toBe('//evil.example/a');
    expect(rewriteLocation('next', target)).toBe('next');
  });
});
