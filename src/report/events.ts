/** Human renderings of loop events: one line per event, and a live dashboard for terminals. */
import type { LoopEvent } from '../loop/events.js';

const short = (id: string) => id.slice(0, 10);
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** What a step does, in words: `evaluating 0930cef1 on test/mean.test.js`. */
function stepText(e: { kind: 'expand' | 'evaluate'; node: string; task?: string; mate?: string }): string {
  return e.kind === 'expand' ? `expanding ${short(e.node)}${e.mate ? ` × ${short(e.mate)}` : ''}` : `evaluating ${short(e.node)} on ${e.task ?? '?'}`;
}

export function renderEvent(e: LoopEvent): string | null {
  switch (e.type) {
    case 'start':
      return `${e.writer}: started (${e.agent} agent, ${e.sandbox} sandbox, ${e.tasks} tasks)`;
    case 'decision':
      return null;
    case 'waiting':
      return `${e.writer}: waiting for ${e.for.map((w) => `${w.writer} (${w.task ? `${w.task} on ` : ''}${short(w.node)})`).join(', ')}: the rest of the budget is in flight`;
    case 'heartbeat':
      return `${e.writer}: still ${stepText(e)} … ${seconds(e.elapsedMs)}`;
    case 'expanded':
      return `${e.writer}: + ${e.branch} ${short(e.node)} ${e.summary}`;
    case 'rejected':
      return `${e.writer}: - child of ${short(e.parent)} rejected: ${e.reason}${e.detail ? ` (${e.detail})` : ''}`;
    case 'evaluated':
      return `${e.writer}: ${e.outcome.padEnd(5)} ${short(e.node)} ${e.task}${e.tests ? ` ${e.tests.passed}/${e.tests.total} tests` : ''} ${(e.durationMs / 1000).toFixed(1)}s`;
    case 'budget':
      return null;
    case 'best':
      return `${e.writer}: best so far ${e.branch ?? short(e.node)} (pass rate ${(e.passRate * 100).toFixed(0)}%, lower bound ${(e.quantile * 100).toFixed(0)}%)`;
    case 'sync':
      return `${e.writer}: sync with ${e.remote}: ${e.ok ? 'ok' : e.detail ?? 'failed'}`;
    case 'warning':
      return `${e.writer}: warning: ${e.message}`;
    case 'pr':
      return `${e.writer}: pull request ${e.action} for ${short(e.node)}${e.number !== undefined ? `: #${e.number}` : ''}${e.url ? ` ${e.url}` : ''}`;
    case 'done':
      return `${e.writer}: done: ${e.reason}`;
  }
}

interface AgentView {
  action: string;
  /** When the action began (epoch ms), for a step's running time; null when it is not a step. */
  since: number | null;
  evaluations: number;
  expansions: number;
}

/** The state behind the live view of `evogit run`, folded from events. */
export class Dashboard {
  private agents = new Map<string, AgentView>();
  private budget = { evaluations: 0, max: 0, cost: 0, expansions: 0, elapsedMs: 0 };
  private best: string | null = null;
  private recent: string[] = [];

  apply(e: LoopEvent): void {
    const view = this.agents.get(e.writer) ?? { action: 'starting', since: null, evaluations: 0, expansions: 0 };
    this.agents.set(e.writer, view);
    switch (e.type) {
      case 'decision':
        view.action = stepText(e);
        view.since = e.at ?? Date.now();
        break;
      case 'waiting':
        view.action = `waiting for ${e.for.map((w) => w.writer).join(', ')}`;
        view.since = e.at ?? Date.now();
        break;
      case 'evaluated':
        view.evaluations++;
        view.since = null;
        break;
      case 'expanded':
      case 'rejected':
        if (e.type === 'expanded') view.expansions++;
        view.since = null;
        break;
      case 'budget':
        if (e.evaluations >= this.budget.evaluations) this.budget = { evaluations: e.evaluations, max: e.maxEvaluations, cost: e.cost, expansions: e.expansions, elapsedMs: e.elapsedMs };
        break;
      case 'best':
        this.best = `${e.branch ?? short(e.node)}  pass rate ${(e.passRate * 100).toFixed(0)}% (lower bound ${(e.quantile * 100).toFixed(0)}%)`;
        break;
      case 'done':
        view.action = `done: ${e.reason}`;
        view.since = null;
        break;
      default:
        break;
    }
    const line = renderEvent(e);
    // The live lines already show a step's running time: heartbeats are for logs.
    if (line && e.type !== 'start' && e.type !== 'heartbeat') this.recent = [...this.recent.slice(-5), line];
  }

  /** `now`: the time the running steps are measured to. */
  render(now = Date.now()): string {
    const b = this.budget;
    const lines = [
      `evaluations ${b.evaluations}/${b.max}   nodes ${b.expansions + 1}   spent $${b.cost.toFixed(2)}   ${(b.elapsedMs / 1000).toFixed(0)}s`,
      `best: ${this.best ?? '(no evidence yet)'}`,
      ...[...this.agents.entries()].map(([w, v]) => `  ${w.padEnd(12)} ${String(v.expansions).padStart(3)} children ${String(v.evaluations).padStart(4)} runs   ${v.action}${v.since !== null ? ` … ${seconds(Math.max(0, now - v.since))}` : ''}`),
      ...this.recent.map((r) => `  · ${r}`),
    ];
    return lines.join('\n');
  }
}
