import { describe, expect, it } from 'vitest';
import { overCap } from './env-cache.js';
import { newCanaries, planCanaries, unwrapResults } from './canary.js';
import { SECURE_TOKEN } from './types.js';

const user = { uid: 1000, gid: 1000 };

describe('canaries and the environment cache', () => {
  it('names canaries freshly each run, with nothing fixed a candidate could look for', () => {
    const a = newCanaries();
    const b = newCanaries();
    expect(a.pass).not.toBe(b.pass);
    expect(a.pass).toMatch(/^test_[a-z]{12}$/);
    expect(a.fail).not.toContain('canary');
  });

  it('wires node --test files through entries, with the privilege drop in a split run', () => {
    const cmd = ['node', '--test', '--test-reporter=tap', 'test/a.test.js', 'test/b.test.js'];
    const p = planCanaries('node-test', cmd, ['test/a.test.js', 'test/b.test.js'], { split: true, user });
    expect(p.split).toBe(true);
    expect(p.command).toEqual(['node', '--require', `${SECURE_TOKEN}/drop.cjs`, '--test', '--test-reporter=tap', `${SECURE_TOKEN}/evogit-entries/test/a.test.js.mjs`, `${SECURE_TOKEN}/evogit-entries/test/b.test.js.mjs`]);
    expect(p.files.map((f) => f.path)).toEqual(['evogit-entries/test/a.test.js.mjs', 'evogit-entries/test/b.test.js.mjs', 'drop.cjs']);
    expect(String(p.files[0]!.content)).toContain(p.canaries!.fail);
    // pytest: the canary file first; the unittest runner: --canary; vitest: none.
    expect(planCanaries('pytest', ['python3', '-m', 'pytest', 't.py'], ['t.py'], { split: false, user }).command[3]).toMatch(/^\{secure\}\/test_[a-z]+\.py$/);
    expect(planCanaries('unittest', ['python3', 'h/unittest_junit.py', '--out', 'o', 't.py'], ['t.py'], { split: false, user }).command.slice(2, 3)).toEqual(['--canary']);
    expect(planCanaries('vitest', ['npx', 'vitest', 'run', 'a.test.ts'], ['a.test.ts'], { split: true, user })).toMatchObject({ canaries: null, split: false });
  });

  it("maps a node entry's file-level result back to its test file", () => {
    const r = unwrapResults({ tests: { '/evogit/harness/evogit-entries/test/a.test.js.mjs': 'pass', x: 'fail' }, counts: { passed: 1, failed: 1, skipped: 0, total: 2 } });
    expect(r?.tests).toEqual({ '/work/test/a.test.js': 'pass', x: 'fail' });
  });

  it('drops environment images least recently used first, only as many as the cap needs', () => {
    const img = (key: string, used: number, bytes = 10) => ({ id: key, key, used, bytes });
    expect(overCap([img('a', 3), img('b', 1), img('c', 2)], 15).map((i) => i.key)).toEqual(['b', 'c']);
    expect(overCap([img('a', 3), img('b', 1)], 20)).toEqual([]);
  });
});
