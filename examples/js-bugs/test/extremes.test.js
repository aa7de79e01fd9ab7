import { test } from 'node:test';
import assert from 'node:assert/strict';
import { largest, smallest } from '../src/extremes.js';

test('largest finds the maximum', () => {
  assert.equal(largest([3, 9, 4]), 9);
});

test('smallest finds the minimum', () => {
  assert.equal(smallest([3, 1, 4]), 1);
  assert.equal(smallest([2]), 2);
});
