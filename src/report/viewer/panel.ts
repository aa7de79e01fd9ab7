/**
 * The node panel: what a person reviewing one candidate wants, top to bottom — what it is and
 * how sure we are of it, what it changed, how each task went (with the log tails), where it
 * came from, and the git commands to review, prune or promote it.
 */
import type { ReportEvaluation, ReportNode } from '../html/data.js';
import { branchName, writerName } from '../node.js';
import { renderDiff } from './diff-view.js';
import { h } from './dom.js';
import { lineageStep, reconstruct, unifiedDiff } from './files.js';
import { interval, pct, rateColour, seconds, usd, when } from './format.js';
import type { Model } from './model.js';

export interface PanelActions {
  log: (node: number, evaluation: number) => Promise<string | null>;
  select: (node: number) => void;
  toggle: (node: number) => void;
  center: (node: number) => void;
  collapsed: (node: number) => boolean;
}

export function nodePanel(model: Model, i: number, actions: PanelActions): HTMLElement {
  const n = model.nodes[i]!;
  return h(
    'article',
    { class: 'node-panel', 'data-node': n.id },
    header(model, i, actions),
    evidence(model, i),
    h('section', null, h('h3', null, 'Commit message'), h('pre', { class: 'message' }, n.message)),
    diffs(model, i),
    evaluations(n, (k) => actions.log(i, k)),
    lineage(model, i, actions),
    commands(model, i),
  );
}

function badge(text: string, kind: string, title: string): HTMLElement {
  return h('span', { class: `badge ${kind}`, title }, text);
}

function header(model: Model, i: number, actions: PanelActions): HTMLElement {
  const n = model.nodes[i]!;
  const badges = [
    i === model.best ? badge('final answer', 'best', model.data.best?.rule ?? '') : null,
    n.pruned ? badge('pruned', 'pruned', 'Its branch was deleted: no agent expands it again. It stays because descendants reach it.') : null,
    n.promoted ? badge('★ promoted', 'promoted', 'Tagged by `evogit promote`: the scorer favours it and it may become a PR.') : null,
    n.tampered ? badge('tampered', 'tampered', 'It changed protected paths: rejected, not graded.') : null,
    n.parents.length > 1 ? badge('crossover', 'crossover', 'A merge of two nodes.') : null,
    ...(model.claims.get(i) ?? []).map((c) => badge(`${c.writer} ${c.kind === 'expand' ? 'expanding' : `evaluating ${c.task ?? ''}`}`, 'claim', 'Work in progress when the report was written.')),
  ];
  const made = n.operator === 'root' ? 'the root: the base every node descends from' : `made by ${writerName(n)} with ${n.operator}${n.agent && n.agent !== n.operator ? ` (${n.agent})` : ''}${n.model ? `, model ${n.model}` : ''}${n.cost ? `, ${usd(n.cost)}` : ''}`;
  return h(
    'header',
    { class: 'panel-head' },
    h('h2', null, n.branch ?? `${n.id.slice(0, 12)} ${branchName(n)}`, ' ', ...badges),
    h('div', { class: 'sha' }, n.id),
    h('div', { class: 'muted' }, `${made} · ${when(n.time * 1000)}`),
    n.parents.length > 1 ? h('div', { class: 'muted' }, 'parents: ', ...n.parents.map((p, k) => nodeLink(model, model.index.get(p), actions, k ? ' × ' : ''))) : null,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', onclick: () => actions.center(i) }, 'Show in tree'),
      model.subtree[i]! > 1 ? h('button', { type: 'button', onclick: () => actions.toggle(i) }, actions.collapsed(i) ? `Expand clade (${model.subtree[i]! - 1})` : `Collapse clade (${model.subtree[i]! - 1})`) : null,
    ),
  );
}

function nodeLink(model: Model, j: number | undefined, actions: PanelActions, before = ''): (HTMLElement | string)[] {
  if (j === undefined) return [before, '(not in the archive)'];
  return [before, h('a', { href: `#${model.nodes[j]!.id}`, onclick: (e: Event) => (e.preventDefault(), actions.select(j)) }, model.label(j))];
}

/** An estimate and its interval on a 0–100% bar. */
function bar(value: number | null, lo: number, hi: number): HTMLElement {
  const el = h('div', { class: 'bar', title: `${pct(value)} ${interval(lo, hi)}` });
  el.append(h('span', { class: 'bar-interval', style: `left:${lo * 100}%;width:${Math.max(0.5, (hi - lo) * 100)}%` }));
  if (value !== null) el.append(h('span', { class: 'bar-value', style: `left:${value * 100}%;background:${rateColour(value)}` }));
  return el;
}

