/** The page: toolbar (search, filters), the tree, and a side panel with the run or the selected node. */
import type { ReportData } from '../html/data.js';
import { runCharts } from './charts.js';
import { LogStore } from './embedded.js';
import { h } from './dom.js';
import { colourDomain, pct, rateColour, setColourDomain, usd, when } from './format.js';
import { layOut, type LayoutMode } from './layout.js';
import { Model, NO_FILTER, type Filter } from './model.js';
import { nodePanel } from './panel.js';
import { TreeView } from './tree-view.js';
import { visibleTree } from './visible.js';

/** Archives larger than this open in the radial layout. */
const RADIAL_FROM = 300;

export class App {
  readonly model: Model;
  readonly view: TreeView;
  private selected = -1;
  private readonly collapsed = new Set<number>();
  private readonly unfolded = new Set<number>();
  private foldNeutral = true;
  /** Radial once a tree is too big to read as a column. */
  private mode: LayoutMode;
  private filter: Filter = { ...NO_FILTER };
  private hits = new Set<number>();
  private readonly side: HTMLElement;
  private readonly tabs: { run: HTMLButtonElement; node: HTMLButtonElement };
  private readonly matchCount: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly logs: LogStore;

  constructor(root: HTMLElement, data: ReportData) {
    this.model = new Model(data);
    this.logs = new LogStore(data.logChunk ?? Infinity);
    this.mode = data.nodes.length > RADIAL_FROM ? 'radial' : 'tree';
    setColourDomain([...this.model.rate, ...data.nodes.map((n) => n.clade.cmp)], this.model.rate[this.model.rootIndex] ?? null);
    const pane = h('div', { class: 'tree-pane' });
    this.side = h('div', { class: 'side-body' });
    this.tabs = {
      run: h('button', { type: 'button', class: 'tab', 'aria-pressed': 'true', onclick: () => this.showRun() }, 'Run'),
      node: h('button', { type: 'button', class: 'tab', 'aria-pressed': 'false', disabled: true, onclick: () => this.selected >= 0 && this.select(this.selected) }, 'Node'),
    };
    this.matchCount = h('span', { class: 'match-count muted' });
    this.search = h('input', { type: 'search', class: 'search', placeholder: 'branch or SHA', title: 'Find a node (shortcut: /)', list: 'evogit-branches', 'aria-label': 'Find a node by branch or SHA' });
    root.replaceChildren(
      h('header', { class: 'top' }, h('div', { class: 'brand', title: `written ${when(Date.parse(data.generatedAt))}` }, h('b', null, 'evogit'), ` ${data.repository}`, h('span', { class: 'muted' }, ` · ${data.nodes.length} nodes`)), this.toolbar()),
      h('main', null, pane, h('aside', { class: 'side' }, h('nav', { class: 'side-tabs' }, this.tabs.run, this.tabs.node), this.side)),
      // Suggestions while typing; past a few thousand the list costs more than it helps.
      h('datalist', { id: 'evogit-branches' }, ...data.nodes.filter((n) => n.branch).slice(0, 2000).map((n) => h('option', { value: n.branch! }))),
    );
    pane.append(legend());
    this.view = new TreeView(pane, this.model, {
      select: (i) => this.select(i),
      toggle: (i) => this.toggle(i),
      unfold: (first) => {
        this.unfolded.add(first);
        this.relayout();
      },
    });
    this.relayout();
    this.view.fit();
    document.addEventListener('keydown', (e) => this.onKey(e));
    const fromHash = this.model.find(decodeURIComponent(location.hash.slice(1)));
    if (fromHash.length === 1) this.select(fromHash[0]!, { center: true });
    else this.showRun();
  }

