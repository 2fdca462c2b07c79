import { describe, expect, test } from 'vitest';
import { get } from './hello.ts';

describe('GET /hello/:name', () => {
  test('greets by name', async () => {
    expect(await get({ name: 'world' })).toEqual({ message: 'Hello, world, from Encore.ts!' });
  });
});
