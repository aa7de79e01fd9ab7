import { describe, expect, it } from 'vitest';
import { targetTasks } from '../../src/loop/targets.js';
import { line, node, snapshot } from '../scorer/archive.js';

const spectrum = (files: string[]) => ({ failed: 2, passed: 3, lines: Object.fromEntries(files.map((f) => [f, [[3, 2, 1, 0] as [number, number, number, number]]])) });

describe('targetTasks: which failing tasks an edit is aimed at', () => {
  const nodes = [node('r'), node('c', ['r']), node('g', ['c'])];
  const lines = [
    line('r', 'test/dates.test.js', 'fail', { spectrum: spectrum(['src/dates.js']) }),
    line('r', 'test/stats.test.js', 'fail', { spectrum: spectrum(['src/stats.js', 'src/util.js']) }),
    line('r', 'test/text.test.js', 'fail', { spectrum: spectrum(['src/text.js', 'src/util.js']) }),
    // c fixed text: an edit below it that touches util.js is aimed at stats only.
    line('c', 'test/text.test.js', 'pass'),
  ];
  const snap = snapshot(nodes, lines);

  it('names the failing tasks whose coverage holds a changed file, the nearest run of each task deciding', () => {
    expect(targetTasks(snap, 'r', ['src/dates.js'])).toEqual(['test/dates.test.js']);
    expect(targetTasks(snap, 'r', ['src/util.js'])).toEqual(['test/stats.test.js', 'test/text.test.js']);
    expect(targetTasks(snap, 'g', ['src/util.js'])).toEqual(['test/stats.test.js']);
  });

  it('names none for a file no failing run covered, or runs without coverage', () => {
    expect(targetTasks(snap, 'c', ['README.md'])).toEqual([]);
    expect(targetTasks(snapshot([node('r')], [line('r', 't', 'fail')]), 'r', ['src/a.js'])).toEqual([]);
  });
});
