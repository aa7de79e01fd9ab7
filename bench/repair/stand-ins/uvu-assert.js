// uvu/assert's functions on node:assert (is: Object.is; equal: deep equality).
import assert from 'node:assert/strict';

export function ok(v, msg) { assert.ok(v, msg); }
export function is(a, b, msg) { assert.ok(Object.is(a, b), msg ?? `expected ${String(b)}, got ${String(a)}`); }
is.not = (a, b, msg) => assert.ok(!Object.is(a, b), msg ?? `expected anything but ${String(b)}`);
export function equal(a, b, msg) { assert.deepStrictEqual(a, b, msg); }
export function type(v, t, msg) { assert.strictEqual(typeof v, t, msg); }
export function instance(v, C, msg) { assert.ok(v instanceof C, msg ?? `expected an instance of ${C.name}`); }
export function throws(fn, expected, msg) { assert.throws(fn, expected, msg); }
export function unreachable(msg) { assert.fail(msg ?? 'unreachable'); }
export function not(v, msg) { assert.ok(!v, msg); }
not.ok = not;
not.equal = (a, b, msg) => assert.notDeepStrictEqual(a, b, msg);
not.instance = (v, C, msg) => assert.ok(!(v instanceof C), msg ?? `expected not an instance of ${C.name}`);
not.type = (v, t, msg) => assert.notStrictEqual(typeof v, t, msg);
not.throws = (fn, msg) => assert.doesNotThrow(fn, msg);
