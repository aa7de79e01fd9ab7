/** The report viewer's entry: read the embedded archive, draw it, and say when it is ready. */
import 'diff2html/bundles/css/diff2html.min.css';
import 'highlight.js/styles/github.css';
import './style.css';
import { App } from './app.js';
import { h } from './dom.js';
import { readData } from './embedded.js';

declare global {
  interface Window {
    /** For scripts and tests: find, select and locate nodes; frame times. */
    evogitReport?: {
      app: App;
      select: (query: string) => boolean;
      screenPoint: (query: string) => { x: number; y: number } | null;
      frameMs: number[];
      loadMs: number;
    };
  }
}

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  try {
    const data = await readData();
    const app = new App(root, data);
    performance.mark('evogit:built');
    const one = (q: string) => {
      const found = app.model.find(q);
      return found.length === 1 ? found[0]! : -1;
    };
    window.evogitReport = {
      app,
      select: (q) => {
        const i = one(q);
        if (i >= 0) app.select(i, { center: true });
        return i >= 0;
      },
      screenPoint: (q) => (one(q) >= 0 ? app.view.screenPoint(one(q)) : null),
      frameMs: app.view.frameMs,
      loadMs: 0,
    };
    // Ready once the tree has been painted, so a load time counts the first frame.
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        window.evogitReport!.loadMs = performance.now();
        performance.mark('evogit:drawn');
        document.documentElement.dataset.state = 'ready';
      }),
    );
  } catch (e) {
    root.replaceChildren(h('p', { class: 'error' }, `This report could not be read: ${e instanceof Error ? e.message : String(e)}`));
    document.documentElement.dataset.state = 'error';
  }
}

void start();
