import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listRange, sumRange } from '../src/range.js';

test('listRange includes both ends', () => {
  assert.deepEqual(listRange(1, 4), [1, 2, 3, 4]);
});

test('sumRange includes both ends', () => {
  assert.equal(sumRange(1, 4), 10);
});

test('sumRange of a single number is that number', () => {
  assert.equal(sumRange(5, 5), 5);
});
