// A small stand-in for `uvu` on node:test: suites register node:test tests, `run()` is a no-op.
import { test as nodeTest } from 'node:test';

export function suite(name = '') {
  const s = (title, fn) => nodeTest(name ? `${name}: ${title}` : title, fn);
  s.only = s;
  s.skip = () => {};
  s.run = () => {};
  s.before = () => {};
  s.after = () => {};
  s.before.each = () => {};
  s.after.each = () => {};
  return s;
}

export const test = suite();
