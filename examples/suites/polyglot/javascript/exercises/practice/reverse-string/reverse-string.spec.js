import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reverseString } from './reverse-string.js';

test('an empty string', () => {
  assert.equal(reverseString(''), '');
});

test('a word', () => {
  assert.equal(reverseString('stressed'), 'desserts');
});
