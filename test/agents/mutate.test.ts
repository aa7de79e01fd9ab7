/**
 * Unit tests of the mutate agent: every operator yields parsable code in JS, TS and Python;
 * choices are reproducible from the seed; test files are never edited; failing-log
 * targeting aims at the failing function far more often than chance.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveNode } from '../../src/archive/types.js';
import {
  applyMutation,
  createMutateAgent,
  findHotspots,
  globToRegExp,
  hotspotLines,
  isEditable,
  listMutationSites,
  MUTATION_OPERATORS,
  parseLogLocations,
  resolveLogPath,
  searchEdits,
  suspicionOf,
  type MutateLanguage,
} from '../../src/agents/mutate/index.js';
import { parse } from '../../src/agents/mutate/parser.js';
import { defaultConfig } from '../../src/config/index.js';
import { git, makeRepo, removeDir, tempDir } from '../helpers/repo.js';

const JS = `export function sumRange(from, to) {
  let total = 0;
  for (let i = from; i < to; i++) {
    total += i;
  }
  return total;
}

export function smallest(xs) {
  let best = xs[0];
  for (const x of xs) {
    if (!(x < best)) {
      best = x;
    }
  }
  while (best > 10 && false) best--;
  return best === 1;
}

export function collect(xs) {
  const out = [];
  for (const x of xs) out.push(x);
}

export function walk(graph, start, limit) {
  const seen = new Set();
  const queue = [start];
  while (true) {
    const node = queue.shift();
    if (seen.has(node) || graph.size > limit) return seen;
    queue.push(node, graph.next);
    const rest = queue.slice(1, limit);
    const spare = limit - graph.size;
    if (node === queue[limit]) continue;
    visit(rest, Math.max(spare, Number(limit)));
    visit(rest);
  }
}
`;

const TS = `export function clamp(x: number, lo: number, hi: number): number {
  if (x < lo) {
    return lo;
  }
  const limit: number = hi - 0;
  if (x > limit || x >= 100) {
    return limit;
  }
  return x;
}

export function scale(xs: number[], k: number): void {
  let n = 0;
  for (const x of xs) n += x * k;
}

export function walk(graph: { size: number; next: number }, start: number, limit: number): Set<number> {
  const seen = new Set<number>();
  const queue: number[] = [start];
  while (true) {
    const node = queue.shift() as number;
    if (seen.has(node) || graph.size > limit) return seen;
    queue.push(node, graph.next);
    const rest = queue.slice(1, limit);
    const spare = limit - graph.size;
    if (node === queue[limit]) continue;
    visit(rest, Math.max(spare, Number(limit)));
    visit(rest);
  }
}
`;

const PY = `def clamp(x, lo, hi):
    """x limited to [lo, hi]."""
    if x < lo:
        return lo
    elif not x <= hi:
        return hi
    while lo >= 1 and True:
        lo -= 1
    return x


def total(xs):
    t = 0
    for x in xs:
        t += x * 2
    return t // 2


def count(xs):
    seen = 0
    for x in xs:
        seen += 1


def walk(graph, start, limit):
    seen = set()
    queue = [start]
    while True:
        node = queue.pop()
        if node in seen or graph.size > limit:
            return seen
        queue.append(node, graph.next)
        rest = queue[1:limit]
        spare = limit - graph.size
        if node == queue[limit]:
            continue
        visit(rest, max(spare, int(limit)))
        visit(rest)
`;

const SNIPPETS: [MutateLanguage, string][] = [
  ['javascript', JS],
  ['typescript', TS],
  ['python', PY],
];

describe('mutation operators', () => {
  for (const [language, source] of SNIPPETS) {
    it(`every edit on ${language} either parses or is refused, and every operator applies`, async () => {
      const sites = await listMutationSites(source, language);
      const applied = new Map<string, number>();
      for (const site of sites) {
        // The first alternatives of every site (the ones a search reaches first): enough for every operator.
        for (let i = 0; i < Math.min(site.size, 4); i++) {
          const mutation = site.mutation(i);
          const result = await applyMutation(source, language, mutation);
          if (!result.ok) continue;
          const tree = await parse(result.source, language);
          expect(tree.rootNode.hasError, `${mutation.operator} line ${mutation.line}:\n${result.source}`).toBe(false);
          tree.delete();
          expect(result.source).not.toBe(source);
          applied.set(mutation.operator, (applied.get(mutation.operator) ?? 0) + 1);
        }
      }
      expect([...applied.keys()].sort()).toEqual([...MUTATION_OPERATORS].sort());
    });
  }

  it('a refused edit is one whose result has ERROR or MISSING nodes', async () => {
    const broken = await applyMutation('const a = 1 + 2;\n', 'javascript', {
      operator: 'binary-operator',
      line: 1,
      before: '1 + 2',
      after: '1 + ',
      replacements: [{ start: 14, end: 15, text: '' }],
    });
    expect(broken).toEqual({ ok: false, reason: 'the edited source does not parse' });
  });

  it('swaps comparison and logical operators both ways, in Python too', async () => {
    const afters = async (source: string, language: MutateLanguage): Promise<string[]> =>
      (await listMutationSites(source, language))
        .filter((s) => s.operator === 'binary-operator')
        .flatMap((s) => Array.from({ length: s.size }, (_, i) => s.mutation(i).after));
    expect(await afters('if (a < b && c == d) {}\n', 'javascript')).toEqual(
      expect.arrayContaining(['a <= b', 'a > b', 'a >= b', 'a < b || c == d', 'c != d']),
    );
    expect(await afters('x = a >= b or c\n', 'python')).toEqual(expect.arrayContaining(['a > b', 'a < b', 'a >= b and c']));
  });

  it('negates conditions, and un-negates negated ones', async () => {
    const negations = async (source: string, language: MutateLanguage): Promise<string[]> =>
      (await listMutationSites(source, language)).filter((s) => s.operator === 'negate-condition').map((s) => s.mutation(0).after);
    expect(await negations('if (a < b) { f(); }\nwhile (!(x)) { g(); }\n', 'javascript')).toEqual(['!(a < b)', 'x']);
    expect(await negations('if a < b:\n    f()\nwhile not x:\n    g()\n', 'python')).toEqual(['not (a < b)', 'x']);
  });

  it('changes constants by one and swaps 0/1 and booleans', async () => {
    const sites = (await listMutationSites('const n = 5, z = 0, t = true;\n', 'javascript')).filter((s) => s.operator === 'constant');
    const alternatives = sites.map((s) => Array.from({ length: s.size }, (_, i) => s.mutation(i).replacements[0]?.text));
    expect(alternatives).toEqual([['6', '4', '0', '1'], ['1'], ['false']]);
  });

  it('return-value offers the other variables in scope and ±1', async () => {
    const site = (await listMutationSites('function f(a, b) {\n  const c = a * b;\n  return c;\n}\n', 'javascript')).find(
      (s) => s.operator === 'return-value',
    );
    const texts = Array.from({ length: site?.size ?? 0 }, (_, i) => site?.mutation(i).replacements[0]?.text);
    expect(texts).toEqual(['a', 'b', 'c + 1', 'c - 1']);
  });

  it('return-insert appends `return <name>` to a function that runs off its end, last-written local first', async () => {
    const returns = async (source: string, language: MutateLanguage): Promise<string[][]> =>
      (await listMutationSites(source, language))
        .filter((s) => s.operator === 'return-insert')
        .map((s) => Array.from({ length: s.size }, (_, i) => s.mutation(i).after));
    const js = 'function smallest(xs) {\n  let best = xs[0];\n  for (const x of xs) {\n    if (x < best) best = x;\n  }\n}\n';
    // x is out of scope after the loop in JavaScript; best was written last; xs is a parameter.
    expect(await returns(js, 'javascript')).toEqual([['return best;', 'return xs;']]);
    const applied = await applyMutation(js, 'javascript', (await listMutationSites(js, 'javascript')).find((s) => s.operator === 'return-insert')!.mutation(0));
    expect(applied.ok && applied.source).toBe('function smallest(xs) {\n  let best = xs[0];\n  for (const x of xs) {\n    if (x < best) best = x;\n  }\n  return best;\n}\n');
    // A Python loop variable outlives its loop; the accumulator still comes first.
    expect(await returns('def total(xs):\n    t = 0\n    for x in xs:\n        t += x\n', 'python')).toEqual([['return t', 'return x', 'return xs']]);
    // Bodies that end in return, throw or raise, and constructors, get none.
    expect(await returns('function f(a) {\n  if (a) return 1;\n  throw new Error("no");\n}\nclass K { constructor(a) { this.a = a; } }\n', 'javascript')).toEqual([]);
    expect(await returns('def f(a):\n    return a\n\n\ndef g(a):\n    raise ValueError(a)\n', 'python')).toEqual([]);
  });

  it('prefers insertions whose names are bound where they land, and offers no duplicate of a statement in the block', async () => {
    const source = 'function f(xs) {\n  let s = 0;\n  for (const x of xs) {\n    s += x;\n  }\n  g(s);\n}\nfunction h(xs) {\n  let s = 0;\n  s += x;\n  return s;\n}\n';
    const sites = await listMutationSites(source, 'javascript');
    const insertsAt = (line: number): { preferred: string[]; other: string[] } => {
      const site = sites.find((s) => s.operator === 'statement-insert' && s.line === line)!;
      const all = Array.from({ length: site.size }, (_, i) => site.mutation(i).after);
      return { preferred: all.slice(0, site.preferred), other: all.slice(site.preferred) };
    };
    // After the loop of f (line 6 is `g(s)`), `s += x` reads x out of its scope: not preferred.
    const atCall = insertsAt(6);
    expect(atCall.preferred).toContain('before it: return s; (from line 11)');
    expect(atCall.preferred.some((a) => a.includes('s += x'))).toBe(false);
    expect(atCall.other.some((a) => a.includes('s += x'))).toBe(true);
    // Before `let s = 0` of h, s is not yet declared (temporal dead zone): f's loop, which
    // updates s, is preferred after that line only.
    const atLet = insertsAt(9);
    expect(atLet.preferred).toEqual(['after it: for (const x of xs) { ⏎ s += x; ⏎ } (from line 3)']);
    // `let s = 0;` and `return s;` are already in h's body: another copy adds nothing.
    expect([...atLet.preferred, ...atLet.other].some((a) => a.includes('let s = 0') || a.includes('return s'))).toBe(false);
  });

  it('leaves docstrings alone: moving or deleting one is no behaviour change', async () => {
    const sites = await listMutationSites('def f(x):\n    """Doc."""\n    return x\n', 'python');
    const statementEdits = sites.filter((s) => s.operator.startsWith('statement-')).flatMap((s) => Array.from({ length: s.size }, (_, i) => s.mutation(i)));
    expect(statementEdits.some((m) => m.before.includes('Doc') || m.after.includes('Doc'))).toBe(false);
  });

  it('puts a Python statement moved into another block at that block\'s indentation', async () => {
    const sites = await listMutationSites(PY, 'python');
    const insert = sites.find((s) => s.operator === 'statement-insert' && s.line === 15);
    expect(insert).toBeDefined();
    for (let i = 0; i < (insert?.size ?? 0); i++) {
      const result = await applyMutation(PY, 'python', insert!.mutation(i));
      expect(result.ok).toBe(true);
    }
  });
});

describe('operators for the simple-bug classes', () => {
  const edits = async (source: string, language: MutateLanguage, operator: string): Promise<string[]> =>
    (await listMutationSites(source, language)).filter((s) => s.operator === operator).flatMap((s) => Array.from({ length: s.size }, (_, i) => s.mutation(i).after));

  it("jump-replace swaps a loop's break and continue, never a switch case's break or a labelled jump", async () => {
    const js = 'function f(xs) {\n  outer: for (const x of xs) {\n    switch (x) {\n      case 1:\n        break;\n    }\n    if (x) continue outer;\n    while (x) { if (x > 2) break; }\n  }\n}\n';
    expect(await edits(js, 'javascript', 'jump-replace')).toEqual(['if (x > 2) continue;']);
    const py = 'def f(xs):\n    for x in xs:\n        if x:\n            continue\n';
    expect(await edits(py, 'python', 'jump-replace')).toEqual(['break']);
  });

  it('operand-add adds a computed count to a numeric index or recursive argument, never to a collection', async () => {
    const py = 'def pick(xs, k):\n    n = len(xs) - 1\n    if k > n:\n        return pick(xs[1:], k)\n    return xs[k]\n';
    const added = await edits(py, 'python', 'operand-add');
    expect(added).toEqual(['(xs[1:], k - n)', '(xs[1:], k + n)', 'xs[k - n]', 'xs[k + n]']);
  });

  it("call-wrap wraps a value in another one-argument function of the file, never in its own call's function or print", async () => {
    const py = 'def show(x):\n    print(x)\n    y = norm(x)\n    return norm(y)\n\n\ndef norm(v):\n    return abs(v)\n';
    const wrapped = await edits(py, 'python', 'call-wrap');
    expect(wrapped).toContain('y = abs(norm(x))');
    expect(wrapped).toContain('(abs(y))');
    expect(wrapped.some((w) => w.includes('print(') || w.includes('norm(norm(') || w.includes('abs(abs('))).toBe(false);
  });

  it('conjunct-add writes operands bare where they bind tighter, parenthesized where they do not', async () => {
    const js = 'function f(a, b) {\n  if (a < b || b > 2) return 1;\n  if (a === 0) return 2;\n}\n';
    const added = await edits(js, 'javascript', 'conjunct-add');
    expect(added).toContain('(a < b || b > 2) && a === 0');
    expect(added).toContain('a < b || b > 2 || a === 0');
    expect(added).toContain('a === 0 && (a < b || b > 2)');
  });
});

describe('seeded choices', () => {
  const files = [{ path: 'src/a.js', language: 'javascript' as const, source: JS }];

  it('the same seed gives the same edit', async () => {
    for (const seed of [1, 7, 123456]) {
      const a = await searchEdits(files, { seed, maxEdits: 2 });
      const b = await searchEdits(files, { seed, maxEdits: 2 });
      expect(a).toEqual(b);
    }
  });

  it('different seeds give different edits', async () => {
    const results = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const result = await searchEdits(files, { seed, maxEdits: 2 });
      if (result.ok) results.add(result.sources.get('src/a.js') ?? '');
    }
    expect(results.size).toBeGreaterThan(25);
  });

  it('favours one edit per child and never exceeds maxEdits', async () => {
    const counts: number[] = [];
    for (let seed = 0; seed < 200; seed++) {
      const result = await searchEdits(files, { seed, maxEdits: 3 });
      if (result.ok) counts.push(result.edits.length);
    }
    expect(Math.max(...counts)).toBeLessThanOrEqual(3);
    expect(counts.filter((c) => c === 1).length / counts.length).toBeGreaterThan(0.6);
  });
});

describe('targeting', () => {
  it('reads node stack frames, file URLs and Python tracebacks', () => {
    const node = `    at sumRange (file:///sandbox/repo/src/range.js:4:11)\n    at TestContext.<anonymous> (/sandbox/repo/test/range.test.js:10:10)\n    at node:internal/test_runner/test:796:25`;
    const py = `Traceback (most recent call last):\n  File "/repo/tests/test_clamp.py", line 12, in test_clamp\n    self.assertEqual(clamp(5, 0, 10), 5)\nAssertionError: 10 != 5`;
    expect(parseLogLocations(node)).toEqual([
      { path: '/sandbox/repo/src/range.js', line: 4 },
      { path: '/sandbox/repo/test/range.test.js', line: 10 },
    ]);
    expect(parseLogLocations(py)).toEqual([{ path: '/repo/tests/test_clamp.py', line: 12, code: 'self.assertEqual(clamp(5, 0, 10), 5)' }]);
    expect(resolveLogPath('/sandbox/repo/src/range.js', ['range.js', 'src/range.js', 'test/range.test.js'])).toBe('src/range.js');
    expect(resolveLogPath('/elsewhere/other.js', ['src/range.js'])).toBeNull();
  });

  it('aims at the failing function far more often than chance', async () => {
    // Ten functions of equal shape; the failing test calls f7.
    const source = Array.from(
      { length: 10 },
      (_, k) => `export function f${k}(a, b) {\n  let s = 0;\n  if (a < b) {\n    s = a + ${k};\n  }\n  return s * 2;\n}\n`,
    ).join('\n');
    const files = [{ path: 'src/lib.js', language: 'javascript' as const, source }];
    const tree = await parse(source, 'javascript');
    const { functionSpansOfTree } = await import('../../src/agents/mutate/sites/index.js');
    const spans = functionSpansOfTree(tree.rootNode);
    tree.delete();
    const f7 = spans.find((s) => s.name === 'f7')!;
    const log = `not ok 1 - f7 works\n  stack: |-\n    TestContext.<anonymous> (file:///box/test/lib.test.js:5:10)\n`;
    const hotspots = findHotspots({
      logs: [log],
      files: ['src/lib.js', 'test/lib.test.js'],
      editable: new Map([['src/lib.js', spans]]),
      lineText: (file, line) => (file === 'test/lib.test.js' && line === 5 ? '  assert.equal(f7(1, 2), 16);' : null),
    });
    expect(hotspots).toEqual([{ file: 'src/lib.js', startLine: f7.startLine, endLine: f7.endLine, weight: 2 }]);

    let inside = 0;
    let total = 0;
    for (let seed = 0; seed < 200; seed++) {
      const result = await searchEdits(files, { seed, maxEdits: 1, suspicion: suspicionOf(hotspotLines(hotspots), new Map([['src/lib.js', spans]])) });
      if (!result.ok) continue;
      total++;
      const line = result.edits[0]!.line;
      if (line >= f7.startLine && line <= f7.endLine) inside++;
    }
    // Chance is one function in ten; targeting should land in f7 most of the time.
    expect(inside / total).toBeGreaterThan(0.6);
  });
});

describe('editable files', () => {
  it('globs match like .gitignore patterns', () => {
    expect(globToRegExp('**/*.test.*').test('a/b/c.test.js')).toBe(true);
    expect(globToRegExp('**/*.test.*').test('c.test.ts')).toBe(true);
    expect(globToRegExp('tests').test('tests/test_x.py')).toBe(true);
    expect(globToRegExp('src/{a,b}.js').test('src/b.js')).toBe(true);
    expect(globToRegExp('src/*.js').test('src/deep/x.js')).toBe(false);
  });

  it('test files, protected paths and unsupported files are never editable', () => {
    const rules = { protected: ['src/vendor/**', 'evogit.yml'], include: [] };
    expect(isEditable('src/range.js', rules)).toBe(true);
    expect(isEditable('bugs/clamp.py', rules)).toBe(true);
    for (const file of ['test/range.test.js', 'src/x.spec.ts', 'tests/test_clamp.py', 'pkg/test_a.py', 'src/vendor/lib.js', 'README.md', 'types.d.ts', 'node_modules/a/index.js']) {
      expect(isEditable(file, rules), file).toBe(false);
    }
    expect(isEditable('lib/a.js', { protected: [], include: ['src/**'] })).toBe(false);
  });
});

