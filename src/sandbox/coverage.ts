/**
 * Per-test coverage in the run that grades: the hooks under sandbox/harness (a node preload
 * for `node --test`, a sitecustomize and pytest plugin for Python) go into the run's harness
 * folder, the environment points the runners at them, and the lines each test ran come back
 * as one collected file, turned here into the run's bounded spectrum (src/tasks/spectrum.ts).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Spectrum } from '../archive/types.js';
import { HARNESS_DIR } from '../tasks/index.js';
import { buildSpectrum, parseCoverage } from '../tasks/spectrum.js';
import { sandboxAssetsDir } from './image.js';
import type { TarEntry } from './tar.js';
import { WORK_TOKEN } from './types.js';

/** The harness files of the hooks, relative to sandbox/harness. */
const HOOK_FILES = ['coverage.cjs', 'python/sitecustomize.py', 'python/evogit_coverage.py', 'python/evogit_pytest.py'];

export interface CoverageRun {
  /** Harness files for the run's layers. */
  entries: TarEntry[];
  /** Variables for the run (values hold WORK_TOKEN, replaced by the sandbox). */
  env: Record<string, string>;
  /**
   * The run's command and variables with the hooks wired in. A split run (Docker, node --test)
   * starts its own node supervisor with the run's variables before any file is in place, so
   * there the node preload is named on the command line, after the privilege drop's (the test
   * processes inherit both), rather than in NODE_OPTIONS.
   */
  wire(command: string[], env: Record<string, string>, split: boolean): { command: string[]; env: Record<string, string> };
  /** The file to collect, relative to the work dir. */
  file: string;
  /**
   * The run's spectrum from the collected file and the run's output; undefined when nothing
   * failed or nothing was recorded. Tests whose name holds one of `ignore` (the run's
   * canaries) are left out: they run none of the project's lines.
   */
  spectrum(collected: Buffer | null | undefined, output: string, source: (file: string) => boolean, ignore?: readonly string[]): Spectrum | undefined;
}

/** What a run needs to record per-test coverage into `outDir` (a work-dir-relative folder). */
export async function coverageRun(outDir: string): Promise<CoverageRun> {
  const assets = path.join(sandboxAssetsDir(), 'harness');
  const entries = await Promise.all(HOOK_FILES.map(async (f) => ({ path: `${HARNESS_DIR}/${f}`, content: await readFile(path.join(assets, f)), mode: 0o644 })));
  const file = `${outDir}/coverage.jsonl`;
  const harness = `${WORK_TOKEN}/${HARNESS_DIR}`;
  const env = {
    EVOGIT_COVERAGE: `${WORK_TOKEN}/${file}`,
    NODE_OPTIONS: `--require "${harness}/coverage.cjs"`,
    // The harness folder itself stays importable (evogit's pytest timeout plugin lives there).
    PYTHONPATH: `${harness}/python:${harness}`,
    PYTEST_PLUGINS: 'evogit_pytest',
  };
  return {
    entries,
    env,
    file,
    wire(command, base, split) {
      const all = { ...base, ...env };
      if (!split) return { command, env: all };
      const { NODE_OPTIONS: _preload, ...rest } = all;
      const drop = command.indexOf('--require');
      const at = drop >= 0 ? drop + 2 : 1;
      return { command: [...command.slice(0, at), '--require', `${harness}/coverage.cjs`, ...command.slice(at)], env: rest };
    },
    spectrum(collected, output, source, ignore = []) {
      if (!collected?.length) return undefined;
      const tests = parseCoverage(collected.toString('utf8')).filter((t) => !ignore.some((name) => t.test.includes(name)));
      return buildSpectrum(tests, output, (f) => source(f) && !f.startsWith(`${HARNESS_DIR}/`) && !f.startsWith('.evogit-'));
    },
  };
}
