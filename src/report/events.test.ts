import { expect, it } from 'vitest';
import { Dashboard, renderEvent } from './events.js';

it("the live view shows each agent's current step and for how long", () => {
  const d = new Dashboard();
  const t0 = 1_000_000;
  d.apply({ type: 'decision', writer: 'a1', kind: 'evaluate', node: '0930cef1aabbccdd', task: 'test/mean.test.js', at: t0 });
  d.apply({ type: 'decision', writer: 'a2', kind: 'expand', node: '11112222333344445555', at: t0 + 60_000 });
  const view = d.render(t0 + 68_000);
  expect(view).toContain('a1');
  expect(view).toMatch(/a1 .* evaluating 0930cef1aa on test\/mean\.test\.js … 68 s/);
  expect(view).toMatch(/a2 .* expanding 1111222233 … 8 s/);
  // A finished step shows no running time.
  d.apply({ type: 'evaluated', writer: 'a1', node: '0930cef1aabbccdd', task: 'test/mean.test.js', outcome: 'fail', durationMs: 68_000, at: t0 + 68_500 });
  expect(d.render(t0 + 70_000)).not.toMatch(/a1 .*…/);
});

it('a wait and a long step are said in words in the log', () => {
  expect(renderEvent({ type: 'waiting', writer: 'a2', for: [{ writer: 'h2-a1', node: '0930cef1aabbccdd', task: 'test/mean.test.js' }] })).toBe(
    'a2: waiting for h2-a1 (test/mean.test.js on 0930cef1aa): the rest of the budget is in flight',
  );
  expect(renderEvent({ type: 'heartbeat', writer: 'a1', kind: 'evaluate', node: '0930cef1aabbccdd', task: 'test/mean.test.js', elapsedMs: 68_400 })).toBe(
    'a1: still evaluating 0930cef1aa on test/mean.test.js … 68 s',
  );
});
