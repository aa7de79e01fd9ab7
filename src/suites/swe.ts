/**
 * SWE-bench style suites: JSON Lines with instance_id, repo, base_commit, problem_statement,
 * test_patch, FAIL_TO_PASS and PASS_TO_PASS (JSON-encoded lists, as in the real dataset),
 * plus a suite config naming where each repository is and how its tests run. Parsing is pure
 * and rejects the whole file on the first malformed record, with its line number.
 */
import { z } from 'zod';
import { ResultFormatSchema } from '../config/schema.js';
import { EvogitError } from '../errors/index.js';
import { formatOf, runnerOf, RESULTS_TOKEN, testCommand } from '../tasks/index.js';
import type { ResultFormat } from '../tasks/types.js';
import type { SuiteTest } from './types.js';

export interface SweRecord {
  instanceId: string;
  repo: string;
  baseCommit: string;
  problem: string;
  testPatch: string;
  failToPass: string[];
  passToPass: string[];
  line: number;
}

function bad(file: string, line: number, message: string): EvogitError {
  return new EvogitError('E_SUITE_RECORD', `${file}:${line}: ${message}`, 'Fix that record (nothing was imported); each line is one JSON object in the SWE-bench format.');
}

/** A list of test ids: the dataset's JSON-encoded string, or an array already. */
function testList(value: unknown): string[] | null {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
  }
  return Array.isArray(v) && v.every((t) => typeof t === 'string' && t.length > 0) ? (v as string[]) : null;
}

export function parseSweJsonl(text: string, file = 'suite.jsonl'): SweRecord[] {
  const records: SweRecord[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw) continue;
    const n = i + 1;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      throw bad(file, n, `not valid JSON (${(e as Error).message})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw bad(file, n, 'not a JSON object');
    const r = obj as Record<string, unknown>;
    const str = (key: string, allowEmpty = false): string => {
      const v = r[key];
      if (typeof v !== 'string' || (!allowEmpty && v.trim() === '')) throw bad(file, n, `${key} is missing or not a ${allowEmpty ? '' : 'non-empty '}string`);
      return v;
    };
    const instanceId = str('instance_id');
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(instanceId)) throw bad(file, n, `instance_id "${instanceId}" may hold only letters, digits, ".", "_" and "-"`);
    const repo = str('repo');
    const baseCommit = str('base_commit');
    if (!/^[0-9a-f]{40}$/.test(baseCommit)) throw bad(file, n, `base_commit "${baseCommit}" is not a full 40-hex commit SHA`);
    const problem = str('problem_statement');
    const testPatch = str('test_patch');
    if (!/^diff --git /m.test(testPatch)) throw bad(file, n, 'test_patch is not a git diff');
    const failToPass = testList(r.FAIL_TO_PASS);
    if (!failToPass) throw bad(file, n, 'FAIL_TO_PASS is not a JSON list of test ids');
    if (failToPass.length === 0) throw bad(file, n, 'FAIL_TO_PASS is empty: nothing would show the fix');
    const passToPass = testList(r.PASS_TO_PASS ?? '[]');
    if (!passToPass) throw bad(file, n, 'PASS_TO_PASS is not a JSON list of test ids');
    const earlier = seen.get(instanceId);
    if (earlier !== undefined) throw bad(file, n, `instance_id "${instanceId}" repeats line ${earlier}`);
    seen.set(instanceId, n);
    records.push({ instanceId, repo, baseCommit, problem, testPatch, failToPass, passToPass, line: n });
  }
  if (records.length === 0) throw new EvogitError('E_SUITE_EMPTY', `${file} holds no instance`, 'Give a JSON Lines file with one SWE-bench instance per line.');
  return records;
}

const TestConfig = z
  .object({
    command: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).describe('The test command; node --test, pytest and unittest get machine-readable output automatically.'),
    format: ResultFormatSchema.default('auto'),
    resultFile: z.string().optional(),
    setup: z.array(z.string()).default([]),
    install: z.array(z.string()).default([]).describe('Dependency install commands, run once per manifest content (package.json, requirements.txt, …) into a cached image, with network as sandbox.installNetwork says.'),
    timeout: z.number().int().positive().optional().describe('Milliseconds.'),
  })
  .strict();

export const SweSuiteConfigSchema = z
  .object({
    repos: z.record(z.string(), z.string()).describe('Repository name → git repository (path relative to this file, or URL) holding the base commits.'),
    test: TestConfig,
    instances: z.record(z.string(), z.object({ test: TestConfig.partial() }).strict()).default({}).describe('Per-instance overrides of the test setup.'),
  })
  .strict();

export type SweSuiteConfig = z.infer<typeof SweSuiteConfigSchema>;

export function parseSweConfig(raw: unknown, file = 'suite.yml'): SweSuiteConfig {
  const r = SweSuiteConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new EvogitError('E_SUITE_CONFIG', `${file}: ${issue.path.map(String).join('.') || '(top level)'}: ${issue.message}`, 'The suite config names repos (name → git repo) and test (command, format, setup, install).');
  }
  return r.data;
}

/** The per-instance test setup: suite defaults, instance overrides, machine-readable output. */
export function sweTestFor(config: SweSuiteConfig, instanceId: string): SuiteTest {
  const t = { ...config.test, ...(config.instances[instanceId]?.test ?? {}) };
  const runner = runnerOf(t.command);
  const format: ResultFormat = t.format === 'auto' ? formatOf(runner) : t.format;
  // The command as the user wrote it; a runner evogit recognises gets its report flags added
  // (unittest-style commands run as written: the user names their result file, if any).
  const reports = runner !== 'custom' && runner !== 'unittest';
  const command = reports ? testCommand(runner, [], t.command) : testCommand('custom', [], t.command);
  return {
    command,
    format,
    ...(reports ? { resultFile: RESULTS_TOKEN } : t.resultFile ? { resultFile: t.resultFile } : {}),
    ...(t.setup.length ? { setup: t.setup } : {}),
    ...(t.install.length ? { install: t.install } : {}),
    ...(t.timeout ? { timeoutMs: t.timeout } : {}),
  };
}

/** Paths a unified diff touches (both sides), for resetting them before the hidden tests go in. */
export function patchPaths(patch: string): string[] {
  const paths = new Set<string>();
  for (const line of patch.split('\n')) {
    const m = /^(?:---|\+\+\+) (?:[ab]\/)?(.+?)\s*$/.exec(line);
    if (m && m[1] !== '/dev/null') paths.add(m[1]!);
  }
  return [...paths].sort();
}
