import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capitalize, truncate, wordCount } from '../src/text.js';

test('wordCount counts words', () => {
  assert.equal(wordCount('  the quick  brown fox '), 4);
  assert.equal(wordCount('   '), 0);
});

test('truncate leaves short text alone', () => {
  assert.equal(truncate('hi', 5), 'hi');
});

test('truncate leaves text that fits exactly alone', () => {
  assert.equal(truncate('hello', 5), 'hello');
});

test('truncate cuts long text with an ellipsis', () => {
  assert.equal(truncate('hello world', 5), 'hell…');
});

test('capitalize upper-cases the first letter', () => {
  assert.equal(capitalize('evogit'), 'Evogit');
  assert.equal(capitalize(''), '');
});
