/**
 * One independent agent: refresh the archive → ask the scorer → expand or evaluate → write
 * only its own refs → until the run's budget, counted from the archive, is spent.
 * Agents never talk to each other; git (and, on one machine, a budget lock file) is all
 * they share.
 */
import { sync } from './share.js';
import { claimNext, closeAgent, openAgent, runStep } from './step.js';
import type { AgentLoopOptions, AgentLoopResult } from './types.js';
import { awaitedOf, othersFinishTheBudget, sleep, waitKey } from './wait.js';

export type { LoopEvent, EventSink } from './events.js';
export type { AgentLoopOptions, AgentLoopResult, Budget } from './types.js';
export { budgetFromConfig, spent } from './budget.js';

/** Waiting for others' work in flight: the first look again, and the longest pause between looks. */
const WAIT_FIRST_MS = 20;
const WAIT_MAX_MS = 500;

export async function runAgentLoop(opts: AgentLoopOptions): Promise<AgentLoopResult> {
  const a = await openAgent(opts);
  const { writer, signal } = a;
  const finish = (reason: string): AgentLoopResult => {
    a.result.reason = reason;
    return { ...a.result };
  };
  let waitMs = 0;
  let waitingFor = '';
  try {
    for (;;) {
      if (signal?.aborted) return finish('stopped');
      if (opts.budget.timeMs !== undefined && Date.now() - a.started >= opts.budget.timeMs) return finish('time budget spent');
      if (opts.remote) await sync(a.archive, opts.remote, writer, a.emit, 'fetch');
      const next = await claimNext(a);
      if ('stop' in next) return finish(next.stop);
      if ('wait' in next) {
        // The rest of the budget is others' work in flight. Agents here finish it (or retry
        // their slot): this one's part is done. Others' may be dead: look again soon (it may
        // just be finishing, or fail and free its slot), then less and less often.
        if (othersFinishTheBudget(next.wait)) return finish(`the rest of the budget is in flight with ${[...new Set(next.wait.map((c) => c.writer))].join(', ')}`);
        const awaited = awaitedOf(next.wait);
        const key = waitKey(awaited);
        if (key !== waitingFor) a.emit({ type: 'waiting', writer, for: awaited });
        waitingFor = key;
        waitMs = Math.min(WAIT_MAX_MS, waitMs ? waitMs * 2 : WAIT_FIRST_MS);
        await sleep(waitMs, signal);
        continue;
      }
      waitMs = 0;
      waitingFor = '';
      // Share the claim, do the step, share its result.
      if (opts.remote) await sync(a.archive, opts.remote, writer, a.emit, 'push');
      const stop = await runStep(a, next);
      if (stop !== null) return finish(stop);
      if (opts.remote) await sync(a.archive, opts.remote, writer, a.emit, 'push');
    }
  } finally {
    await closeAgent(a);
  }
}
