/** A claim held while its work runs: renewed before it expires, released when the work ends. */
import type { Archive, Claim } from '../archive/index.js';
import { errorMessage } from '../errors/index.js';
import type { EventSink } from './events.js';

/** Claims live a minute; a working agent renews its claim every 20 s (heartbeat). */
export const DEFAULT_CLAIM_TTL_MS = 60_000;

/**
 * Renew a claim every ttl/3 while the work runs, so a short TTL frees a dead agent's slots
 * soon while a slow evaluation stays claimed. The new claim is written before the old one is
 * released: other agents may count it twice for a moment (they wait), never zero times.
 */
export function keepClaimAlive(archive: Archive, first: string, claim: Omit<Claim, 'expires'>, ttl: number, emit: EventSink): ClaimHolder {
  let ref = first;
  let released = false;
  let chain: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    chain = chain.then(async () => {
      try {
        const next = await archive.putClaim({ ...claim, expires: Date.now() + ttl });
        await archive.releaseClaim(ref);
        ref = next;
      } catch (e) {
        emit({ type: 'warning', writer: claim.writer, message: `could not renew a claim: ${errorMessage(e)}` });
      }
    });
  }, Math.max(1000, Math.floor(ttl / 3)));
  const settle = async () => {
    clearInterval(timer);
    await chain;
    return ref;
  };
  return {
    handOver: async (write) => {
      const out = await write(await settle());
      released = true;
      return out;
    },
    release: async () => {
      await settle();
      if (!released) await archive.releaseClaim(ref);
      released = true;
    },
  };
}

export interface ClaimHolder {
  /**
   * Stop renewing and let `write` delete the claim ref in the same ref transaction as the
   * step's result (others never see both the claim and what it produced).
   */
  handOver<T>(write: (ref: string) => Promise<T>): Promise<T>;
  /** Stop renewing and delete the claim, unless a handOver already did. */
  release(): Promise<void>;
}
