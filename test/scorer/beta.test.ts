import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { betaCdf, betaQuantile, createRng, gamma, lnGamma, sampleBeta } from '../../src/scorer/index.js';

/** The Beta(a, b) CDF by composite Simpson integration of the density: an independent check. */
function cdfByIntegration(x: number, a: number, b: number): number {
  const lnB = lnGamma(a) + lnGamma(b) - lnGamma(a + b);
  const f = (t: number) => Math.exp((a - 1) * Math.log(t) + (b - 1) * Math.log(1 - t) - lnB);
  const steps = 20_000;
  const h = x / steps;
  let sum = f(0 + 1e-300) * 0 + f(x);
  for (let k = 1; k < steps; k++) sum += (k % 2 ? 4 : 2) * f(k * h);
  // a >= 1 here, so f(0) is finite (0 for a > 1, 1/B for a = 1).
  sum += a === 1 ? Math.exp(-lnB) : 0;
  return (sum * h) / 3;
}

describe('betaQuantile', () => {
  it('matches closed forms', () => {
    for (const p of [1e-6, 0.01, 0.05, 0.5, 0.95, 0.999]) {
      expect(betaQuantile(p, 1, 1)).toBeCloseTo(p, 12);
      expect(betaQuantile(p, 4, 1)).toBeCloseTo(Math.pow(p, 1 / 4), 12);
      expect(betaQuantile(p, 1, 7)).toBeCloseTo(1 - Math.pow(1 - p, 1 / 7), 12);
      // Arcsine law: Beta(1/2, 1/2) has quantile sin²(πp/2).
      expect(betaQuantile(p, 0.5, 0.5)).toBeCloseTo(Math.sin((Math.PI * p) / 2) ** 2, 12);
    }
    // Beta(2, 2): CDF 3x² − 2x³; the 5% point solved by hand to 12 digits.
    expect(betaQuantile(0.05, 2, 2)).toBeCloseTo(0.135350362172, 11);
    expect(betaQuantile(0.5, 30, 30)).toBeCloseTo(0.5, 12);
  });

  it('inverts the CDF to 1e-9 over wide shapes (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-4, max: 1 - 1e-4, noNaN: true }),
        fc.double({ min: 0.05, max: 5000, noNaN: true }),
        fc.double({ min: 0.05, max: 5000, noNaN: true }),
        (p, a, b) => {
          const x = betaQuantile(p, a, b);
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(1);
          // The CDF comes back to p, or p lies within the CDF's jump across the nearest doubles
          // (near 0 or 1 with a tiny shape, the CDF moves by more than 1e-9 per ulp of x).
          const ulp = Math.max(Number.MIN_VALUE, x * 2.3e-16);
          const bracketed = betaCdf(x - 2 * ulp, a, b) <= p && p <= betaCdf(x + 2 * ulp, a, b);
          expect(Math.abs(betaCdf(x, a, b) - p) < 1e-9 || bracketed).toBe(true);
          expect(betaQuantile(1 - p, b, a)).toBeCloseTo(1 - x, 8);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('agrees with an independent numerical integration to 1e-6', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), (p, a, b) => {
        const x = betaQuantile(p, a, b);
        expect(Math.abs(cdfByIntegration(x, a, b) - p)).toBeLessThan(1e-6);
      }),
      { numRuns: 60 },
    );
  });
});

describe('samplers', () => {
  it('gamma and beta have the right moments', () => {
    const rng = createRng(7);
    const n = 60_000;
    for (const shape of [0.3, 1, 4.5]) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const g = gamma(rng, shape);
        s += g;
        s2 += g * g;
      }
      const mean = s / n;
      expect(mean).toBeCloseTo(shape, 1);
      expect(s2 / n - mean * mean).toBeCloseTo(shape, 0);
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += sampleBeta(rng, 3, 9);
    expect(s / n).toBeCloseTo(0.25, 2);
  });

  it('is reproducible from the seed and differs across seeds', () => {
    const draw = (seed: number) => {
      const r = createRng(seed);
      return Array.from({ length: 5 }, () => r.next());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(2 ** 40)).not.toEqual(draw(0));
  });
});
