/**
 * Where failing tests point. Pure: log text in, weighted line ranges (hotspots) out.
 * A frame in an editable source file marks its line and enclosing function; a frame in a
 * test file marks the source functions that the failing test line calls by name.
 */
import { parseLogLocations, resolveLogPath, type LogLocation } from '../../tasks/locations.js';
import type { FunctionSpan } from './sites/index.js';

export { parseLogLocations, resolveLogPath, type LogLocation };

export interface Hotspot {
  /** Repository-relative path. */
  file: string;
  startLine: number;
  endLine: number;
  weight: number;
}

export interface TargetingInput {
  logs: readonly string[];
  /** Every file of the repository (relative paths). */
  files: readonly string[];
  /** Files mutation may edit, with their named functions. */
  editable: ReadonlyMap<string, readonly FunctionSpan[]>;
  /** A line of any repository file (1-based), or null when unknown. */
  lineText: (file: string, line: number) => string | null;
}

const LINE_WEIGHT = 4;
const FUNCTION_WEIGHT = 2;
const CALLED_WEIGHT = 2;

export function findHotspots(input: TargetingInput): Hotspot[] {
  const hot: Hotspot[] = [];
  const byName = new Map<string, { file: string; span: FunctionSpan }[]>();
  for (const [file, spans] of input.editable) {
    for (const span of spans) {
      const list = byName.get(span.name) ?? [];
      list.push({ file, span });
      byName.set(span.name, list);
    }
  }
  for (const log of input.logs) {
    for (const location of parseLogLocations(log)) {
      const file = resolveLogPath(location.path, input.files);
      if (!file) continue;
      const spans = input.editable.get(file);
      if (spans) {
        hot.push({ file, startLine: location.line, endLine: location.line, weight: LINE_WEIGHT });
        const enclosing = spans
          .filter((s) => s.startLine <= location.line && location.line <= s.endLine)
          .sort((a, b) => a.endLine - a.startLine - (b.endLine - b.startLine))[0];
        if (enclosing) hot.push({ file, startLine: enclosing.startLine, endLine: enclosing.endLine, weight: FUNCTION_WEIGHT });
        continue;
      }
      // A frame in a test (or other read-only) file: the functions its line calls are suspects.
      const text = location.code ?? input.lineText(file, location.line);
      if (!text) continue;
      for (const name of new Set(text.match(/[A-Za-z_$][\w$]*/g) ?? [])) {
        for (const { file: source, span } of byName.get(name) ?? []) {
          hot.push({ file: source, startLine: span.startLine, endLine: span.endLine, weight: CALLED_WEIGHT });
        }
      }
    }
  }
  return hot;
}

/** Sum of the hotspot weights covering a line range of a file (0 when cold). */
export function heat(hotspots: readonly Hotspot[], file: string, startLine: number, endLine: number): number {
  let total = 0;
  for (const h of hotspots) if (h.file === file && h.startLine <= endLine && startLine <= h.endLine) total += h.weight;
  return total;
}
