import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.ts';

describe('RateLimiter', () => {
  it('allows the limit, then says how long to wait, then allows again after the window', () => {
    let now = 0;
    const limiter = new RateLimiter(3, 1000, () => now);
    expect([limiter.hit('a'), limiter.hit('a'), limiter.hit('a')]).toEqual([0, 0, 0]);
    now = 400;
    expect(limiter.hit('a')).toBe(600);
    expect(limiter.hit('b')).toBe(0);
    now = 1000;
    expect(limiter.hit('a')).toBe(0);
  });

  it('reset forgets a key', () => {
    const limiter = new RateLimiter(1, 1000, () => 0);
    limiter.hit('a');
    expect(limiter.hit('a')).toBeGreaterThan(0);
    limiter.reset('a');
    expect(limiter.hit('a')).toBe(0);
  });
});
