import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, mean } from '../calc.js';

test('add sums two numbers', () => {
  assert.equal(add(2, 3), 5);
});

test('mean averages numbers', () => {
  assert.equal(mean([1, 2, 3]), 2);
});
