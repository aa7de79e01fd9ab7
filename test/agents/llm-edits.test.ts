import { describe, expect, it } from 'vitest';
import { applyEdit, parseEditBlocks } from '../../src/agents/llm/edits.js';
import { backoffDelay, ChatError, parseRetryAfter, scrubSecrets } from '../../src/agents/llm/chat.js';
import { planCall } from '../../src/agents/llm/budget.js';
import { globToRegExp, protectedMatcher, safeRelativePath } from '../../src/agents/llm/paths.js';
import { mentionedFiles } from '../../src/agents/llm/context.js';
import { parsePorcelainZ } from '../../src/git/index.js';

describe('parseEditBlocks', () => {
  it('reads path, search and replace, inside fences or not', () => {
    const reply = [
      'SUMMARY: fix add',
      'Here is the fix.',
      '```js',
      'src/calc.js',
      '<<<<<<< SEARCH',
      'return a - b;',
      '=======',
      'return a + b;',
      '>>>>>>> REPLACE',
      '```',
      '',
      '**src/new.js**',
      '<<<<<<< SEARCH',
      '=======',
      'export const x = 1;',
      '>>>>>>> REPLACE',
    ].join('\n');
    const parsed = parseEditBlocks(reply);
    expect(parsed.problems).toEqual([]);
    expect(parsed.blocks).toEqual([
      { path: 'src/calc.js', search: 'return a - b;\n', replace: 'return a + b;\n' },
      { path: 'src/new.js', search: '', replace: 'export const x = 1;\n' },
    ]);
    expect(parsed.prose).toContain('Here is the fix.');
  });

  it('reports unterminated and pathless blocks, finds nothing in prose', () => {
    expect(parseEditBlocks('I think the bug is in add().').blocks).toEqual([]);
    const broken = parseEditBlocks('<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n\na.js\n<<<<<<< SEARCH\nx\n=======\n');
    expect(broken.blocks).toEqual([]);
    expect(broken.problems).toHaveLength(2);
  });
});

describe('applyEdit', () => {
  const file = 'function add(a, b) {\n  return a - b;\n}\n\nfunction sub(a, b) {\n  return a - b;\n}\n';

  it('applies an exact match once and refuses an ambiguous one', () => {
    const r = applyEdit(file, { path: 'f.js', search: 'function add(a, b) {\n  return a - b;\n', replace: 'function add(a, b) {\n  return a + b;\n' });
    expect(r).toMatchObject({ ok: true, how: 'exact' });
    expect(r.ok && r.content).toContain('return a + b;\n}\n\nfunction sub');
    const amb = applyEdit(file, { path: 'f.js', search: '  return a - b;\n', replace: '  return 0;\n' });
    expect(amb).toMatchObject({ ok: false });
    expect(!amb.ok && amb.reason).toMatch(/matches 2 places/);
  });

  it('tolerates indentation and trailing spaces, and re-indents the replacement', () => {
    const r = applyEdit(file, { path: 'f.js', search: 'function sub(a, b) {\nreturn a - b;   \n', replace: 'function sub(a, b) {\nif (b === 0) return a;\nreturn a - b;\n' });
    expect(r).toMatchObject({ ok: true, how: 'whitespace' });
    const nested = '  if (x) {\n    y();\n  }\n';
    const r2 = applyEdit(nested, { path: 'n.js', search: 'if (x) {\n  y();\n}\n', replace: 'if (x) {\n  y();\n  z();\n}\n' });
    expect(r2.ok && r2.content).toBe('  if (x) {\n    y();\n    z();\n  }\n');
  });

  it('reports the nearest text on a miss, creates new files, refuses to overwrite with empty SEARCH', () => {
    const miss = applyEdit(file, { path: 'f.js', search: 'function sub(x, y) {\n  return x - y;\n', replace: '' });
    expect(miss.ok).toBe(false);
    expect(!miss.ok && miss.nearest).toMatchObject({ startLine: 5, endLine: 6, text: 'function sub(a, b) {\n  return a - b;\n' });
    expect(applyEdit(null, { path: 'n.js', search: '', replace: 'x\n' })).toEqual({ ok: true, content: 'x\n', how: 'create' });
    expect(applyEdit(file, { path: 'f.js', search: '', replace: 'x\n' }).ok).toBe(false);
    expect(applyEdit(null, { path: 'n.js', search: 'a\n', replace: 'x\n' }).ok).toBe(false);
  });

  it('keeps a file without a final newline without one', () => {
    const r = applyEdit('a\nb', { path: 'x', search: 'b\n', replace: 'c\n' });
    expect(r.ok && r.content).toBe('a\nc');
  });
});

