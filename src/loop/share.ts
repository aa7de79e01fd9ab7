/** What an agent shares beyond its own refs: the archive with a remote, and the best node as a pull request. */
import type { Archive } from '../archive/index.js';
import type { Config } from '../config/index.js';
import { EvogitError, errorMessage } from '../errors/index.js';
import { openPr } from '../forge/index.js';
import { betaQuantile } from '../scorer/index.js';
import { InfraError } from '../errors/index.js';
import type { EventSink } from './events.js';
import { sleep } from './wait.js';
import { localWriters } from './writers.js';
import { verifyNode } from './verify.js';

/**
 * Open (or update) the pull request of the best node when the PR rule holds. Idempotent, and
 * an API failure is only a warning: the run goes on and the node stays in the archive.
 */
export async function proposePr(archive: Archive, node: string, config: Config, writer: string, emit: EventSink, validate?: (commit: string) => Promise<boolean>): Promise<void> {
  try {
    // Never a PR on other writers' word alone: their passes are re-run here first (trust.verify).
    if (config.trust.verify) {
      const v = await verifyNode({ archive, config, node });
      if (!v.verified) {
        emit({ type: 'warning', writer, message: `no pull request for ${node.slice(0, 12)}: re-run here, ${v.reran.filter((r) => r.outcome !== 'pass').map((r) => `${r.task} ${r.outcome}`).join(', ')}${v.disputed.length ? ` (disputes ${v.disputed.map((d) => d.writer).join(', ')})` : ''}` });
        return;
      }
    }
    const result = await openPr({
      ...(validate ? { validate } : {}),
      repoDir: archive.repoDir,
      snapshot: await archive.load(),
      node,
      forge: config.forge,
      protectedPaths: config.test.protected,
      epsilon: config.scorer.epsilon,
      quantile: (a, b, p) => betaQuantile(p, a, b),
      logs: (id: string) => archive.evaluationLogs(id),
    });
    if (result.action !== 'skipped') emit({ type: 'pr', writer, node, action: result.action, ...(result.number !== undefined ? { number: result.number } : {}), ...(result.url ? { url: result.url } : {}) });
  } catch (e) {
    emit({ type: 'warning', writer, message: `could not open a pull request for ${node.slice(0, 12)}: ${errorMessage(e)}` });
  }
}

export async function sync(archive: Archive, remote: string, writer: string, emit: EventSink, what: 'fetch' | 'push'): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (what === 'fetch') {
        const { ignored } = await archive.fetch(remote, writer, { localWriters: await localWriters(archive) });
        // A ref the remote rewrote (not a fast-forward of ours): kept as it is here, and said.
        if (ignored.length) emit({ type: 'warning', writer, message: `${remote} rewrote ${ignored.length} archive ref(s), kept as they are here: ${ignored.slice(0, 3).join(', ')}${ignored.length > 3 ? ', …' : ''}` });
      } else await archive.push(remote, writer);
      return;
    } catch (e) {
      // The user's to fix (a remote in another object format): retrying cannot help.
      if (e instanceof EvogitError && !(e instanceof InfraError)) throw e;
      emit({ type: 'sync', writer, remote, ok: false, detail: `${what} failed (attempt ${attempt}): ${errorMessage(e)}` });
      // A failed fetch only delays news; a failed push is retried at the next step too.
      if (attempt >= 3) return;
      await sleep(500 * 2 ** attempt);
    }
  }
}
