import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mean, median, spread, sum } from '../src/stats.js';

test('sum adds every value', () => {
  assert.equal(sum([1, 2, 3, 4]), 10);
});

test('mean divides the sum by the count', () => {
  assert.equal(mean([2, 4, 9]), 5);
});

test('median of an odd-length list is the middle value', () => {
  assert.equal(median([5, 1, 3]), 3);
});

test('median of an even-length list is the mean of the middle pair', () => {
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('spread is max minus min', () => {
  assert.equal(spread([3, 9, 1]), 8);
});
