'use strict';
/*
 * Per-test line coverage for `node --test`, preloaded in every node process of a run
 * (NODE_OPTIONS=--require <this file>) and active only in a test runner's child process.
 * V8's precise block coverage is reset before the first test and taken after each one, so
 * each test's lines are the lines it ran. One JSON line per test is appended to the file
 * EVOGIT_COVERAGE names: {"t": name, "o": "pass" | "fail", "f": {"src/x.js": [3, 4]}}.
 *
 * evogit localizes faults with it (it never grades with it). Anything that goes wrong here
 * switches coverage off silently: the run and its grade must be exactly as without it.
 */
const out = process.env.EVOGIT_COVERAGE;
if (out && process.env.NODE_TEST_CONTEXT) {
  try {
    start(out);
  } catch {
    // No coverage for this process; the tests run as they would have.
  }
}

function start(out) {
  const fs = require('node:fs');
  const path = require('node:path');
  const { fileURLToPath } = require('node:url');
  const inspector = require('node:inspector');
  const { before, afterEach } = require('node:test');

  /** Stop writing past this many bytes per process (a suite of thousands of tests). */
  const MAX_BYTES = 8 * 1024 * 1024;
  const cwd = process.cwd() + path.sep;
  const harness = path.dirname(__filename) + path.sep;
  const session = new inspector.Session();
  session.connect();
  // A same-thread session answers synchronously: each post's callback has run when it returns.
  const post = (method, params) => {
    let answer = null;
    session.post(method, params, (error, result) => {
      if (!error) answer = result;
    });
    return answer;
  };
  post('Profiler.enable');
  post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });

  /** url → { rel, anchors } for the project's own files, null for everything else. */
  const files = new Map();
  const fileOf = (url) => {
    if (files.has(url)) return files.get(url);
    let entry = null;
    if (url.startsWith('file:')) {
      const abs = fileURLToPath(url);
      if (abs.startsWith(cwd) && !abs.startsWith(harness) && !abs.includes(`${path.sep}node_modules${path.sep}`)) {
        entry = { rel: abs.slice(cwd.length).split(path.sep).join('/'), anchors: anchorsOf(fs.readFileSync(abs, 'utf8')) };
      }
    }
    files.set(url, entry);
    return entry;
  };

  let written = 0;
  let off = false;
  const take = () => post('Profiler.takePreciseCoverage');
  // Whatever ran before the first test (loading, describe() bodies) belongs to no test.
  before(() => {
    try {
      take();
    } catch {
      off = true;
    }
  });
  // A hook that throws fails the test: nothing here may (a full disk, a file gone, anything).
  afterEach((t) => {
    if (off) return;
    try {
      const taken = take();
      if (!taken || written > MAX_BYTES) return;
      const covered = {};
      for (const script of taken.result) {
        const file = fileOf(script.url);
        if (!file) continue;
        const lines = linesRun(script.functions, file.anchors);
        if (lines.length) covered[file.rel] = lines;
      }
      const line = `${JSON.stringify({ t: t.name, o: t.passed ? 'pass' : 'fail', f: covered })}\n`;
      written += line.length;
      fs.appendFileSync(out, line);
    } catch {
      off = true;
    }
  });
}

/**
 * The offset of each line's first character, and its 1-based line number, for lines that can
 * hold a statement: blank lines, comments and lone closing brackets are left out.
 */
function anchorsOf(source) {
  const offsets = [];
  const lines = [];
  let at = 0;
  let line = 1;
  for (const text of source.split('\n')) {
    const lead = text.search(/\S/);
    if (lead >= 0 && !/^(?:[}\])]|\/\/|\/\*|\*)/.test(text.slice(lead))) {
      offsets.push(at + lead);
      lines.push(line);
    }
    at += text.length + 1;
    line++;
  }
  return { offsets, lines };
}

/**
 * Lines whose first character ran: V8's ranges nest, so after sorting by start (outer first
 * on equal starts) the last range holding a line's anchor is the innermost, and its count says
 * whether the line ran since the last take.
 */
function linesRun(functions, anchors) {
  const { offsets, lines } = anchors;
  const ranges = [];
  for (const fn of functions) {
    // A module's own top level (declarations, imports) runs when it loads, in no test's time.
    if (fn.functionName === '' && fn.ranges[0] && fn.ranges[0].startOffset === 0) continue;
    for (const r of fn.ranges) ranges.push(r);
  }
  ranges.sort((a, b) => a.startOffset - b.startOffset || b.endOffset - a.endOffset);
  const counts = new Array(offsets.length).fill(0);
  for (const r of ranges) {
    let lo = 0;
    let hi = offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offsets[mid] < r.startOffset) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < offsets.length && offsets[i] < r.endOffset; i++) counts[i] = r.count;
  }
  const run = [];
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) run.push(lines[i]);
  return run;
}
