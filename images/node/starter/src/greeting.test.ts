import assert from 'node:assert/strict';
import { test } from 'node:test';
import { greeting } from './greeting.js';

test('the greeting names the person', () => {
  assert.match(greeting('Ada'), /^Hello, Ada, from Node\.js/);
});
