import { describe, expect, it } from 'vitest';
import { checkPrRule, globToRegExp, parseMarker, renderMarker, renderPrBody, scrub, type PrRuleInput } from '../../src/forge/index.js';
import { parseLsRemote, parseMessages, parseNumstatZ } from '../../src/forge/git.js';
import type { PrEvidence } from '../../src/forge/index.js';
import { betaQuantile, nodeOf } from './fixtures.js';

const A = 'a'.repeat(40);
const R = '0'.repeat(40);

function input(extra: Partial<PrRuleInput> = {}): PrRuleInput {
  return {
    node: nodeOf(A, [R], 't'),
    root: nodeOf(R, [], 't'),
    nodeCounts: { pass: 9, fail: 1 },
    rootCounts: { pass: 2, fail: 8 },
    touchedProtected: false,
    epsilon: 0.05,
    rule: { margin: 0.1, minEvaluations: 5 },
    quantile: betaQuantile,
    ...extra,
  };
}

describe('checkPrRule', () => {
  it('passes a node whose ε-quantile beats the root mean by the margin', () => {
    const r = checkPrRule(input());
    expect(r.ok).toBe(true);
    expect(r.nodeLower).toBeGreaterThan(r.rootMean + 0.1);
  });
  it('needs the minimum number of graded runs', () => {
    const r = checkPrRule(input({ nodeCounts: { pass: 4, fail: 0 } }));
    expect(r.ok).toBe(false);
    expect(r.reasons.join()).toMatch(/only 4 graded runs/);
  });
  it('fails a node that is not credibly better (a lucky mean is not enough)', () => {
    // mean 0.6 > 0.25 + 0.1, but the 5% quantile of Beta(4, 3) is about 0.27
    const r = checkPrRule(input({ nodeCounts: { pass: 3, fail: 2 }, rule: { margin: 0.1, minEvaluations: 5 } }));
    expect(r.ok).toBe(false);
  });
  it('a promotion waives the score part, never the protected-path part, and pruning blocks', () => {
    const weak = { nodeCounts: { pass: 0, fail: 1 } };
    expect(checkPrRule(input({ ...weak, node: { ...nodeOf(A, [R], 't'), promoted: true } })).ok).toBe(true);
    expect(checkPrRule(input({ ...weak, node: { ...nodeOf(A, [R], 't'), promoted: true }, touchedProtected: true })).ok).toBe(false);
    expect(checkPrRule(input({ touchedProtected: true })).ok).toBe(false);
    expect(checkPrRule(input({ node: { ...nodeOf(A, [R], 't'), pruned: true } })).ok).toBe(false);
  });
});

describe('parsers of git output', () => {
  it('numstat -z, including binary files and odd names', () => {
    expect(parseNumstatZ('1\t2\tsrc/a b.js\x00-\t-\timg.png\x003\t0\tnew\ttab.txt\x00')).toEqual([
      { path: 'src/a b.js', added: 1, deleted: 2 },
      { path: 'img.png', added: null, deleted: null },
      { path: 'new\ttab.txt', added: 3, deleted: 0 },
    ]);
  });
  it('log messages separated by NUL and RS', () => {
    const m = parseMessages(`${A}\x00Fix add\n\nbody\n\nEvogit-Agent: a1\n\x1e\n${R}\x00base\n\x1e\n`);
    expect(m.get(A)).toBe('Fix add\n\nbody\n\nEvogit-Agent: a1');
    expect(m.get(R)).toBe('base');
  });
  it('ls-remote', () => {
    expect(parseLsRemote(`${A}\trefs/heads/evogit/pr/x\n`).get('refs/heads/evogit/pr/x')).toBe(A);
  });
});

describe('globs, markers, scrubbing', () => {
  it('matches protected globs like .gitignore', () => {
    expect(globToRegExp('test/**').test('test/a/b.js')).toBe(true);
    expect(globToRegExp('test/**').test('src/test/b.js')).toBe(false);
    expect(globToRegExp('*.test.js').test('src/x.test.js')).toBe(true);
    expect(globToRegExp('evogit.yml').test('evogit.yml')).toBe(true);
    expect(globToRegExp('.github/').test('.github/workflows/ci.yml')).toBe(true);
  });
  it('round-trips the marker', () => {
    expect(parseMarker(`text\n${renderMarker({ node: A, clade: R })}\n`)).toEqual({ node: A, clade: R });
    expect(parseMarker('no marker')).toBeNull();
  });
  it('scrubs the token and token-shaped strings', () => {
    expect(scrub('x ghp_FAKE_SECRET y', 'ghp_FAKE_SECRET')).toBe('x *** y');
    expect(scrub('github_pat_ABCDEFGH12345678 and ghs_abcdefgh1234')).toBe('*** and ***');
  });
  it('a log cannot close the fence around it', () => {
    const s = { pass: 1, fail: 0, evaluations: 1, errors: 0, mean: 0.6, low: 0.1, high: 0.9, lower: 0.2 };
    const e: PrEvidence = {
      node: nodeOf(A, [R], 't', { subject: 'x' }),
      base: nodeOf(R, [], 't'),
      clade: A,
      epsilon: 0.05,
      scores: { node: s, base: s },
      lineage: [{ id: A, subject: 'x | y', message: 'x', agent: 'a1', operator: 'mutate' }],
      diffStat: [],
      fixed: [{ task: 't', before: '```\n# injected heading', after: 'ok', tests: [] }],
      protectedHits: [],
      reproduce: `evogit eval ${A}`,
    };
    const body = renderPrBody(e);
    expect(body).toContain('````\n```\n# injected heading\n````');
    expect(body).toContain('x \\| y');
  });
});
