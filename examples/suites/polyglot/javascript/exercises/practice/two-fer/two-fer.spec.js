import { test } from 'node:test';
import assert from 'node:assert/strict';
import { twoFer } from './two-fer.js';

test('no name given', () => {
  assert.equal(twoFer(), 'One for you, one for me.');
});

test('a name given', () => {
  assert.equal(twoFer('Alice'), 'One for Alice, one for me.');
});
