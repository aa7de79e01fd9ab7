/**
 * The mutate agent's search, piece by piece: the draw order of the one-edit neighbourhood,
 * candidate tree ids against git's own, the archive's lessons (operator weights, helpful
 * nodes) and carrying a helpful edit over to another node's files.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveNode, ArchiveSnapshot, Evaluation } from '../../src/archive/types.js';
import {
  applyEdit,
  chooseChild,
  archiveContext,
  changedRegion,
  complementaryPairs,
  drawOrder,
  listMutationSites,
  neighbourhood,
  operatorWeights,
  readEdit,
  suspicionOf,
  TreeHasher,
  type FileSites,
  type HelpfulNode,
} from '../../src/agents/mutate/index.js';
import { git, makeRepo, removeDir, revParse } from '../helpers/repo.js';

const SOURCE = `export function f(a, b) {
  if (a < b) {
    return a - b;
  }
  return a * 2;
}

export function g(xs) {
  let n = 0;
  for (const x of xs) n += x;
  return n;
}
`;

async function files(): Promise<FileSites[]> {
  return [{ path: 'src/a.js', language: 'javascript', source: SOURCE, sites: await listMutationSites(SOURCE, 'javascript') }];
}

describe('the draw order', () => {
  it('draws every candidate once, the same for a seed, and the suspicious line first far more often', async () => {
    const ranked = [{ file: 'src/a.js', line: 3, score: 1, ef: 1, ep: 0, frames: 0 }, { file: 'src/a.js', line: 10, score: 0.4, ef: 1, ep: 2, frames: 0 }];
    const candidates = neighbourhood(await files(), suspicionOf(ranked, new Map()));
    const order = drawOrder(candidates, 7);
    expect(order).toHaveLength(candidates.length);
    expect(new Set(order).size).toBe(candidates.length);
    expect(drawOrder(candidates, 7)).toEqual(order);
    let first = 0;
    for (let seed = 0; seed < 200; seed++) if (drawOrder(candidates, seed)[0]!.site.line === 3) first++;
    expect(first / 200).toBeGreaterThan(0.8);
  });

  it('proposes nothing on lines no failing test ran while suspicious lines are known', async () => {
    const ranked = [{ file: 'src/a.js', line: 3, score: 1, ef: 1, ep: 0, frames: 0 }];
    const spans = new Map([['src/a.js', [{ name: 'f', startLine: 1, endLine: 6 }, { name: 'g', startLine: 8, endLine: 12 }]]]);
    const candidates = neighbourhood(await files(), suspicionOf(ranked, spans));
    const weight = (line: number) => candidates.filter((c) => c.site.line === line).reduce((s, c) => s + c.weight, 0);
    // The rest of f and of the file stay reachable, far behind.
    expect(weight(3)).toBeGreaterThan(1000 * weight(5));
    expect(weight(5)).toBeGreaterThan(weight(10));
    expect(weight(10)).toBeGreaterThan(0);
  });
});

describe('candidate trees', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await makeRepo({ 'src/a.js': SOURCE, 'src/deep/b.py': 'x = 1\n', 'README.md': '# r\n' });
  });
  afterAll(() => removeDir(repo));

  it('are the trees git writes for the same edit', async () => {
    const hasher = (await TreeHasher.load(repo))!;
    for (const [file, content] of [['src/a.js', SOURCE.replace('a < b', 'a <= b')], ['src/deep/b.py', 'x = 2\n']] as const) {
      const predicted = hasher.treeWith(new Map([[file, content]]));
      await writeFile(path.join(repo, file), content);
      await git(repo, ['add', '-A']);
      expect(predicted).toBe((await git(repo, ['write-tree'])).trim());
      await git(repo, ['reset', '-q', '--hard']);
    }
    expect(hasher.treeWith(new Map([['src/missing.js', '']]))).toBeNull();
  });
});

const node = (id: string, parent: string | null, subject: string, time = 0): ArchiveNode => ({
  id,
  parents: parent ? [parent] : [],
  tree: `t${id}`,
  branch: `evo/a1/${id}`,
  writer: 'a1',
  agent: 'a1',
  operator: parent ? 'mutate' : 'root',
  time,
  subject,
  pruned: false,
  promoted: false,
});
const run = (n: string, task: string, results: Record<string, 'pass' | 'fail'>): Evaluation => ({
  node: n,
  task,
  outcome: Object.values(results).every((r) => r === 'pass') ? 'pass' : 'fail',
  testResults: results,
  durationMs: 1,
  harness: 'local',
  writer: 'a1',
  time: '',
});

describe('what the archive teaches', () => {
  // The root fails t1 and t2 of task A and u1 of task B; c1 fixes t1, c2 fixes u1, c3 nothing.
  const snapshot: ArchiveSnapshot = {
    root: 'r',
    nodes: [node('r', null, 'root'), node('c1', 'r', 'mutate: binary-operator at src/a.js:2', 1), node('c2', 'r', 'mutate: binary-operator at src/b.js:4', 2), node('c3', 'r', 'mutate: constant at src/a.js:5', 3)],
    evaluations: new Map([
      ['r', [run('r', 'A', { t1: 'fail', t2: 'fail' }), run('r', 'B', { u1: 'fail', u2: 'pass' })]],
      ['c1', [run('c1', 'A', { t1: 'pass', t2: 'fail' })]],
      ['c2', [run('c2', 'B', { u1: 'pass', u2: 'pass' })]],
      ['c3', [run('c3', 'A', { t1: 'fail', t2: 'fail' }), run('c3', 'B', { u1: 'fail', u2: 'fail' })]],
    ]),
    claims: [],
  };

  it('an operator whose children helped is drawn more often, one that never helped less', () => {
    const weights = operatorWeights(snapshot);
    expect(weights.get('binary-operator')).toBeGreaterThan(1);
    expect(weights.get('constant')).toBeLessThan(1);
    expect(weights.get('slice-add')).toBe(1);
  });

  it('finds the helpful children and pairs those that fixed different tests', () => {
    const context = archiveContext(snapshot, 'r');
    expect(context.children.map((c) => c.node.id)).toEqual(['c1', 'c2', 'c3']);
    expect(context.trees.has('tc3')).toBe(true);
    const helpful = context.helpful;
    expect(helpful.map((h) => h.node.id).sort()).toEqual(['c1', 'c2']);
    expect(complementaryPairs(helpful).map(([a, b]) => [a.node.id, b.node.id].sort())).toEqual([['c1', 'c2']]);
    const same = { ...helpful[0]!, node: node('c4', 'r', 'x') } as HelpfulNode;
    expect(complementaryPairs([helpful[0]!, same])).toEqual([]);
  });
});

describe('carrying an edit over', () => {
  it('finds the changed place again by its text and context, and only where it is unique', () => {
    const before = 'function f(a) {\n  return a < 1;\n}\nfunction g(a) {\n  return a < 2;\n}\n';
    const after = before.replace('a < 1', 'a <= 1');
    const region = changedRegion(before, after);
    expect(region).toMatchObject({ old: '', new: '=' });
    const edit = { files: new Map([['x.js', region]]), lines: [] };
    // The other file moved the function down and changed g: the place is still found.
    const elsewhere = `// header\n${before.replace('a < 2', 'a > 2')}`;
    expect(applyEdit(new Map([['x.js', elsewhere]]), edit)?.get('x.js')).toBe(elsewhere.replace('a < 1', 'a <= 1'));
    // Gone (already edited) or missing: nothing.
    expect(applyEdit(new Map([['x.js', after]]), edit)).toBeNull();
    expect(applyEdit(new Map(), edit)).toBeNull();
  });

  it('reads a node\'s edit from git, with the edit lines of its message', async () => {
    const repo = await makeRepo({ 'src/a.js': SOURCE });
    try {
      const parent = await revParse(repo);
      await writeFile(path.join(repo, 'src/a.js'), SOURCE.replace('a * 2', 'a * 3'));
      await git(repo, ['commit', '-qam', 'mutate: constant at src/a.js:5\n\n- constant src/a.js:5: a * 2 → a * 3\n\nSeed: 1']);
      const child = await revParse(repo);
      const edit = (await readEdit(repo, parent, child))!;
      expect(edit.lines).toEqual(['- constant src/a.js:5: a * 2 → a * 3']);
      expect(applyEdit(new Map([['src/a.js', SOURCE]]), edit)?.get('src/a.js')).toBe(SOURCE.replace('a * 2', 'a * 3'));
    } finally {
      await removeDir(repo);
    }
  });
});

describe('lateral children', () => {
  // CPython's calendar.isleap with its inner `or` written `and`; a child of it negated the inner
  // clause, a partial fix (1900 and 2024 right, 2000 wrong) that no single further edit repairs.
  const BUGGY = 'def isleap(year):\n    """Return True for leap years, False for non-leap years."""\n    return year % 4 == 0 and (year % 100 != 0 and year % 400 == 0)\n';
  const PARTIAL = BUGGY.replace('and (year', 'and not (year');
  const FIXED = BUGGY.replace('!= 0 and year', '!= 0 or year');

  it('undo a still-suspicious ancestor edit and make another of its line\'s edits, keeping the rest', async () => {
    const repo = await makeRepo({ 'calendar.py': BUGGY, 'util.py': 'def double(x):\n    return x * 2\n' });
    try {
      const rootId = await revParse(repo);
      await writeFile(path.join(repo, 'calendar.py'), PARTIAL);
      await git(repo, ['commit', '-qam', `mutate: unary-operator at calendar.py:3\n\n- unary-operator calendar.py:3: year % 100 != 0 and year % 400 == 0 → not (year % 100 != 0 and year % 400 == 0)\n\nSeed: 1`]);
      const partialId = await revParse(repo);
      // Another fix further down the lineage stays in every lateral child.
      await writeFile(path.join(repo, 'util.py'), 'def double(x):\n    return x + x\n');
      await git(repo, ['commit', '-qam', 'mutate: binary-operator at util.py:2\n\n- binary-operator util.py:2: x * 2 → x + x\n\nSeed: 2']);
      const parentId = await revParse(repo);
      const snapshot: ArchiveSnapshot = {
        root: rootId,
        nodes: [node(rootId, null, 'root'), { ...node(partialId, rootId, 'mutate: unary-operator at calendar.py:3', 1), branch: 'evo/a1/1' }, node(parentId, partialId, 'mutate: binary-operator at util.py:2', 2)],
        evaluations: new Map(),
        claims: [],
      };
      const context = archiveContext(snapshot, parentId);
      const source = (f: string) => git(repo, ['show', `${parentId}:${f}`]);
      const files = [
        { path: 'calendar.py', language: 'python' as const, source: await source('calendar.py') },
        { path: 'util.py', language: 'python' as const, source: await source('util.py') },
      ];
      const suspicion = suspicionOf([{ file: 'calendar.py', line: 3, score: 1, ef: 1, ep: 0, frames: 0 }], new Map());
      const lateral: Array<{ text: string; edits: string[] }> = [];
      for (let seed = 0; seed < 30; seed++) {
        const choice = await chooseChild({ files, suspicion, seed, maxEdits: 1, worktree: repo, archive: context, hasher: null });
        if (!('kind' in choice) || choice.kind !== 'lateral') continue;
        expect([...choice.sources.keys()]).toEqual(['calendar.py']);
        expect(choice.undoes).toBe('evo/a1/1');
        lateral.push({ text: choice.sources.get('calendar.py')!, edits: choice.edits.map((e) => `${e.operator} ${e.before} → ${e.after}`) });
      }
      // About half of the line's draws are lateral, and the right fix is among them.
      expect(lateral.length).toBeGreaterThan(5);
      for (const l of lateral) {
        expect(l.text).not.toBe(PARTIAL);
        expect(l.edits[0]).toBe('unary-operator not (year % 100 != 0 and year % 400 == 0) → year % 100 != 0 and year % 400 == 0');
      }
      expect(lateral.map((l) => l.text)).toContain(FIXED);
    } finally {
      await removeDir(repo);
    }
  });
});

describe('lateral children of a chain of edits of one line', () => {
  const BUGGY = 'def isleap(year):\n    return year % 4 == 0 and (year % 100 != 0 and year % 400 == 0)\n';
  const BROKEN = BUGGY.replace('year % 100', 'year * 100');
  // A lateral child of the broken one: `*` undone, the inner clause negated (4 of 5 dates right).
  const PARTIAL = BUGGY.replace('and (year', 'and not (year');
  const FIXED = BUGGY.replace('!= 0 and year', '!= 0 or year');

  it('undo the whole chain back to the line\'s first text, so the right edit of the original line is one step away', async () => {
    const repo = await makeRepo({ 'calendar.py': BUGGY, 'util.py': 'def double(x):\n    return x * 2\n' });
    try {
      const head = () => revParse(repo);
      const rootId = await head();
      await writeFile(path.join(repo, 'calendar.py'), BROKEN);
      await git(repo, ['commit', '-qam', 'mutate: binary-operator at calendar.py:2\n\n- binary-operator calendar.py:2: year % 100 → year * 100\n\nSeed: 1']);
      const brokenId = await head();
      await writeFile(path.join(repo, 'calendar.py'), PARTIAL);
      await git(repo, ['commit', '-qam', 'mutate: unary-operator at calendar.py:2\n\n- binary-operator calendar.py:2: year * 100 → year % 100\n- unary-operator calendar.py:2: year % 100 != 0 and year % 400 == 0 → not (year % 100 != 0 and year % 400 == 0)\n\nSeed: 2']);
      const partialId = await head();
      await writeFile(path.join(repo, 'util.py'), 'def double(x):\n    return x + x\n');
      await git(repo, ['commit', '-qam', 'mutate: binary-operator at util.py:2\n\n- binary-operator util.py:2: x * 2 → x + x\n\nSeed: 3']);
      const parentId = await head();
      const snapshot: ArchiveSnapshot = {
        root: rootId,
        nodes: [
          node(rootId, null, 'root'),
          { ...node(brokenId, rootId, 'mutate: binary-operator at calendar.py:2', 1), branch: 'evo/a1/1' },
          { ...node(partialId, brokenId, 'mutate: unary-operator at calendar.py:2', 2), branch: 'evo/a1/2' },
          node(parentId, partialId, 'mutate: binary-operator at util.py:2', 3),
        ],
        evaluations: new Map(),
        claims: [],
      };
      const source = (f: string) => git(repo, ['show', `${parentId}:${f}`]);
      const files = [
        { path: 'calendar.py', language: 'python' as const, source: await source('calendar.py') },
        { path: 'util.py', language: 'python' as const, source: await source('util.py') },
      ];
      const suspicion = suspicionOf([{ file: 'calendar.py', line: 2, score: 1, ef: 1, ep: 0, frames: 0 }], new Map());
      const texts = new Set<string>();
      for (let seed = 0; seed < 60; seed++) {
        const choice = await chooseChild({ files, suspicion, seed, maxEdits: 1, worktree: repo, archive: archiveContext(snapshot, parentId), hasher: null });
        if ('kind' in choice && choice.kind === 'lateral') {
          texts.add(choice.sources.get('calendar.py')!);
          // The other file's fix stays.
          expect(choice.sources.has('util.py')).toBe(false);
        }
      }
      // One step back gives BROKEN's line (where the fix is two edits away); the whole chain gives the root's.
      expect(texts).toContain(FIXED);
    } finally {
      await removeDir(repo);
    }
  });
});

describe('edits that did not help elsewhere', () => {
  it('come after every edit not made yet: a neutral sibling does not repeat its cousin\'s failed try', async () => {
    const repo = await makeRepo({ 'src/a.js': SOURCE });
    try {
      const head = () => revParse(repo);
      const rootId = await head();
      await writeFile(path.join(repo, 'src/a.js'), SOURCE.replace('a < b', 'a <= b'));
      await git(repo, ['commit', '-qam', 'mutate: binary-operator at src/a.js:2\n\n- binary-operator src/a.js:2: a < b → a <= b\n\nSeed: 1']);
      const failedId = await head();
      await git(repo, ['checkout', '-q', rootId]);
      const neutral = SOURCE.replace('a * 2', 'a * 3');
      await writeFile(path.join(repo, 'src/a.js'), neutral);
      await git(repo, ['commit', '-qam', 'mutate: constant at src/a.js:5\n\n- constant src/a.js:5: a * 2 → a * 3\n\nSeed: 2']);
      const neutralId = await head();
      const fails = (n: string) => [run(n, 'A', { t1: 'fail', t2: 'pass' })];
      const snapshot = (evaluated: boolean): ArchiveSnapshot => ({
        root: rootId,
        nodes: [node(rootId, null, 'root'), node(failedId, rootId, 'mutate: binary-operator at src/a.js:2', 1), node(neutralId, rootId, 'mutate: constant at src/a.js:5', 2)],
        evaluations: new Map([[rootId, fails(rootId)], [neutralId, fails(neutralId)], ...(evaluated ? [[failedId, fails(failedId)] as const] : [])]),
        claims: [],
      });
      const files = [{ path: 'src/a.js', language: 'javascript' as const, source: neutral }];
      const suspicion = suspicionOf([{ file: 'src/a.js', line: 2, score: 1, ef: 1, ep: 0, frames: 0 }], new Map());
      const repeats = async (evaluated: boolean) => {
        let n = 0;
        for (let seed = 0; seed < 24; seed++) {
          const choice = await chooseChild({ files, suspicion, seed, maxEdits: 1, worktree: repo, archive: archiveContext(snapshot(evaluated), neutralId), hasher: null });
          if ('edits' in choice && choice.edits.some((e) => e.before === 'a < b' && e.after === 'a <= b')) n++;
        }
        return n;
      };
      // Not yet known to fail: the likeliest edit of the line comes first for some seeds.
      expect(await repeats(false)).toBeGreaterThan(0);
      expect(await repeats(true)).toBe(0);
    } finally {
      await removeDir(repo);
    }
  });
});
