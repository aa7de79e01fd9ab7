import { describe, expect, it } from 'vitest';
import { commitParents, diffRefText, diffSortedLines, parseNoteLines, parseNotes } from '../../src/archive/load.js';

describe('loader helpers (pure)', () => {
  it('diffSortedLines finds added and removed lines, sorted or not', () => {
    expect(diffSortedLines(['a', 'b', 'd'], ['a', 'c', 'd', 'e'])).toEqual({ removed: ['b'], added: ['c', 'e'] });
    expect(diffSortedLines([], ['x'])).toEqual({ removed: [], added: ['x'] });
    expect(diffSortedLines(['z', 'a', 'm'], ['a', 'z', 'q'])).toEqual({ removed: ['m'], added: ['q'] });
  });

  it('diffRefText agrees with a set difference on large, mostly equal for-each-ref outputs', () => {
    const line = (k: number) => `refs/heads/evo/w${k % 7}/${k}\x00${(k * 2654435761 % 2 ** 32).toString(16).padStart(40, '0')}`;
    const before = Array.from({ length: 5000 }, (_, k) => line(k)).sort();
    const after = before.filter((_, k) => k % 997 !== 3).concat([line(100001), line(100002), line(5)]).filter((l, k, all) => all.indexOf(l) === k).sort();
    const expected = diffSortedLines(before, after);
    expect(diffRefText(before.join('\n') + '\n', after.join('\n') + '\n')).toEqual(expected);
    expect(expected.added.length).toBe(2);
    expect(expected.removed.length).toBe(6);
    expect(diffRefText('a\nb\n', 'a\nb\n')).toEqual({ removed: [], added: [] });
  });

  it('parseNotes keeps good lines of a note with a hand-written remark, and parses clean notes in one go', () => {
    const ok = '{"node":"n","task":"t","outcome":"pass"}\n{"node":"n","task":"u","outcome":"fail"}\n';
    const messy = '{"node":"n","task":"t","outcome":"error"}\n\nlooks flaky -- ana\n{"not":"an evaluation"}\n';
    const [a, b, c] = parseNotes([ok, messy, '']);
    expect(a?.map((e) => e.outcome)).toEqual(['pass', 'fail']);
    expect(b?.map((e) => e.outcome)).toEqual(['error']);
    expect(c).toEqual([]);
    expect(parseNoteLines(messy)).toEqual(b);
  });

  it('commitParents reads the header only', () => {
    const raw = `tree ${'t'.repeat(40)}\nparent ${'a'.repeat(40)}\nparent ${'b'.repeat(40)}\nauthor x <x> 1 +0000\n\nparent in the message\n`;
    expect(commitParents(raw)).toEqual(['a'.repeat(40), 'b'.repeat(40)]);
  });
});
