/**
 * Where a node's faults are: its runs' coverage spectra from the archive (each task's nearest
 * evaluation up the lineage), ranked by Ochiai; without any, the failing logs' stack frames
 * (targeting.ts). Pure: the archive context in, a suspicion function over line ranges out.
 */
import type { Spectrum } from '../../archive/types.js';
import { isSpectrum, type SuspiciousLine } from '../../tasks/spectrum.js';
import type { ArchiveContext } from './context.js';
import type { Suspicion } from './neighbourhood.js';
import type { FunctionSpan } from './sites/index.js';
import type { Hotspot } from './targeting.js';

/**
 * For each task, the spectrum of its latest run on the nearest node of the lineage that ran
 * it: the parent's own when it ran the task (none if it passed there: nothing left to find),
 * else an ancestor's, whose lines one edit rarely moves.
 */
export function lineageSpectra(archive: ArchiveContext | undefined): Spectrum[] {
  const decided = new Set<string>();
  const out: Spectrum[] = [];
  for (const { evaluations } of archive?.lineage ?? []) {
    const latest = new Map<string, (typeof evaluations)[number]>();
    for (const e of evaluations) if (e.outcome !== 'error' && !e.tampered) latest.set(e.task, e);
    for (const [task, e] of latest) {
      if (decided.has(task)) continue;
      decided.add(task);
      if (e.outcome === 'fail' && isSpectrum(e.spectrum)) out.push(e.spectrum);
    }
  }
  return out;
}

/** Suspiciousness given to lines no spectrum names: in a suspicious function, and elsewhere in a suspicious file. */
const SAME_FUNCTION = 0.03;
const SAME_FILE = 0.01;

/**
 * Suspicion of a site's lines from ranked lines: the score of its first line, else half the
 * best score inside it (a multi-line statement holding a suspicious line). Lines no spectrum
 * names keep a small floor in the functions and files that hold suspicious lines, so the rest
 * of the neighbourhood follows once the suspicious part is spent. With nothing ranked, every
 * editable line is equally suspicious.
 */
export function suspicionOf(ranked: readonly SuspiciousLine[], spans: ReadonlyMap<string, readonly FunctionSpan[]>): Suspicion {
  if (ranked.length === 0) return () => 1;
  const scores = new Map<string, Map<number, number>>();
  for (const l of ranked) {
    const byLine = scores.get(l.file) ?? scores.set(l.file, new Map()).get(l.file)!;
    byLine.set(l.line, Math.max(byLine.get(l.line) ?? 0, l.score));
  }
  const hotFunctions = new Map<string, FunctionSpan[]>();
  for (const [file, byLine] of scores) {
    hotFunctions.set(file, (spans.get(file) ?? []).filter((s) => [...byLine.keys()].some((line) => s.startLine <= line && line <= s.endLine)));
  }
  return (file, line, endLine) => {
    const byLine = scores.get(file);
    if (!byLine) return 0;
    const own = byLine.get(line);
    if (own !== undefined && own > 0) return own;
    let inside = 0;
    for (const [l, score] of byLine) if (line <= l && l <= endLine) inside = Math.max(inside, score / 2);
    if (inside > 0) return inside;
    return (hotFunctions.get(file) ?? []).some((s) => s.startLine <= line && line <= s.endLine) ? SAME_FUNCTION : SAME_FILE;
  };
}

/** Stack-frame hotspots as ranked lines (scores relative to the hottest), when no coverage is known. */
export function hotspotLines(hotspots: readonly Hotspot[]): SuspiciousLine[] {
  const heat = new Map<string, { file: string; line: number; heat: number }>();
  for (const h of hotspots) {
    for (let line = h.startLine; line <= h.endLine && line - h.startLine < 400; line++) {
      const key = `${h.file}:${line}`;
      const entry = heat.get(key) ?? { file: h.file, line, heat: 0 };
      entry.heat += h.weight;
      heat.set(key, entry);
    }
  }
  const max = Math.max(0, ...[...heat.values()].map((e) => e.heat));
  return [...heat.values()].map((e) => ({ file: e.file, line: e.line, score: e.heat / max, ef: 0, ep: 0, frames: 0 })).sort((a, b) => b.score - a.score);
}
