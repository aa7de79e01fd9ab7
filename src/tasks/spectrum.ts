/**
 * Spectrum-based fault localization. Pure: the per-test coverage a run's hook wrote (which
 * lines each test ran, and whether it passed) plus the run's output (stack frames) in, a
 * bounded spectrum for the run's note line out; and spectra of several runs in, source lines
 * ranked by suspiciousness out.
 *
 * Suspiciousness is Ochiai's: ef / sqrt(F · (ef + ep)), with ef and ep the failing and
 * passing tests that ran the line and F all failing tests. A line only failing tests run
 * scores 1; ties are broken by how often stack traces name the line, then by ef.
 */
import type { Spectrum } from '../archive/types.js';
import { parseLogLocations, resolveLogPath } from './locations.js';

export type { Spectrum };

/** One test's lines, as the coverage hooks (sandbox/harness) write them. */
export interface TestCoverage {
  test: string;
  outcome: 'pass' | 'fail' | 'skip';
  /** Repository-relative file → 1-based lines the test ran. */
  files: Record<string, number[]>;
}

/** Most lines a run's spectrum keeps (the most suspicious ones). */
export const SPECTRUM_LINES = 48;
/** Most tests read from one run's coverage file. */
const MAX_TESTS = 20_000;
const MAX_LINE = 1_000_000;

function isLines(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((n) => Number.isInteger(n) && n > 0 && n < MAX_LINE);
}

/**
 * The hook's JSON lines → per-test coverage. The file is written inside the candidate's run,
 * so it is read as untrusted: malformed lines and odd values are skipped, never an error.
 */
export function parseCoverage(text: string): TestCoverage[] {
  const out: TestCoverage[] = [];
  for (const line of text.split('\n')) {
    if (out.length >= MAX_TESTS) break;
    if (!line.startsWith('{')) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      // A line cut short (the process was killed mid-write): the rest still counts.
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    const { t, o, f } = v as Record<string, unknown>;
    if (typeof t !== 'string' || (o !== 'pass' && o !== 'fail' && o !== 'skip') || typeof f !== 'object' || f === null) continue;
    const files: Record<string, number[]> = {};
    for (const [file, lines] of Object.entries(f as Record<string, unknown>)) if (isLines(lines) && !file.startsWith('/') && !file.split('/').includes('..')) files[file] = lines;
    out.push({ test: t, outcome: o, files });
  }
  return out;
}

export function ochiai(ef: number, ep: number, failed: number): number {
  return ef === 0 || failed === 0 ? 0 : ef / Math.sqrt(failed * (ef + ep));
}

interface Counts {
  ef: number;
  ep: number;
  frames: number;
}

function compareLines(failed: number) {
  return (a: { file: string; line: number } & Counts, b: { file: string; line: number } & Counts): number =>
    ochiai(b.ef, b.ep, failed) - ochiai(a.ef, a.ep, failed) || b.frames - a.frames || b.ef - a.ef || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line;
}

/**
 * A run's spectrum: the lines of `source` files that failing tests ran, the most suspicious
 * `max` of them, with the run's stack frames counted per line. Undefined when no test with
 * coverage failed (nothing to localize).
 */
export function buildSpectrum(tests: readonly TestCoverage[], output: string, source: (file: string) => boolean, max = SPECTRUM_LINES): Spectrum | undefined {
  const counts = new Map<string, Map<number, Counts>>();
  let failed = 0;
  let passed = 0;
  for (const t of tests) {
    if (t.outcome === 'skip') continue;
    if (t.outcome === 'fail') failed++;
    else passed++;
    for (const [file, lines] of Object.entries(t.files)) {
      if (!source(file)) continue;
      let byLine = counts.get(file);
      if (!byLine) counts.set(file, (byLine = new Map()));
      for (const line of new Set(lines)) {
        const c = byLine.get(line) ?? { ef: 0, ep: 0, frames: 0 };
        if (t.outcome === 'fail') c.ef++;
        else c.ep++;
        byLine.set(line, c);
      }
    }
  }
  if (failed === 0) return undefined;
  for (const location of parseLogLocations(output)) {
    const file = resolveLogPath(location.path, counts.keys());
    const c = file ? counts.get(file)?.get(location.line) : undefined;
    if (c) c.frames++;
  }
  const rows = [...counts].flatMap(([file, byLine]) => [...byLine].filter(([, c]) => c.ef > 0).map(([line, c]) => ({ file, line, ...c })));
  rows.sort(compareLines(failed));
  const lines: Spectrum['lines'] = {};
  for (const r of rows.slice(0, max)) (lines[r.file] ??= []).push([r.line, r.ef, r.ep, r.frames]);
  return { failed, passed, lines };
}

export interface SuspiciousLine {
  file: string;
  line: number;
  /** Ochiai suspiciousness in [0, 1]. */
  score: number;
  ef: number;
  ep: number;
  frames: number;
}

/** Is a value read from a note line a spectrum (notes come from other writers too)? */
export function isSpectrum(v: unknown): v is Spectrum {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  if (typeof s.failed !== 'number' || typeof s.passed !== 'number' || typeof s.lines !== 'object' || s.lines === null) return false;
  return Object.values(s.lines).every((rows) => Array.isArray(rows) && rows.every((r) => Array.isArray(r) && r.length === 4 && r.every((n) => typeof n === 'number')));
}

/**
 * Spectra of several runs (a node's tasks, each usually testing one module) ranked together:
 * a line's suspiciousness is its highest Ochiai score in any one run, so the fault a task's
 * failures point to is not diluted by another task's failures elsewhere; ties go to the line
 * more stack traces name, then to the one more failing tests ran in all.
 */
export function rankSpectra(spectra: readonly Spectrum[]): SuspiciousLine[] {
  const lines = new Map<string, SuspiciousLine>();
  for (const s of spectra) {
    if (!isSpectrum(s)) continue;
    for (const [file, rows] of Object.entries(s.lines)) {
      for (const [line, ef, ep, frames] of rows) {
        const key = `${file}:${line}`;
        const l = lines.get(key) ?? { file, line, score: 0, ef: 0, ep: 0, frames: 0 };
        l.score = Math.max(l.score, ochiai(ef, ep, s.failed));
        l.ef += ef;
        l.ep += ep;
        l.frames += frames;
        lines.set(key, l);
      }
    }
  }
  return [...lines.values()].sort((a, b) => b.score - a.score || b.frames - a.frames || b.ef - a.ef || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line);
}
