/**
 * A small seeded PRNG (mulberry32) so every choice of the mutate agent is reproducible from
 * the input seed: same seed and same parent give the same edit.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  /** Index chosen with probability proportional to its weight; -1 when all weights are 0. */
  weightedIndex(weights: readonly number[]): number;
}

export function createRandom(seed: number): Random {
  // Fold any number (negative, fractional, > 2^32) into a 32-bit state.
  let state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(items.length)] as T;
    },
    weightedIndex(weights: readonly number[]): number {
      let total = 0;
      for (const w of weights) total += w > 0 ? w : 0;
      if (total <= 0) return -1;
      let r = next() * total;
      for (let i = 0; i < weights.length; i++) {
        const w = weights[i] ?? 0;
        if (w <= 0) continue;
        r -= w;
        if (r < 0) return i;
      }
      // Floating-point leftovers: the last positive weight.
      for (let i = weights.length - 1; i >= 0; i--) if ((weights[i] ?? 0) > 0) return i;
      return -1;
    },
  };
}
