import { describe, expect, it } from 'vitest';
import { commitParents, diffSortedLines, parseNoteLines, parseNotes } from '../../src/archive/load.js';

describe('loader helpers (pure)', () => {
  it('diffSortedLines finds added and removed lines, sorted or not', () => {
    expect(diffSortedLines(['a', 'b', 'd'], ['a', 'c', 'd', 'e'])).toEqual({ removed: ['b'], added: ['c', 'e'] });
    expect(diffSortedLines([], ['x'])).toEqual({ removed: [], added: ['x'] });
    expect(diffSortedLines(['z', 'a', 'm'], ['a', 'z', 'q'])).toEqual({ removed: ['m'], added: ['q'] });
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
