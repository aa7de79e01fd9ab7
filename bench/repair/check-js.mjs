/**
 * Is a JavaScript repair correct, not just plausible? bench/repair's check on extra inputs.
 *
 *   node check-js.mjs NAME CANDIDATE.js KNOWN_FIX.js
 *
 * Runs the candidate and the known fix on seeded random inputs (none from the project's test
 * file) and prints one JSON line like check.py: {"correct", "agreed", "inputs", "detail"}, where
 * `agreed` counts the inputs before the first disagreement (which ends the check).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const INPUTS = 60;
const [name, candidatePath, fixPath] = process.argv.slice(2);

// mulberry32, seeded by the program's name.
let state = [...`bench/repair:${name}`].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0, 2166136261);
const rand = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (n) => Math.floor(rand() * n);
const pick = (xs) => xs[int(xs.length)];

const CJS = new Set(['mri-null-default', 'minimist-bool-alias', 'minimist-dash', 'minimist-proto']);
/** The function under test, where the module exports more than one. */
const EXPORT = { 'qss-decode-key': 'decode' };
const dir = mkdtempSync(path.join(tmpdir(), 'evogit-check-js-'));
async function load(file, as) {
  const ext = CJS.has(name) ? '.cjs' : '.mjs';
  const target = path.join(dir, `${as}${ext}`);
  copyFileSync(file, target);
  const m = await import(pathToFileURL(target).href);
  if (EXPORT[name]) return m[EXPORT[name]];
  return m.default?.default ?? m.default ?? m.dset ?? m;
}

/** Run one call: its value (normalized by `view`) or the name of what it threw. */
function outcome(fn, args, view) {
  try {
    return { ok: view(fn(...args), args) };
  } catch (e) {
    return { threw: e?.constructor?.name ?? String(e) };
  } finally {
    delete Object.prototype.polluted; // what a polluting program left, so the next call starts clean
  }
}

const key = () => pick(['a', 'b', 'c', '0', '1', '2', 'x.y', '__proto__', 'constructor', 'prototype']);
const GEN = {
  'dset-unsafe-keys': dsetInput,
  'dset-number-keys': dsetInput,
  'regexparam-loose': () => {
    const segs = Array.from({ length: 1 + int(3) }, () => pick(['users', ':id', ':name?', 'books', '*', ':x']));
    const route = `/${segs.join('/')}`;
    const url = `/${Array.from({ length: int(5) }, () => pick(['users', '42', 'bob', 'books', 'a', ''])).join('/')}${pick(['', '/', '//'])}`;
    return { args: [route, rand() < 0.5], view: (out) => ({ keys: out.keys, match: out.pattern.exec(url)?.slice() ?? null }) };
  },
  'klona-map-keys': () => {
    const value = () => pick([1, 'a', null, [1, 2], { p: 1 }, new Date(0), new Set([1, 2])]);
    const map = new Map(Array.from({ length: 1 + int(3) }, () => [pick([value(), { k: int(5) }, [int(3)], 'key', int(9)]), value()]));
    const input = pick([map, { m: map }, [map, 1]]);
    return {
      args: [input],
      view: (out) => {
        // Equal in value, and no object shared with the input (a deep copy).
        const shared = [];
        const walk = (a, b) => {
          if (a === null || typeof a !== 'object') return;
          if (a === b) shared.push(Object.prototype.toString.call(a));
          if (a instanceof Map) {
            const bk = [...b.keys()];
            [...a.keys()].forEach((k, i) => walk(k, bk[i]));
            [...a.values()].forEach((v, i) => walk(v, [...b.values()][i]));
          } else if (Array.isArray(a) || a.constructor === Object) for (const k of Object.keys(a)) walk(a[k], b?.[k]);
        };
        walk(input, out);
        return { equal: isDeepStrictEqual(out, input), shared };
      },
    };
  },
  'mri-null-default': () => {
    const argv = Array.from({ length: int(6) }, () => pick(['-a', '--foo', 'bar', '--no-baz', '-xyz', '--n=3', '5', '--', '-b', 'qux']));
    const opts = {};
    if (rand() < 0.8) opts.default = Object.fromEntries(Array.from({ length: 1 + int(3) }, () => [pick(['foo', 'baz', 'a', 'n', 'b']), pick([null, true, false, 'x', 7, undefined])]));
    if (rand() < 0.4) opts.alias = { a: pick(['all', ['all', 'A']]) };
    if (rand() < 0.3) opts.boolean = pick(['foo', ['baz', 'b']]);
    if (rand() < 0.3) opts.string = pick(['n', ['a']]);
    // mri fills in its options object: each call gets its own copy (through JSON, so an `undefined` default is dropped).
    return { args: [argv, opts], fresh: () => [argv.slice(), JSON.parse(JSON.stringify(opts))], view: (out) => JSON.parse(JSON.stringify(out)) };
  },
  'clsx-array-check': clsxInput,
  'clsx-functions': clsxInput,
  'qss-decode-key': () => {
    const part = () => encodeURIComponent(pick(['a', 'b c', 'ä', 'x[y]', 'k=1', '&', '%', 'a+b', '1']));
    const str = Array.from({ length: 1 + int(4) }, () => `${part()}=${pick([part(), '', 'true', 'false', '42', '0.5'])}`).join('&');
    return { args: [str], view: (out) => out };
  },
  'qss-false-values': () => {
    const value = () => pick([false, true, 0, 1, '', 'x y', null, undefined, NaN, [1, false], [], ['a', 0]]);
    const obj = Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['a', 'b', 'c d', 'ä']), value()]));
    return { args: [obj, pick([undefined, '?', '#'])], view: (out) => out };
  },
  'minimist-bool-alias': minimistInput,
  'minimist-dash': minimistInput,
  'minimist-proto': minimistInput,
};

