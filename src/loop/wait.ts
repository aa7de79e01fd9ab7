/**
 * Waiting, said once and never leaking: a pause that lets go of its abort listener, the rule
 * for an agent whose only remaining work is in other agents' hands, and the heartbeat of a
 * long step.
 */
import { thisHost, type Claim } from '../archive/index.js';
import type { EventSink, LoopEvent } from './events.js';
import { processAlive } from './lock.js';

/**
 * Resolves after `ms`, or at once when `signal` aborts. Its abort listener goes when it ends
 * either way: an agent that waits a thousand times adds none to the run's signal.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The in-flight evaluations an agent waits for, as a waiting event shows them. */
export type Awaited = Extract<LoopEvent, { type: 'waiting' }>['for'];

export function awaitedOf(claims: readonly Claim[]): Awaited {
  return claims.map((c) => ({ writer: c.writer, node: c.node, ...(c.task !== undefined ? { task: c.task } : {}) }));
}

/**
 * When the rest of the evaluation budget is claimed by others: may this agent stop (its part
 * is done) rather than poll? Yes when every such claim is held by a live process on this
 * machine: that agent finishes the run, or retries its own slot if its run fails. A claim from
 * another machine (or a process we cannot see) may belong to an agent that died: this agent
 * waits for it to finish or expire, so the budget is still met.
 */
export function othersFinishTheBudget(claims: readonly Claim[], host = thisHost(), alive: (pid: number) => boolean = processAlive): boolean {
  return claims.length > 0 && claims.every((c) => c.host === host && typeof c.pid === 'number' && alive(c.pid));
}

/** Said once per change of what is awaited: the same claims again say nothing. */
export function waitKey(awaited: Awaited): string {
  return awaited.map((a) => `${a.writer} ${a.node} ${a.task ?? ''}`).sort().join('\n');
}

/** Every `everyMs` while a long step runs, a heartbeat saying what it is and for how long. */
export function heartbeat(emit: EventSink, step: Omit<Extract<LoopEvent, { type: 'heartbeat' }>, 'type' | 'elapsedMs'>, everyMs = HEARTBEAT_MS): () => void {
  const started = Date.now();
  const timer = setInterval(() => emit({ type: 'heartbeat', ...step, elapsedMs: Date.now() - started }), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** A step longer than this says it is still running, and then again every this long. */
export const HEARTBEAT_MS = 10_000;