describe('paths, logs and accounting', () => {
  it('matches protected globs and refuses escaping paths', () => {
    const isProtected = protectedMatcher(['test/**', '*.spec.js']);
    expect(isProtected('test/a.test.js')).toBe(true);
    expect(isProtected('evogit.yml')).toBe(true);
    expect(isProtected('src/deep/x.spec.js')).toBe(true);
    expect(isProtected('src/test.js')).toBe(false);
    expect(globToRegExp('src/*.js').test('src/a/b.js')).toBe(false);
    expect(safeRelativePath('../etc/passwd')).toBeNull();
    expect(safeRelativePath('/etc/passwd')).toBeNull();
    expect(safeRelativePath('a/.git/config')).toBeNull();
    expect(safeRelativePath('./src/../src/a.js')).toBe('src/a.js');
  });

  it('finds tracked files in stack traces from another root', () => {
    const log = 'Error: expected 3\n    at add (/app/src/calc.js:2:10)\n    at file:///app/test/calc.test.js:5:3\nsee util.js';
    expect(mentionedFiles([log], ['src/calc.js', 'test/calc.test.js', 'lib/util.js', 'README.md'])).toEqual(['src/calc.js', 'test/calc.test.js', 'lib/util.js']);
  });

  it('parses porcelain -z with renames', () => {
    expect(parsePorcelainZ(' M a.js\0R  new.js\0old.js\0?? dir/x y.js\0')).toEqual([
      { code: ' M', path: 'a.js' },
      { code: 'R ', path: 'new.js' },
      { code: '??', path: 'dir/x y.js' },
    ]);
  });

  it('scrubs keys and auth headers', () => {
    const text = 'failed: {"authorization":"Bearer sk-test-SECRET123"} x-api-key: sk-test-SECRET123 and sk-test-SECRET123';
    const out = scrubSecrets(text, ['sk-test-SECRET123']);
    expect(out).not.toContain('SECRET123');
  });

  it('honours Retry-After and backs off with jitter', () => {
    const h = (v: Record<string, string>) => ({ get: (n: string) => v[n] ?? null });
    expect(parseRetryAfter(h({ 'retry-after': '2' }))).toBe(2000);
    expect(parseRetryAfter(h({ 'retry-after-ms': '150' }))).toBe(150);
    expect(parseRetryAfter(h({ 'retry-after': new Date(10_000).toUTCString() }), 4000)).toBe(6000);
    const policy = { retries: 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 10_000 };
    expect(backoffDelay(0, new ChatError('server', 'x'), { ...policy, random: () => 0 })).toBe(50);
    expect(backoffDelay(3, new ChatError('server', 'x'), { ...policy, random: () => 1 })).toBe(800);
    expect(backoffDelay(0, new ChatError('rate-limit', 'x', 429, 3000), { ...policy, random: () => 1 })).toBe(3000);
  });

  it('plans calls inside the budget', () => {
    const spent = { input: 0, output: 0, cost: 0 };
    expect(planCall({ spent, promptTokens: 1000, maxTokens: 4096, budget: { maxTokens: 2000 }, price: undefined })).toEqual({ ok: true, maxTokens: 1000 });
    expect(planCall({ spent: { input: 1900, output: 0, cost: 0 }, promptTokens: 100, maxTokens: 4096, budget: { maxTokens: 2000 }, price: undefined }).ok).toBe(false);
    // $1/M in, $10/M out, $0.01 budget: 1000 prompt tokens cost $0.001, $0.009 buys 900 output tokens.
    expect(planCall({ spent, promptTokens: 1000, maxTokens: 4096, budget: { maxCostUsd: 0.01 }, price: { input: 1, output: 10 } })).toEqual({ ok: true, maxTokens: 900 });
    expect(planCall({ spent: { input: 0, output: 0, cost: 0.0095 }, promptTokens: 100, maxTokens: 4096, budget: { maxCostUsd: 0.01 }, price: { input: 1, output: 10 } }).ok).toBe(false);
  });
});
