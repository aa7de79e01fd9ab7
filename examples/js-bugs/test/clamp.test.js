import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clamp, max } from '../src/clamp.js';

test('max picks the larger', () => {
  assert.equal(max(2, 7), 7);
  assert.equal(max(7, 2), 7);
});

test('clamp keeps a value inside the interval', () => {
  assert.equal(clamp(5, 0, 10), 5);
});

test('clamp cuts at both ends', () => {
  assert.equal(clamp(-3, 0, 10), 0);
  assert.equal(clamp(42, 0, 10), 10);
});
