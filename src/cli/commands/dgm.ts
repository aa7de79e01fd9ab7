import { dgmReport, runDgm, startDgmHost, type DgmEvent, type DgmReport, type HeldOutScore } from '../../agents/self/index.js';
import { loadConfig } from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
import { createSandbox } from '../../sandbox/index.js';
import type { Split } from '../../suites/index.js';
import type { CommandOutput, GlobalArgs, Io } from '../context.js';

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function suiteArg(a: Record<string, unknown>): { name: string; split: Split } | undefined {
  if (!a.suite) return undefined;
  const split = String(a.split ?? 'search');
  if (split !== 'search' && split !== 'selection') throw new UsageError(`--split must be search or selection, not ${split} (held-out tasks are only for the report)`);
  return { name: String(a.suite), split };
}

function line(label: string, s: HeldOutScore): string {
  const h = s.heldOut;
  return `${label.padEnd(5)} ${(s.branch ?? s.node.slice(0, 12)).padEnd(14)} held-out ${h.pass}/${h.pass + h.fail} resolved, mean ${pct(h.mean)}, 95% interval ${pct(h.lo)}–${pct(h.hi)}   (search ${s.search.pass}/${s.search.pass + s.search.fail})`;
}

export function renderReport(r: DgmReport): string {
  return [
    `Held-out report for suite ${r.suite} (${r.heldOutTasks} held-out task(s); ${r.ran} run(s) made now)`,
    line('best', r.best),
    line('root', r.root),
    `difference of the posterior means: ${r.difference >= 0 ? '+' : ''}${(r.difference * 100).toFixed(1)} points`,
    `best chosen by: ${r.rule} on the search split`,
  ].join('\n');
}

/** `evogit dgm report [--suite NAME] [--json]`: the best-belief node vs the root on the held-out split. */
export async function dgmReportCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const config = await loadConfig(a.C);
  const host = await startDgmHost(config);
  try {
    const suite = suiteArg(a);
    const r = await dgmReport({ repoDir: a.C, config, writer: String(a.writer ?? 'report'), sandbox: createSandbox(config), llm: host.llm, ...(suite ? { suite } : {}) });
    return { data: r, text: renderReport(r) };
  } finally {
    await host.close();
  }
}

function eventText(e: DgmEvent): string {
  switch (e.type) {
    case 'decision':
      return e.decision.kind === 'done' ? `done: ${e.decision.reason}` : `${e.decision.kind} ${e.decision.node.slice(0, 12)}${e.decision.kind === 'evaluate' ? ` on ${e.decision.task}` : ''}`;
    case 'expanded':
      return `  new node ${e.node.slice(0, 12)} from ${e.parent.slice(0, 12)}: ${e.subject}`;
    case 'rejected':
      return `  no child of ${e.parent.slice(0, 12)}: ${e.reason}`;
    case 'evaluated':
      return `  ${e.outcome} ${e.task}${e.reason ? ` (${e.reason})` : ''}`;
  }
}

/** `evogit dgm run [--max-evals N] [--max-expansions N] [--seed N]`: the DGM driver in the foreground. */
export async function dgmRunCommand(a: GlobalArgs & Record<string, unknown>, io: Io): Promise<CommandOutput> {
  const config = await loadConfig(a.C);
  const host = await startDgmHost(config);
  try {
    const suite = suiteArg(a);
    const result = await runDgm({
      repoDir: a.C,
      config,
      writer: String(a.writer ?? 'dgm'),
      sandbox: createSandbox(config),
      llm: host.llm,
      chat: host.chat,
      ...(suite ? { suite } : {}),
      budget: { evaluations: Number(a['max-evals'] ?? config.budget.evaluations), ...(a['max-expansions'] !== undefined ? { expansions: Number(a['max-expansions']) } : config.budget.expansions ? { expansions: config.budget.expansions } : {}) },
      ...(a.seed !== undefined ? { seed: Number(a.seed) } : {}),
      emit: (e) => {
        if (!a.json) io.stderr(`${eventText(e)}\n`);
      },
    });
    const text = `${result.expansions} node(s) made, ${result.evaluations} evaluation(s), ${result.rejected} rejected: ${result.reason}`;
    // Stopping before the budget for any other reason is a failure a script must see.
    return { data: result, text: result.stoppedEarly ? `${text}\nstopped before the budget (${result.evaluations} of ${Number(a['max-evals'] ?? config.budget.evaluations)} evaluations)` : text, ...(result.stoppedEarly ? { exitCode: 1 } : {}) };
  } finally {
    await host.close();
  }
}
