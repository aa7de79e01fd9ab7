/**
 * A small generate-and-test loop over the bundled example bugs, shared by the repair test and
 * bench/agents.ts: children of the buggy parent are made with successive seeds and run with
 * the example's real test command; the search stops at the first child that passes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArchiveNode } from '../../src/archive/types.js';
import { createMutateAgent, languageOfPath, searchEdits } from '../../src/agents/mutate/index.js';
import { defaultConfig } from '../../src/config/index.js';
import { run } from '../../src/proc/index.js';
import { copyRepo, git, removeDir, revParse, tempDir } from '../helpers/repo.js';

export const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');

export interface ExampleBug {
  /** e.g. `js-bugs/range`. */
  id: string;
  example: 'js-bugs' | 'py-bugs' | 'operator-bugs';
  /** The directory holding the example (default: examples/). */
  root?: string;
  /** The module holding the bug (what the uniform baseline is given). */
  file: string;
  /** The test command for this bug, run from the example's root (a node:test file runs in-process when executed directly, so a timeout kills the whole run). */
  command: [string, ...string[]];
}

export const EXAMPLE_BUGS: readonly ExampleBug[] = [
  { id: 'js-bugs/off-by-one', example: 'js-bugs', file: 'src/range.js', command: ['node', 'test/range.test.js'] },
  { id: 'js-bugs/comparison', example: 'js-bugs', file: 'src/clamp.js', command: ['node', 'test/clamp.test.js'] },
  { id: 'js-bugs/missing-return', example: 'js-bugs', file: 'src/extremes.js', command: ['node', 'test/extremes.test.js'] },
  { id: 'py-bugs/off-by-one', example: 'py-bugs', file: 'bugs/range_sum.py', command: ['python3', '-m', 'unittest', 'tests.test_range_sum'] },
  { id: 'py-bugs/comparison', example: 'py-bugs', file: 'bugs/clamp.py', command: ['python3', '-m', 'unittest', 'tests.test_clamp'] },
  { id: 'py-bugs/missing-return', example: 'py-bugs', file: 'bugs/extremes.py', command: ['python3', '-m', 'unittest', 'tests.test_extremes'] },
];

/** A stale .pyc with the same size and mtime as an edited module would hide the edit. */
const ENV = { PYTHONDONTWRITEBYTECODE: '1', NODE_OPTIONS: '' };

/** Copy an example into a fresh git repository with one commit: the buggy parent. */
export async function checkoutExample(example: string, from = EXAMPLES): Promise<{ dir: string; head: string; cleanup: () => Promise<void> }> {
  const root = await tempDir('evogit-mutate-');
  const dir = await copyRepo(path.join(from, example), path.join(root, example), { message: 'buggy parent' });
  return { dir, head: await revParse(dir), cleanup: () => removeDir(root) };
}

export async function runBugTests(dir: string, bug: ExampleBug): Promise<{ passed: boolean; log: string }> {
  const [command, ...args] = bug.command;
  // A mutant that loops forever (i++ → i--) is a failure; the real tests take well under a second.
  const result = await run(command, args, { cwd: dir, env: ENV, reject: false, timeoutMs: 4_000 });
  return { passed: result.exitCode === 0, log: `${result.stdout}\n${result.stderr}` };
}

/**
 * Test outcomes of candidates already run, by bug and diff against the parent. The examples'
 * tests are deterministic, so a candidate identical to one already run (the searches redraw
 * the same small edits often) has that outcome: reusing it saves wall-clock time only. Every
 * candidate still counts as an evaluation, as it would without the cache.
 */
const outcomes = new Map<string, boolean>();
export const testRuns = { real: 0, reused: 0 };

async function evaluateCandidate(dir: string, bug: ExampleBug): Promise<{ passed: boolean; diff: string }> {
  const diff = (await git(dir, ['diff', '--no-color', '--no-ext-diff'])).trim();
  const key = `${bug.id}\0${diff}`;
  const known = outcomes.get(key);
  if (known !== undefined) {
    testRuns.reused++;
    return { passed: known, diff };
  }
  testRuns.real++;
  const { passed } = await runBugTests(dir, bug);
  outcomes.set(key, passed);
  return { passed, diff };
}

export interface RepairResult {
  bug: string;
  strategy: 'mutate' | 'uniform';
  repaired: boolean;
  /** Candidates evaluated, including the repairing one (a repeated candidate counts again). */
  evaluations: number;
  /** The repairing child's commit message (mutate) or edit (uniform). */
  repair?: string;
  /** The repairing child's diff. */
  diff?: string;
}

function parentNode(head: string): ArchiveNode {
  return {
    id: head,
    parents: [],
    tree: head,
    branch: 'main',
    writer: 'test',
    agent: 'root',
    operator: 'root',
    time: 0,
    subject: 'buggy parent',
    pruned: false,
    promoted: false,
  };
}

/**
 * Search children of the buggy parent with seeds firstSeed, firstSeed+1, … until one passes
 * the bug's tests or `budget` candidates have been evaluated.
 */
export async function repairSearch(
  bug: ExampleBug,
  options: { strategy: 'mutate' | 'uniform'; budget: number; firstSeed: number },
): Promise<RepairResult> {
  const { dir, head, cleanup } = await checkoutExample(bug.example, bug.root);
  try {
    const baseline = await runBugTests(dir, bug);
    if (baseline.passed) throw new Error(`${bug.id}: the buggy parent already passes its tests`);
    const agent = createMutateAgent();
    const config = defaultConfig({ test: { command: bug.command.join(' ') } });
    const original = await readFile(path.join(dir, bug.file), 'utf8');
    const transcriptDir = path.join(dir, '.git', 'evogit', 'transcripts');
    let evaluations = 0;
    for (let seed = options.firstSeed; evaluations < options.budget; seed++) {
      if (seed - options.firstSeed > options.budget * 4) break;
      await git(dir, ['reset', '-q', '--hard', head]);
      let repair: string;
      if (options.strategy === 'mutate') {
        const output = await agent.propose({
          worktree: dir,
          parent: parentNode(head),
          goal: config.goal,
          failingLogs: [{ task: bug.command.slice(-1)[0] as string, log: baseline.log }],
          lineage: [],
          budget: {},
          seed,
          config,
          transcriptDir,
        });
        if (output.outcome !== 'edited') continue;
        repair = output.message;
      } else {
        const language = languageOfPath(bug.file);
        if (!language) throw new Error(`${bug.file}: not a mutable language`);
        const result = await searchEdits([{ path: bug.file, language, source: original }], { seed, maxEdits: 1, strategy: 'uniform' });
        if (!result.ok) continue;
        for (const [file, source] of result.sources) await writeFile(path.join(dir, file), source);
        repair = result.edits.map((e) => `${e.operator} ${e.file}:${e.line}: ${e.before} → ${e.after}`).join('\n');
      }
      evaluations++;
      const { passed, diff } = await evaluateCandidate(dir, bug);
      if (passed) {
        return { bug: bug.id, strategy: options.strategy, repaired: true, evaluations, repair, diff };
      }
    }
    return { bug: bug.id, strategy: options.strategy, repaired: false, evaluations };
  } finally {
    await cleanup();
  }
}
