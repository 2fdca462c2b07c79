import {
  createTestDatabase,
  openDatabase,
  type DatabaseHandle,
  type TestDatabase,
} from '@studio/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.ts';

const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
let database: TestDatabase;
const handles: DatabaseHandle[] = [];

beforeAll(async () => {
  database = await createTestDatabase(POSTGRES_URL);
});
afterAll(async () => {
  for (const handle of handles) await handle.close();
  await database?.drop();
});

async function replica() {
  const handle = await openDatabase({ url: database.url, dataDir: '/nonexistent' });
  handles.push(handle);
  return handle.db;
}

describe('RateLimiter', () => {
  it('allows the limit, then says how long to wait, then allows again after the window', async () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(await replica(), 'a', 3, 1000, () => now);
    expect([await limiter.hit('k'), await limiter.hit('k'), await limiter.hit('k')]).toEqual([
      0, 0, 0,
    ]);
    now += 400;
    expect(await limiter.hit('k')).toBe(600);
    expect(await limiter.hit('other')).toBe(0);
    now += 600;
    expect(await limiter.hit('k')).toBe(0);
  });

  it('reset forgets a key', async () => {
    const limiter = new RateLimiter(await replica(), 'b', 1, 1000, () => 0);
    await limiter.hit('k');
    expect(await limiter.hit('k')).toBeGreaterThan(0);
    await limiter.reset('k');
    expect(await limiter.hit('k')).toBe(0);
  });

  it('counts the attempts of every replica against one limit', async () => {
    const one = new RateLimiter(await replica(), 'sign-in', 4, 60_000);
    const two = new RateLimiter(await replica(), 'sign-in', 4, 60_000);
    const waits = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? one : two).hit('mallory@example.com')),
    );
    expect(waits.filter((wait) => wait === 0)).toHaveLength(4);
  });
});