function clsxInput() {
  const leaf = () => pick(['a', 'b', '', 0, 1, 42, true, false, null, undefined, () => 'f', { x: true, y: 0, z: 'q' }, { push: 1, a: true }, { call: 1 }]);
  const arg = (d) => (d < 2 && rand() < 0.3 ? Array.from({ length: int(3) }, () => arg(d + 1)) : leaf());
  return { args: Array.from({ length: int(4) }, () => arg(0)), view: (out) => out };
}

/** minimist on random command lines: values, aliases of booleans, dashes, and keys that reach Object.prototype. */
function minimistInput() {
  const token = () =>
    pick(['-a', '--foo', 'bar', '--no-baz', '-xyz', '--n=3', '5', '--', '-', '---x', '--b=false', '--boool=false', '--all=false', '--boool', '-b', '-n', '-5', '-1e3', '--a.b=2', '--__proto__.polluted=1', '--constructor.prototype.polluted=2', '--x']);
  const argv = Array.from({ length: int(6) }, token);
  const opts = {};
  if (rand() < 0.7) opts.boolean = pick(['b', ['b'], 'boool', ['a', 'foo']]);
  if (rand() < 0.7) opts.alias = pick([{ b: 'boool' }, { boool: ['b', 'B'] }, { a: 'all' }]);
  if (rand() < 0.3) opts.string = pick(['n', ['x']]);
  if (rand() < 0.3) opts.default = { [pick(['b', 'boool'])]: pick([true, false]) };
  return {
    args: [argv, opts],
    fresh: () => [argv.slice(), JSON.parse(JSON.stringify(opts))],
    view: (out) => {
      const polluted = Object.prototype.polluted ?? null;
      delete Object.prototype.polluted;
      return { out: JSON.parse(JSON.stringify(out)), polluted };
    },
  };
}

function dsetInput() {
  const base = pick([() => ({}), () => ({ a: 1, b: { c: 2 } }), () => ({ a: [1, 2], b: null, c: 0 })]);
  const keys = Array.from({ length: 1 + int(4) }, key);
  const asArray = rand() < 0.5;
  const ks = asArray ? keys.map((k) => (/^\d$/.test(k) && rand() < 0.5 ? Number(k) : k)) : keys.filter((k) => !k.includes('.')).join('.');
  const value = pick([1, 'v', null, { z: 1 }]);
  // Fresh objects per call: dset mutates its input, and `view` reads the result from it.
  return { args: [base(), ks, value], fresh: () => [base(), ks, value], view: (_out, args) => ({ obj: JSON.parse(JSON.stringify(args[0])), polluted: {}.polluted ?? null }) };
}

try {
  const gen = GEN[name];
  if (!gen) throw new Error(`no input generator for ${name}`);
  const candidate = await load(candidatePath, 'candidate');
  const fix = await load(fixPath, 'fix');
  let agreed = 0;
  let detail = '';
  for (let i = 0; i < INPUTS; i++) {
    const input = gen();
    const want = outcome(fix, input.fresh ? input.fresh() : input.args, input.view);
    const got = outcome(candidate, input.fresh ? input.fresh() : input.args, input.view);
    if (isDeepStrictEqual(want, got)) agreed++;
    else {
      // One disagreement decides.
      detail = `input ${i}: ${JSON.stringify(input.args).slice(0, 160)} → fix ${JSON.stringify(want).slice(0, 120)}, candidate ${JSON.stringify(got).slice(0, 120)}`;
      break;
    }
  }
  process.stdout.write(`${JSON.stringify({ correct: agreed === INPUTS, agreed, inputs: INPUTS, detail })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
