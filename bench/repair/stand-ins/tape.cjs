// A small stand-in for `tape` on node:test (the project's own test file runs unchanged apart
// from its imports): t.end() or t.plan(n) ends a test, every assertion is node:assert's.
'use strict';
const { test: nodeTest } = require('node:test');
const assert = require('node:assert/strict');
// tape's deepEqual compares structure, not prototypes: node's legacy (loose) deepEqual.
const loose = require('node:assert');

class Test {
  constructor(done) {
    this._done = done;
    this._planned = null;
    this._count = 0;
  }
  _tick() {
    this._count++;
    if (this._planned !== null && this._count >= this._planned) this._done();
  }
  plan(n) { this._planned = n; }
  end() { this._done(); }
  comment() {}
  pass() { this._tick(); }
  fail(msg) { assert.fail(msg); }
  ok(v, msg) { assert.ok(v, msg); this._tick(); }
  true(v, msg) { assert.strictEqual(v, true, msg); this._tick(); }
  notOk(v, msg) { assert.ok(!v, msg); this._tick(); }
  false(v, msg) { assert.strictEqual(v, false, msg); this._tick(); }
  is(a, b, msg) { assert.strictEqual(a, b, msg); this._tick(); }
  not(a, b, msg) { assert.notStrictEqual(a, b, msg); this._tick(); }
  same(a, b, msg) { loose.deepEqual(a, b, msg); this._tick(); }
  notSame(a, b, msg) { loose.notDeepEqual(a, b, msg); this._tick(); }
  throws(fn, expected, msg) {
    if (typeof expected === 'string') assert.throws(fn, undefined, expected);
    else if (expected === undefined) assert.throws(fn, undefined, msg);
    else assert.throws(fn, expected, msg);
    this._tick();
  }
}
Test.prototype.equal = Test.prototype.equals = Test.prototype.strictEqual = Test.prototype.is;
Test.prototype.notEqual = Test.prototype.isNot = Test.prototype.not;
Test.prototype.deepEqual = Test.prototype.deepEquals = Test.prototype.same;
Test.prototype.notDeepEqual = Test.prototype.notSame;
Test.prototype.assert = Test.prototype.ok;

function test(name, fn) {
  nodeTest(name, () =>
    new Promise((resolve, reject) => {
      const t = new Test(resolve);
      try {
        const out = fn(t);
        if (out && typeof out.then === 'function') out.catch(reject);
      } catch (e) {
        reject(e);
      }
    }),
  );
}
test.Test = Test;
module.exports = test;
