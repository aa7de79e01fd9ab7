/** Diffs rendered by diff2html, highlighted by highlight.js (a handful of languages, bundled). */
import { ColorSchemeType } from 'diff2html/lib-esm/types.js';
import { Diff2HtmlUI } from 'diff2html/lib-esm/ui/js/diff2html-ui-base.js';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { h } from './dom.js';

const LANGUAGES = { bash, c, cpp, css, go, java, javascript, json, markdown, python, rust, typescript, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

/** Past this many changed lines a diff is drawn without word matching and highlighting (it stays quick). */
const HEAVY_LINES = 4000;

export function renderDiff(target: HTMLElement, diff: string): void {
  target.replaceChildren();
  if (!diff.trim()) {
    target.append(h('p', { class: 'muted' }, 'No change.'));
    return;
  }
  const lines = diff.split('\n').length;
  const files = (diff.match(/^diff --git /gm) ?? []).length;
  const ui = new Diff2HtmlUI(
    target,
    diff,
    {
      outputFormat: 'line-by-line',
      drawFileList: files > 3,
      fileListToggle: false,
      fileListStartVisible: true,
      fileContentToggle: false,
      matching: lines > HEAVY_LINES ? 'none' : 'lines',
      highlight: lines <= HEAVY_LINES,
      synchronisedScroll: false,
      stickyFileHeaders: false,
      smartSelection: false,
      colorScheme: ColorSchemeType.LIGHT,
    },
    hljs,
  );
  ui.draw();
  if (lines <= HEAVY_LINES) ui.highlightCode();
}
