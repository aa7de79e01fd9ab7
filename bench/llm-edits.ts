/**
 * How long applying an edit block takes on a large file: exact, whitespace-tolerant, and a
 * miss that searches the nearest window. Run: npx tsx bench/llm-edits.ts
 */
import { applyEdit } from '../src/agents/llm/edits.js';

const lines = Array.from({ length: 5000 }, (_, i) => `    const value${i} = compute(${i}, "some text for line ${i}");`);
const file = lines.join('\n') + '\n';
const search = lines.slice(2500, 2510).join('\n') + '\n';
const cases = {
  exact: search,
  whitespace: search.replace(/^ {4}/gm, ''),
  miss: search.replace(/compute/g, 'calculate').replace(/value/g, 'val'),
};
for (const [name, s] of Object.entries(cases)) {
  const runs = 20;
  const started = performance.now();
  let ok = false;
  for (let i = 0; i < runs; i++) ok = applyEdit(file, { path: 'f', search: s, replace: 'x\n' }).ok;
  console.log(`${name.padEnd(10)} ${((performance.now() - started) / runs).toFixed(2)} ms/apply (5000-line file, 10-line block, applied=${ok})`);
}
