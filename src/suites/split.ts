/** Splitting a suite into search / selection / held-out sets: a seeded hash of the id (pure). */
import { EvogitError } from '../errors/index.js';
import type { Split, SplitFractions } from './types.js';

/** FNV-1a over the text, 32 bits, then mapped to [0, 1). */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  // One round of avalanche so near-identical ids spread out.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 2 ** 32;
}

export function checkFractions(f: SplitFractions): SplitFractions {
  const values = [f.search, f.selection, f.heldout];
  if (values.some((v) => !(v >= 0 && v <= 1)) || Math.abs(values.reduce((a, b) => a + b, 0) - 1) > 1e-9) {
    throw new EvogitError('E_SUITE_SPLIT', `split fractions ${values.join('/')} must be in [0, 1] and sum to 1`, 'Pass e.g. --split 0.6,0.2,0.2 (search, selection, held-out).');
  }
  return f;
}

/** The split of one instance: deterministic in (seed, id), independent of the other instances. */
export function splitOf(id: string, seed: number, fractions: SplitFractions): Split {
  const u = unitHash(`${seed}:${id}`);
  if (u < fractions.search) return 'search';
  if (u < fractions.search + fractions.selection) return 'selection';
  return 'heldout';
}

/** "0.6,0.2,0.2" → fractions. */
export function parseFractions(text: string): SplitFractions {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((n) => !Number.isFinite(n))) {
    throw new EvogitError('E_SUITE_SPLIT', `"${text}" is not three fractions`, 'Write search,selection,held-out, e.g. 0.6,0.2,0.2.');
  }
  return checkFractions({ search: parts[0]!, selection: parts[1]!, heldout: parts[2]! });
}