function evidence(model: Model, i: number): HTMLElement {
  const n = model.nodes[i]!;
  const unit = model.data.evidence === 'tests' ? 'tests' : 'task runs';
  return h(
    'section',
    { class: 'evidence' },
    h('h3', null, 'Evidence'),
    h(
      'table',
      null,
      h(
        'tr',
        null,
        h('th', null, 'own'),
        h('td', null, `${n.own.pass} ✓ ${n.own.fail} ✗ ${unit}`),
        h('td', { class: 'num' }, pct(model.rate[i]!)),
        h('td', null, bar(model.rate[i]!, n.own.lo, n.own.hi)),
        h('td', { class: 'muted wrap' }, `95% ${interval(n.own.lo, n.own.hi)} · lower bound ${pct(n.own.quantile)}${parentRate(model, i)}`),
      ),
      h(
        'tr',
        null,
        h('th', null, 'clade'),
        h('td', null, `${n.clade.pass} ✓ ${n.clade.fail} ✗ over ${model.subtree[i]} node${model.subtree[i] === 1 ? '' : 's'}`),
        h('td', { class: 'num' }, pct(n.clade.cmp)),
        h('td', null, bar(n.clade.cmp, n.clade.lo, n.clade.hi)),
        h('td', { class: 'muted wrap' }, `CMP, 95% ${interval(n.clade.lo, n.clade.hi)}`),
      ),
    ),
    h('div', { class: 'muted' }, `task runs: ${n.runs.pass} passed, ${n.runs.fail} failed${n.runs.error ? `, ${n.runs.error} infrastructure errors (retried, never counted)` : ''}`),
  );
}

function parentRate(model: Model, i: number): string {
  const p = model.parent[i]!;
  return p < 0 ? '' : ` · parent ${pct(model.rate[p]!)}`;
}

function diffs(model: Model, i: number): HTMLElement {
  const n = model.nodes[i]!;
  const target = h('div', { class: 'diff' });
  const parentTab = h('button', { type: 'button', class: 'tab', 'aria-pressed': 'true' }, 'against its parent');
  const rootTab = h('button', { type: 'button', class: 'tab', 'aria-pressed': 'false' }, 'against the root');
  const show = (which: 'parent' | 'root') => {
    parentTab.setAttribute('aria-pressed', String(which === 'parent'));
    rootTab.setAttribute('aria-pressed', String(which === 'root'));
    if (which === 'root') renderRootDiff(model, i, target);
    else if (n.patchOmitted) target.replaceChildren(omitted(model, i));
    else renderDiff(target, n.patch);
  };
  parentTab.addEventListener('click', () => show('parent'));
  rootTab.addEventListener('click', () => show('root'));
  show(i === model.rootIndex ? 'root' : 'parent');
  return h('section', { class: 'diffs' }, h('h3', null, 'Diff ', parentTab, rootTab), target);
}

function omitted(model: Model, i: number): HTMLElement {
  const n = model.nodes[i]!;
  const parent = model.parent[i]!;
  const mb = (n.patchOmitted!.bytes / 2 ** 20).toFixed(1);
  return h('p', { class: 'muted' }, `Its diff (${mb} MB over ${n.patchOmitted!.paths.length} files) is too large to carry here: git diff ${parent >= 0 ? model.ref(parent) : `${n.id}^`} ${model.ref(i)}`);
}

function renderRootDiff(model: Model, i: number, target: HTMLElement): void {
  const data = model.data;
  const steps = model.lineage(i).slice(1).map((j) => lineageStep(model.nodes[j]!));
  const rootFile = (path: string) => (path in data.rootFiles ? data.rootFiles[path] : data.unreadable.includes(path) ? undefined : null);
  const { changes, unknown } = reconstruct(steps, rootFile);
  renderDiff(target, unifiedDiff(changes));
  if (unknown.length) {
    target.prepend(h('p', { class: 'muted' }, `Not shown (binary, too large, or not rebuilt): ${unknown.join(', ')}. git diff ${data.prefix}/root ${model.ref(i)} shows them.`));
  }
}

function outcomeMark(e: ReportEvaluation): HTMLElement {
  const symbol = e.outcome === 'pass' ? '✓' : e.outcome === 'fail' ? '✗' : '!';
  return h('span', { class: `outcome ${e.outcome}`, title: e.outcome }, symbol);
}

