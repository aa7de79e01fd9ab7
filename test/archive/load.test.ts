import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseNoteLines, parseNotes, stripLogMembers, stripLogMembersBytes } from '../../src/archive/notes.js';
import { commitParents, diffRefText, diffSortedLines } from '../../src/archive/ref-delta.js';
import type { Evaluation } from '../../src/archive/types.js';

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

  it('parseNotes drops the top-level log tails (and only them), whatever the strings hold', () => {
    // Strings that look like JSON structure, escapes, and keys named "log" elsewhere.
    const tricky = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.constantFrom('"log":"', ',"log":"x"', '\\', '\\"', '{"log":"a"}', '}\n{', 'log', '\n', 'ü✓'),
    );
    const text = fc.array(tricky, { maxLength: 4 }).map((parts) => parts.join(''));
    const line = fc.record(
      {
        node: fc.constant('a'.repeat(40)),
        task: text,
        outcome: fc.constantFrom('pass', 'fail', 'error'),
        testResults: fc.dictionary(fc.oneof(fc.constant('log'), text), fc.constantFrom('pass', 'fail', 'skip')),
        metrics: fc.dictionary(fc.oneof(fc.constant('log'), text), fc.integer()),
        log: text,
        reason: text,
        durationMs: fc.nat(),
      },
      { requiredKeys: ['node', 'task', 'outcome', 'durationMs'] },
    );
    // Key order varies: log first, last, in the middle.
    const shuffled = fc.tuple(line, fc.nat()).map(([l, k]) => {
      const entries = Object.entries(l);
      const rot = entries.length ? k % entries.length : 0;
      return Object.fromEntries([...entries.slice(rot), ...entries.slice(0, rot)]) as unknown as Evaluation;
    });
    fc.assert(
      fc.property(fc.array(fc.array(shuffled, { maxLength: 4 }), { maxLength: 5 }), (notes) => {
        const texts = notes.map((lines) => lines.map((l) => JSON.stringify(l) + '\n').join(''));
        const expected = notes.map((lines) => lines.map(({ log: _drop, ...rest }) => rest));
        expect(parseNotes(texts)).toEqual(expected);
        expect(parseNotes(texts, { logs: true })).toEqual(notes);
        for (const t of texts) expect(parseNoteLines(stripLogMembers(t))).toEqual(parseNoteLines(t).map(({ log: _drop, ...rest }) => rest));
        for (const t of texts) expect(stripLogMembersBytes(Buffer.from(t, 'utf8'))).toBe(stripLogMembers(Buffer.from(t, 'utf8').toString('utf8')));
      }),
      { numRuns: 300 },
    );
  });

  it('stripLogMembers cuts only top-level string logs, and leaves odd text alone', () => {
    expect(stripLogMembers('{"log":"x"}\n{"a":1,"log":"y\\"","b":2}\n')).toBe('{}\n{"a":1,"b":2}\n');
    expect(stripLogMembers('{"t":{"log":"pass"},"log":"z"}')).toBe('{"t":{"log":"pass"}}');
    expect(stripLogMembers('{"log":5}')).toBe('{"log":5}');
    expect(stripLogMembers('{"log":"unterminated')).toBe('{"log":"unterminated');
    expect(stripLogMembers('a remark about "log":"x" by hand')).toBe('a remark about "log":"x" by hand');
    for (const t of ['{"log":"x"}\n{"a":"ü✓","log":"y\\"→","b":2}\n', '{"t":{"log":"pass"},"log":"z"}', '{"log":5}', '{"log":"unterminated', 'a remark about "log":"x" by hand', '"log":"', '']) {
      expect(stripLogMembersBytes(Buffer.from(t))).toBe(stripLogMembers(t));
    }
  });

  it('stripLogMembersBytes agrees with stripLogMembers on any text', () => {
    const part = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('"log":"', ',"log":"x"', '\\', '\\"', '{"log":"ü"}', '}\n{', '{', '[', '"', ',', '\n', '✓'));
    fc.assert(
      fc.property(fc.array(part, { maxLength: 12 }), (parts) => {
        const bytes = Buffer.from(parts.join(''), 'utf8');
        expect(stripLogMembersBytes(bytes)).toBe(stripLogMembers(bytes.toString('utf8')));
      }),
      { numRuns: 1000 },
    );
  });

  it('commitParents reads the header only', () => {
    const raw = `tree ${'t'.repeat(40)}\nparent ${'a'.repeat(40)}\nparent ${'b'.repeat(40)}\nauthor x <x> 1 +0000\n\nparent in the message\n`;
    expect(commitParents(raw)).toEqual(['a'.repeat(40), 'b'.repeat(40)]);
  });
});
