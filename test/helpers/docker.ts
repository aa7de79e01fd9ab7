/**
 * Docker for tests: `describeDocker` runs a suite only when a daemon answers, says clearly
 * when it skips, and fails instead of skipping under EVOGIT_REQUIRE_DOCKER=1 (CI).
 * `ensureTestImage` builds the offline sandbox image once (sandbox/build-offline.sh).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { describe, it } from 'vitest';
import { run } from '../../src/proc/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The image the Docker tests run in (built offline from the host's node and python3). */
export const TEST_IMAGE = 'evogit/node:20';

let availability: Promise<boolean> | null = null;

export function dockerAvailable(): Promise<boolean> {
  availability ??= new Docker()
    .ping()
    .then(() => true)
    .catch(() => false);
  return availability;
}

const required = process.env.EVOGIT_REQUIRE_DOCKER === '1';
// Resolved once when this module loads (vitest allows top-level await in test modules).
const reachable = await dockerAvailable();

export function describeDocker(name: string, fn: () => void): void {
  if (reachable) {
    describe(name, fn);
    return;
  }
  const why = `Docker daemon not reachable: skipping "${name}" (start dockerd or set DOCKER_HOST; CI sets EVOGIT_REQUIRE_DOCKER=1 to make this a failure)`;
  if (required) {
    describe(name, () => {
      it('needs a Docker daemon (EVOGIT_REQUIRE_DOCKER=1)', () => {
        throw new Error(`EVOGIT_REQUIRE_DOCKER=1 but the Docker daemon is not reachable: "${name}" cannot run`);
      });
    });
    return;
  }
  process.stderr.write(`${why}\n`);
  describe.skip(`${name} — ${why}`, fn);
}

let built: Promise<void> | null = null;

/** Build the offline test image(s) once per process; the script itself skips existing images. */
export function ensureTestImage(): Promise<void> {
  built ??= run(path.join(repoRoot, 'sandbox', 'build-offline.sh'), [], { cwd: repoRoot, timeoutMs: 10 * 60_000 }).then(() => undefined);
  return built;
}

/** evogit containers this test process owns (labelled with its pid). */
export async function ownContainers(): Promise<Docker.ContainerInfo[]> {
  return new Docker().listContainers({
    all: true,
    filters: JSON.stringify({ label: ['evogit.owner=evogit', `evogit.pid=${process.pid}`] }),
  });
}

let toolchains: Promise<void> | null = null;

/** The language images of benchmark suites (sandbox/build-toolchains.sh; existing ones are kept). */
export function ensureToolchainImages(): Promise<void> {
  toolchains ??= ensureTestImage().then(() => run(path.join(repoRoot, 'sandbox', 'build-toolchains.sh'), [], { cwd: repoRoot, timeoutMs: 20 * 60_000 }).then(() => undefined));
  return toolchains;
}
