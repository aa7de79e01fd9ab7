import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { Claim } from '../archive/index.js';
import { heartbeat, othersFinishTheBudget, sleep, waitKey, awaitedOf } from './wait.js';
import type { LoopEvent } from './events.js';

describe('sleep', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  afterEach(() => process.off('warning', onWarning));

  it('adds no abort listener that outlives it: 1,000 waits on one signal, no MaxListenersExceededWarning', async () => {
    process.on('warning', onWarning);
    const controller = new AbortController();
    for (let i = 0; i < 1000; i++) await sleep(0, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('ends at once when the signal aborts, also when it already has', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = sleep(60_000, controller.signal);
    controller.abort();
    await waiting;
    await sleep(60_000, controller.signal);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('othersFinishTheBudget', () => {
  const claim = (fields: Partial<Claim>): Claim => ({ writer: 'a2', node: 'n', kind: 'evaluate', task: 't', expires: Infinity, host: 'here', pid: 10, ...fields });
  const alive = (pid: number) => pid === 10;

  it('lets an agent stop when live agents on this machine hold the rest of the budget', () => {
    expect(othersFinishTheBudget([claim({})], 'here', alive)).toBe(true);
    expect(othersFinishTheBudget([claim({}), claim({ writer: 'a3' })], 'here', alive)).toBe(true);
  });

  it('keeps it waiting for a claim from another machine, a process that died, or an unknown one', () => {
    expect(othersFinishTheBudget([claim({}), claim({ host: 'elsewhere' })], 'here', alive)).toBe(false);
    expect(othersFinishTheBudget([claim({ pid: 11 })], 'here', alive)).toBe(false);
    expect(othersFinishTheBudget([claim({ pid: undefined })], 'here', alive)).toBe(false);
    expect(othersFinishTheBudget([], 'here', alive)).toBe(false);
  });
});

it('says a wait once per change of what is awaited', () => {
  const a = awaitedOf([{ writer: 'a2', node: 'n1', kind: 'evaluate', task: 't1', expires: 0 }, { writer: 'h-a1', node: 'n2', kind: 'evaluate', expires: 0 }]);
  const b = awaitedOf([{ writer: 'h-a1', node: 'n2', kind: 'evaluate', expires: 0 }, { writer: 'a2', node: 'n1', kind: 'evaluate', task: 't1', expires: 0 }]);
  expect(a).toEqual([{ writer: 'a2', node: 'n1', task: 't1' }, { writer: 'h-a1', node: 'n2' }]);
  expect(waitKey(a)).toBe(waitKey(b));
  expect(waitKey(a)).not.toBe(waitKey(a.slice(1)));
});

it('a heartbeat says what a long step does and for how long, until stopped', async () => {
  const events: LoopEvent[] = [];
  const stop = heartbeat((e) => events.push(e), { writer: 'a1', kind: 'evaluate', node: 'n', task: 't' }, 20);
  await sleep(75);
  stop();
  const seen = events.length;
  await sleep(50);
  expect(seen).toBeGreaterThanOrEqual(2);
  expect(events).toHaveLength(seen);
  expect(events[0]).toMatchObject({ type: 'heartbeat', writer: 'a1', kind: 'evaluate', node: 'n', task: 't' });
  expect((events.at(-1) as { elapsedMs: number }).elapsedMs).toBeGreaterThanOrEqual(40);
});