/** One run: its summary line, and its log tail when opened. */
function run(e: ReportEvaluation, log: () => Promise<string | null>): HTMLElement {
  const pre = h('pre', { class: 'log' }, 'reading the log…');
  const details = h(
    'details',
    { class: 'run' },
    h(
      'summary',
      null,
      outcomeMark(e),
      ` ${e.outcome}`,
      e.tests ? ` · ${e.tests.passed}/${e.tests.total} tests` : '',
      ` · ${seconds(e.durationMs)} · ${e.harness} · by ${e.writer} · ${when(Date.parse(e.time))}`,
      e.tampered ? ' · TAMPERED' : '',
      e.reason ? ` · ${e.reason}` : '',
    ),
    failing(e),
    pre,
  );
  details.addEventListener('toggle', () => {
    if (details.open && pre.dataset.loaded === undefined) {
      pre.dataset.loaded = '';
      void log().then(
        (text) => (pre.textContent = text || '(no log tail kept)'),
        (err: unknown) => (pre.textContent = `the log could not be read: ${String(err)}`),
      );
    }
  });
  return details;
}

/** The tests a run failed, by name, when the runner reported them. */
function failing(e: ReportEvaluation): HTMLElement | null {
  const failed = e.failedTests ?? [];
  return failed.length ? h('ul', { class: 'failed-tests' }, ...failed.map((name) => h('li', null, h('span', { class: 'outcome fail' }, '✗'), name))) : null;
}

function evaluations(n: ReportNode, log: (k: number) => Promise<string | null>): HTMLElement {
  const byTask = new Map<string, { e: ReportEvaluation; k: number }[]>();
  n.evaluations.forEach((e, k) => byTask.set(e.task, [...(byTask.get(e.task) ?? []), { e, k }]));
  const section = h('section', { class: 'evaluations' }, h('h3', null, `Evaluations (${n.evaluations.length} run${n.evaluations.length === 1 ? '' : 's'} on ${byTask.size} task${byTask.size === 1 ? '' : 's'})`));
  if (byTask.size === 0) section.append(h('p', { class: 'muted' }, 'Not evaluated yet.'));
  for (const [task, runs] of [...byTask].sort(([a], [b]) => a.localeCompare(b))) {
    section.append(
      h(
        'div',
        { class: 'task', 'data-task': task },
        h('div', { class: 'task-name' }, ...runs.map(({ e }) => outcomeMark(e)), ' ', h('code', null, task)),
        ...runs.map(({ e, k }) => run(e, () => log(k))),
      ),
    );
  }
  return section;
}

function lineage(model: Model, i: number, actions: PanelActions): HTMLElement {
  const list = h('ol', { class: 'lineage' });
  for (const j of model.lineage(i)) {
    const n = model.nodes[j]!;
    list.append(
      h(
        'li',
        { class: j === i ? 'current' : '' },
        h('span', { class: 'dot', style: `background:${rateColour(model.rate[j]!)}` }),
        ...nodeLink(model, j, actions),
        h('span', { class: 'num' }, pct(model.rate[j]!)),
        h('span', { class: 'muted' }, ` ${n.operator} · ${n.message.split('\n')[0]}`),
      ),
    );
  }
  return h('section', null, h('h3', null, 'Lineage (first parents, root first)'), list);
}

function commands(model: Model, i: number): HTMLElement {
  const ref = model.ref(i);
  const root = `${model.data.prefix}/root`;
  const n = model.nodes[i]!;
  const lines: [string, string][] = [
    [`git log --graph --oneline ${root}..${ref}`, 'its lineage'],
    [`git diff ${root} ${ref}`, 'what it changed'],
    [`git log --notes='evogit/*' -1 ${ref}`, 'its evaluations'],
    [`evogit show ${ref}`, 'the same, in the terminal'],
    [`evogit promote ${ref}`, 'favour it; it may become a PR'],
    n.branch ? [`git branch -D ${n.branch}`, 'prune it (or: evogit prune … --clade)'] : ['', ''],
  ];
  const text = lines.filter(([c]) => c).map(([c, why]) => `${c}   # ${why}`).join('\n');
  const pre = h('pre', { class: 'commands' }, text);
  const copy = h('button', { type: 'button', class: 'copy' }, 'Copy');
  copy.addEventListener('click', () => {
    void navigator.clipboard?.writeText(text).then(
      () => (copy.textContent = 'Copied'),
      () => selectText(pre),
    );
    if (!navigator.clipboard) selectText(pre);
  });
  return h('section', null, h('h3', null, 'Review it with git ', copy), pre);
}

function selectText(el: HTMLElement): void {
  const range = document.createRange();
  range.selectNodeContents(el);
  const sel = window.getSelection();
  sel?.removeAllRanges();
  sel?.addRange(range);
}
