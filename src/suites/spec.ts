/** A suite task as a TaskSpec (pure), for code that speaks TaskSpec. */
import type { TaskSpec } from '../tasks/types.js';
import type { SuiteTask } from './types.js';

export function toTaskSpec(suite: string, task: SuiteTask): TaskSpec {
  return {
    id: `${suite}/${task.id}`,
    ...(task.test.setup?.length ? { setup: task.test.setup } : {}),
    // The hidden tests are put back by the suite's own grading (gradedTree), not by path.
    hiddenFiles: [],
    command: task.test.command,
    ...(task.test.resultFile ? { resultFile: task.test.resultFile } : {}),
    resultFormat: task.test.format,
    grading: task.grading,
    ...(task.test.timeoutMs ? { timeoutMs: task.test.timeoutMs } : {}),
    problem: task.problem,
    ...(task.repo ? { repo: task.repo } : {}),
    ...(task.base.kind === 'commit' ? { baseCommit: task.base.commit } : {}),
    ...(task.testPatch ? { testPatch: task.testPatch } : {}),
    split: task.split,
  };
}