  private toolbar(): HTMLElement {
    const m = this.model;
    const pick = (key: keyof Filter, label: string, values: string[]) =>
      h(
        'select',
        {
          'aria-label': label,
          onchange: (e: Event) => {
            this.filter = { ...this.filter, [key]: (e.target as HTMLSelectElement).value };
            this.applyFilter();
          },
        },
        h('option', { value: '' }, `${label}: any`),
        ...values.map((v) => h('option', { value: v }, v)),
      );
    this.search.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') this.find(this.search.value);
      if (e.key === 'Escape') this.search.blur();
    });
    this.search.addEventListener('change', () => this.find(this.search.value));
    const fold = h('input', { type: 'checkbox', checked: true });
    fold.addEventListener('change', () => {
      this.foldNeutral = fold.checked;
      this.relayout();
    });
    const mode = h('select', { 'aria-label': 'layout' }, h('option', { value: 'tree' }, 'layout: tree'), h('option', { value: 'radial' }, 'layout: radial'));
    mode.value = this.mode;
    mode.addEventListener('change', () => {
      this.mode = mode.value as LayoutMode;
      this.relayout();
      this.view.fit();
    });
    return h(
      'div',
      { class: 'controls' },
      this.search,
      pick('writer', 'writer', m.values((n) => n.writer)),
      pick('operator', 'operator', m.values((n) => n.operator)),
      pick('task', 'task', m.data.tasks),
      pick('outcome', 'outcome', ['pass', 'fail', 'error']),
      this.matchCount,
      mode,
      h('label', { class: 'toggle', title: 'Fold runs of single-child nodes whose pass rate does not change' }, fold, ' fold neutral chains'),
      h('button', { type: 'button', onclick: () => this.view.fit() }, 'Fit'),
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            this.collapsed.clear();
            this.relayout();
          },
        },
        'Expand all',
      ),
    );
  }

  private relayout(): void {
    const keep = new Set<number>([...this.hits, ...(this.selected >= 0 ? [this.selected] : [])]);
    const tree = visibleTree(this.model, { collapsed: this.collapsed, foldNeutral: this.foldNeutral, unfolded: this.unfolded, keep });
    this.view.setLayout(layOut(tree, this.mode));
  }

  private applyFilter(): void {
    const keep = this.model.filtered(this.filter);
    this.view.setMarks({ keep });
    this.matchCount.textContent = keep ? `${keep.reduce((a, b) => a + b, 0)} of ${this.model.nodes.length} match` : '';
  }

  private find(query: string): void {
    const found = this.model.find(query);
    this.hits = new Set(found);
    this.view.setMarks({ hits: this.hits });
    this.matchCount.textContent = query.trim() ? (found.length ? `${found.length} found` : 'no node matches') : '';
    if (found.length) this.select(found[0]!, { center: true });
  }

  /** Open the clades and folds that hide a node. */
  private reveal(i: number): void {
    for (let a = this.model.parent[i]!; a >= 0; a = this.model.parent[a]!) this.collapsed.delete(a);
  }

  select(i: number, opts: { center?: boolean } = {}): void {
    this.selected = i;
    // Lay the tree out again only when a collapsed clade or a fold hides the node.
    if (!this.view.shows(i)) {
      this.reveal(i);
      this.relayout();
    }
    this.view.setMarks({ selected: i });
    if (opts.center) this.view.centerOn(i);
    history.replaceState(null, '', `#${this.model.nodes[i]!.id}`);
    this.tabs.node.disabled = false;
    this.tabs.node.textContent = `Node ${this.model.label(i)}`;
    this.setTab('node');
    this.side.replaceChildren(
      nodePanel(this.model, i, {
        select: (j) => this.select(j, { center: true }),
        toggle: (j) => this.toggle(j),
        center: (j) => this.view.centerOn(j),
        collapsed: (j) => this.collapsed.has(j),
        log: (j, k) => this.logs.of(j, k),
      }),
    );
    this.side.scrollTop = 0;
  }

  private toggle(i: number): void {
    if (this.model.children[i]!.length === 0) return;
    if (this.collapsed.has(i)) this.collapsed.delete(i);
    else this.collapsed.add(i);
    this.relayout();
    if (this.selected === i) this.select(i);
  }

  private setTab(tab: 'run' | 'node'): void {
    this.tabs.run.setAttribute('aria-pressed', String(tab === 'run'));
    this.tabs.node.setAttribute('aria-pressed', String(tab === 'node'));
  }

  private showRun(): void {
    this.setTab('run');
    this.side.replaceChildren(runSummary(this.model, (i) => this.select(i, { center: true })), runCharts(this.model, (i) => this.select(i, { center: true })));
  }

  private onKey(e: KeyboardEvent): void {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    if (e.key === '/') {
      e.preventDefault();
      this.search.focus();
    } else if (e.key === 'Escape') {
      this.selected = -1;
      this.view.setMarks({ selected: -1 });
      history.replaceState(null, '', location.pathname);
      this.showRun();
    } else if (e.key === 'f') this.view.fit();
  }
}

