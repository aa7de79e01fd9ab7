import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, clamp, mean } from '../calc.js';

test('add sums two numbers', () => {
  assert.equal(add(2, 3), 5);
});

test('mean averages numbers', () => {
  assert.equal(mean([1, 2, 3]), 2);
});

test('clamp keeps values within bounds', () => {
  assert.equal(clamp(-5, 0, 10), 0);
  assert.equal(clamp(5, 0, 10), 5);
  assert.equal(clamp(15, 0, 10), 10);
});

test('mean of an empty list is 0', () => {
  assert.equal(mean([]), 0);
});
