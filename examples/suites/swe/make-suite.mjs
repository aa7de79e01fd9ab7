#!/usr/bin/env node
// Build a small SWE-bench style suite from a tiny repository's history:
//   node examples/suites/swe/make-suite.mjs OUT_DIR
// writes OUT_DIR/calc (a git repository whose bug-fix commits carry test changes),
// OUT_DIR/swe.jsonl (one instance per fix: base_commit, problem_statement, test_patch,
// FAIL_TO_PASS, PASS_TO_PASS, and the gold `patch`) and OUT_DIR/swe.yml (repos, test command).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] ?? 'swe-suite');
const repo = path.join(out, 'calc');
const env = { ...process.env, GIT_AUTHOR_NAME: 'calc', GIT_AUTHOR_EMAIL: 'calc@example.invalid', GIT_COMMITTER_NAME: 'calc', GIT_COMMITTER_EMAIL: 'calc@example.invalid' };
const git = (...args) => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8' });

function commit(stage, message) {
  const dir = path.join(here, 'calc', stage);
  for (const file of JSON.parse(readFileSync(path.join(dir, 'files.json'), 'utf8'))) {
    mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
    writeFileSync(path.join(repo, file), readFileSync(path.join(dir, file)));
  }
  git('add', '--all');
  git('commit', '--quiet', '-m', message);
  return git('rev-parse', 'HEAD').trim();
}

mkdirSync(repo, { recursive: true });
git('init', '--quiet', '--initial-branch=main');
const stages = [
  commit('1-initial', 'calc: add and clamp'),
  commit('2-fix-clamp', 'Fix clamp at the upper bound'),
  commit('3-fix-mean', 'mean of an empty list is 0'),
];
const problems = {
  '2-fix-clamp': 'clamp(x, lo, hi) returns values above hi: clamp(15, 0, 10) gives 15 instead of 10. It must keep values within [lo, hi].',
  '3-fix-mean': 'mean([]) returns NaN; it must return 0 for an empty list.',
};
const tests = {
  '2-fix-clamp': { f2p: ['clamp keeps values within bounds'], p2p: ['add sums two numbers'] },
  '3-fix-mean': { f2p: ['mean of an empty list is 0'], p2p: ['add sums two numbers', 'clamp keeps values within bounds', 'mean averages numbers'] },
};
const lines = [];
for (const [i, stage] of ['2-fix-clamp', '3-fix-mean'].entries()) {
  const base = stages[i];
  const fix = stages[i + 1];
  lines.push(
    JSON.stringify({
      instance_id: `evogit__calc-${i + 1}`,
      repo: 'evogit/calc',
      base_commit: base,
      problem_statement: problems[stage],
      test_patch: git('diff', '--no-color', base, fix, '--', 'test'),
      patch: git('diff', '--no-color', base, fix, '--', '.', ':(exclude)test'),
      // As in the real dataset: JSON lists encoded as strings.
      FAIL_TO_PASS: JSON.stringify(tests[stage].f2p),
      PASS_TO_PASS: JSON.stringify(tests[stage].p2p),
    }),
  );
}
writeFileSync(path.join(out, 'swe.jsonl'), `${lines.join('\n')}\n`);
writeFileSync(path.join(out, 'swe.yml'), 'repos:\n  evogit/calc: ./calc\ntest:\n  command: node --test\n');
process.stdout.write(`${out}\n`);
