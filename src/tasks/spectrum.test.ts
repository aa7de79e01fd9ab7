import { describe, expect, it } from 'vitest';
import { buildSpectrum, ochiai, parseCoverage, rankSpectra, SPECTRUM_LINES, type TestCoverage } from './spectrum.js';

const t = (test: string, outcome: TestCoverage['outcome'], files: Record<string, number[]>): TestCoverage => ({ test, outcome, files });

describe('spectrum', () => {
  it('reads the hooks\' lines as untrusted input: bad lines, absolute paths and odd numbers are skipped', () => {
    const text = [
      JSON.stringify({ t: 'a', o: 'fail', f: { 'src/a.js': [1, 2] } }),
      '{"t": "cut short", "o": "pa',
      JSON.stringify({ t: 'b', o: 'maybe', f: {} }),
      JSON.stringify({ t: 'c', o: 'pass', f: { '/etc/passwd': [1], '../x.js': [1], 'src/b.js': [0, 1.5], 'src/c.js': [3] } }),
      'not json',
    ].join('\n');
    expect(parseCoverage(text)).toEqual([t('a', 'fail', { 'src/a.js': [1, 2] }), t('c', 'pass', { 'src/c.js': [3] })]);
  });

  it('keeps the lines failing tests ran, most suspicious first, and counts stack frames', () => {
    const tests = [t('f1', 'fail', { 'src/a.js': [1, 2, 3], 'test/a.test.js': [9] }), t('f2', 'fail', { 'src/a.js': [1, 3] }), t('p', 'pass', { 'src/a.js': [1, 4] }), t('s', 'skip', { 'src/a.js': [5] })];
    const output = 'RangeError: x\n    at f (file:///work/src/a.js:2:9)\n';
    const spectrum = buildSpectrum(tests, output, (f) => f.startsWith('src/'));
    expect(spectrum).toEqual({ failed: 2, passed: 1, lines: { 'src/a.js': [[3, 2, 0, 0], [1, 2, 1, 0], [2, 1, 0, 1]] } });
    expect(buildSpectrum([t('p', 'pass', { 'src/a.js': [1] })], '', () => true)).toBeUndefined();
  });

  it('is bounded', () => {
    const lines = Array.from({ length: 500 }, (_, i) => i + 1);
    const spectrum = buildSpectrum([t('f', 'fail', { 'src/a.js': lines })], '', () => true)!;
    expect(spectrum.lines['src/a.js']).toHaveLength(SPECTRUM_LINES);
  });

  it('ranks the lines of several runs by their best score in any one run; ties go to the line stack traces name', () => {
    const a = { failed: 1, passed: 1, lines: { 'x.py': [[1, 1, 0, 0], [2, 1, 0, 1]] as [number, number, number, number][] } };
    const b = { failed: 4, passed: 3, lines: { 'x.py': [[1, 1, 3, 0], [7, 4, 0, 0], [8, 2, 0, 0]] as [number, number, number, number][] } };
    const ranked = rankSpectra([a, b]);
    expect(ranked.map((l) => l.line)).toEqual([2, 7, 1, 8]);
    expect(ranked[0]!.score).toBe(1);
    expect(ranked[2]).toMatchObject({ ef: 2, ep: 3, score: 1 });
    expect(ranked[3]!.score).toBeCloseTo(ochiai(2, 0, 4));
    // A line from another writer's note that is not a spectrum is ignored, not a crash.
    expect(rankSpectra([{ failed: 1, passed: 0, lines: { 'x.py': [['1']] } } as never])).toEqual([]);
  });
});