function runSummary(model: Model, select: (i: number) => void): HTMLElement {
  const d = model.data;
  const nodes = d.nodes;
  const runs = nodes.reduce((a, n) => a + n.evaluations.length, 0);
  const errors = nodes.reduce((a, n) => a + n.runs.error, 0);
  const cost = nodes.reduce((a, n) => a + (n.cost ?? 0), 0);
  const root = nodes[model.rootIndex]!;
  const best = model.best >= 0 ? nodes[model.best]! : null;
  const link = (i: number) => h('a', { href: `#${nodes[i]!.id}`, onclick: (e: Event) => (e.preventDefault(), select(i)) }, model.label(i));
  const card = (title: string, ...body: (HTMLElement | string)[]) => h('div', { class: 'card' }, h('div', { class: 'card-title' }, title), h('div', { class: 'card-body' }, ...body));
  const writers = model.values((n) => n.writer).filter((w) => w !== nodes[model.rootIndex]!.writer);
  return h(
    'section',
    { class: 'run-summary' },
    h(
      'div',
      { class: 'cards' },
      card(
        'Final answer',
        ...(best ? [link(model.best), ` ${best.own.pass}✓ ${best.own.fail}✗ · ${pct(model.rate[model.best]!)} · at least ${pct(d.best!.quantile)}`] : ['no node is evaluated yet']),
      ),
      card('Root', `${root.own.pass}✓ ${root.own.fail}✗ · ${pct(model.rate[model.rootIndex]!)}`),
      card('Nodes', `${nodes.length}`, h('span', { class: 'muted' }, ` · ${nodes.filter((n) => n.pruned).length} pruned · ${nodes.filter((n) => n.promoted).length} promoted · ${nodes.filter((n) => n.parents.length > 1).length} crossovers`)),
      card('Evaluations', `${runs}`, h('span', { class: 'muted' }, ` · ${errors} errors · evogit.yml budget ${d.budget.evaluations}`)),
      card('Writers', writers.join(', ') || '–'),
      card('Cost', usd(cost)),
    ),
    h('p', { class: 'muted' }, `Written ${when(Date.parse(d.generatedAt))} from ${d.repository}; ${d.evidence === 'tests' ? 'evidence counts test cases' : 'evidence counts task runs'}; the final answer is the ${d.best?.rule ?? 'best lower bound'}.`),
    d.claims.length ? h('p', { class: 'muted' }, `Working when written: ${d.claims.map((c) => `${c.writer} ${c.kind}s ${c.node.slice(0, 10)}${c.task ? ` on ${c.task}` : ''}`).join('; ')}`) : null,
  );
}

function legend(): HTMLElement {
  const { lo, root, hi } = colourDomain;
  const stops = [0, 0.25, 0.5, 0.75, 1].map((t) => rateColour(t < 0.5 ? lo + (root - lo) * t * 2 : root + (hi - root) * (t - 0.5) * 2)).join(',');
  return h(
    'details',
    { class: 'legend', open: true },
    h('summary', null, 'Legend'),
    h('div', null, h('span', { class: 'muted' }, pct(lo)), ' ', h('span', { class: 'swatch gradient', style: `background:linear-gradient(90deg,${stops})` }), ' ', h('span', { class: 'muted' }, pct(hi)), ` fill: own pass rate, red below the root's ${pct(root)}, green above (grey: not evaluated)`),
    h('div', null, h('span', { class: 'swatch ring' }), ' ring: clade CMP, same colours · size: evidence in the clade'),
    h('div', null, h('span', { class: 'swatch line best' }), ' final answer and its lineage  ', h('span', { class: 'swatch line mate' }), ' crossover: second parent'),
    h('div', null, h('span', { class: 'swatch pruned' }), ' pruned · ', h('span', { class: 'star' }, '★'), ' promoted · ', h('span', { class: 'swatch fold' }, '⋯'), ' folded neutral chain (click) · ▸+N collapsed clade'),
    h('div', { class: 'muted' }, 'drag to pan · wheel to zoom · double-click a node: collapse/expand its clade · / search · f fit'),
  );
}