describe('the agent on a worktree', () => {
  let dir: string;
  const testSource = `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { sumRange } from '../src/range.js';\ntest('sum', () => { assert.equal(sumRange(1, 3), 6); if (1 < 2) { assert.ok(true); } });\n`;

  beforeAll(async () => {
    const files = { 'src/range.js': JS, 'test/range.test.js': testSource, 'spec/guard.js': 'export function guard(a) {\n  return a < 1;\n}\n' };
    dir = await makeRepo(files, await tempDir('evogit-mutate-agent-'), { message: 'parent' });
  });
  afterAll(() => removeDir(dir));

  const parent: ArchiveNode = {
    id: '0'.repeat(40),
    parents: [],
    tree: '0'.repeat(40),
    branch: null,
    writer: 't',
    agent: 'root',
    operator: 'root',
    time: 0,
    subject: 'parent',
    pruned: false,
    promoted: false,
  };

  it('edits only sources, describes the edit and writes a transcript; never touches tests or protected paths', async () => {
    const agent = createMutateAgent();
    const config = defaultConfig({ test: { command: 'node --test', protected: ['spec/**'] } });
    const transcriptDir = path.join(dir, '.git', 'evogit', 't');
    for (let seed = 0; seed < 30; seed++) {
      await git(dir, ['checkout', '-q', '--', '.']);
      const output = await agent.propose({
        worktree: dir,
        parent,
        goal: config.goal,
        failingLogs: [{ task: 'test/range.test.js', log: 'at TestContext.<anonymous> (file:///box/test/range.test.js:4:30)' }],
        lineage: [],
        budget: {},
        seed,
        config,
        transcriptDir,
      });
      expect(output.outcome).toBe('edited');
      const changed = (await git(dir, ['diff', '--name-only', '-z'])).split('\0').filter(Boolean);
      expect(changed).toEqual(['src/range.js']);
      expect(output.message).toMatch(/^mutate: /);
      expect(output.message).toMatch(/src\/range\.js:\d+: .+ → .+/);
      const transcript = JSON.parse(await readFile(output.transcript!, 'utf8')) as { seed: number; choice: { edits: unknown[] } };
      expect(transcript.seed).toBe(seed);
      expect(transcript.choice.edits.length).toBeGreaterThan(0);
    }
  });

  it('says no-edit with a reason when nothing is editable', async () => {
    const agent = createMutateAgent();
    const config = defaultConfig({ test: { command: 'node --test' }, agents: { mutate: { include: ['nothing/**'] } } });
    const output = await agent.propose({
      worktree: dir,
      parent,
      goal: config.goal,
      failingLogs: [],
      lineage: [],
      budget: {},
      seed: 1,
      config,
      transcriptDir: path.join(dir, '.git', 'evogit', 't'),
    });
    expect(output.outcome).toBe('no-edit');
    expect(output.reason).toMatch(/no editable/);
  });
});
