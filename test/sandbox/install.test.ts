/**
 * An install that fails says why (how it ended, its last lines, what the network allowed), and
 * an install that timed out is not waited for again on the next task or retry.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { environmentFor, LocalSandbox } from '../../src/sandbox/index.js';
import { installError } from '../../src/sandbox/install.js';
import { makeRepo, removedAfterAll, tempDir } from '../helpers/repo.js';

const dirs = removedAfterAll();

describe('an install that fails', () => {
  it('names how it ended, the last lines, and the network; a silent timeout says what usually causes it', () => {
    const silent = installError({ script: 'pip install -r requirements.txt', exitCode: null, timedOut: true, timeoutMs: 600_000, output: '', network: true });
    expect(silent.message).toBe('install (pip install -r requirements.txt) timed out after 10 min (sandbox.installTimeout), with network (sandbox.installNetwork: true): it printed nothing');
    expect(silent.hint).toMatch(/cannot reach its registry \(no DNS or no route from containers/);
    const offline = installError({ script: 'npm ci', exitCode: 1, timedOut: false, timeoutMs: 300_000, output: 'a\nb\nnpm ERR! network request failed\n', network: false });
    expect(offline.message).toBe('install (npm ci) exited with 1, without network (sandbox.installNetwork: false): a | b | npm ERR! network request failed');
    expect(offline.hint).toMatch(/must work offline/);
  });

  it('an install that timed out is not run again for the same manifests (a longer limit retries it)', async () => {
    const repo = await makeRepo({ 'requirements.txt': 'slow\n', 'a.txt': 'x\n' });
    dirs.push(repo);
    const cache = await tempDir('evogit-local-env-');
    dirs.push(cache);
    const sandbox = new LocalSandbox(path.join(cache, 'env'), () => undefined);
    const config = (limit: string) => defaultConfig({ test: { command: 'true' }, sandbox: { kind: 'local', installTimeout: limit } });
    // Each time the install runs it leaves a line on the host (the local sandbox runs it there).
    const marks = path.join(cache, 'runs.txt');
    const install = [`echo run >> ${marks}; echo resolving; exec sleep 30`];
    const runs = async () => (await readFile(marks, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    const ask = (limit: string) => environmentFor({ repoDir: repo, treeish: 'HEAD', install, config: config(limit), sandbox });
    const first = await ask('1s').catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'E_INSTALL_FAILED', timedOut: true });
    expect((first as Error).message).toMatch(/^install \(.*\) timed out after 1 s \(sandbox.installTimeout\), with network \(sandbox.installNetwork: true\): resolving$/);
    expect(await runs()).toBe(1);
    const second = await ask('1s').catch((e: unknown) => e);
    expect(second).toMatchObject({ code: 'E_INSTALL_FAILED', timedOut: true });
    expect((second as Error).message).toContain('not run again for the same manifests and install lines');
    expect(await runs()).toBe(1);
    // A longer limit is a new attempt (it times out again here, after its own limit).
    const longer = await ask('2s').catch((e: unknown) => e);
    expect((longer as Error).message).toMatch(/timed out after 2 s/);
    expect(await runs()).toBe(2);
  });
});
