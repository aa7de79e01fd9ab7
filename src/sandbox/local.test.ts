import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOCAL_WARNING, LocalSandbox } from './local.js';
import { makeTar } from './tar.js';

describe('LocalSandbox', () => {
  it('warns on stderr once per process, and at the top of every run log', async () => {
    const cache = await mkdtemp(path.join(tmpdir(), 'evogit-local-test-'));
    try {
      const warnings: string[] = [];
      const sandbox = new LocalSandbox(cache, (line) => warnings.push(line));
      const spec = { runId: 'r', image: path.join(cache, 'none'), command: ['/bin/sh', '-c', 'echo ran'], layers: [], timeoutMs: 10_000, outputLimit: 10_000 };
      const first = await sandbox.run(spec);
      const second = await sandbox.run(spec);
      expect(warnings).toEqual([LOCAL_WARNING]);
      for (const r of [first, second]) {
        expect(r.exitCode).toBe(0);
        expect(r.output).toBe(`${LOCAL_WARNING}\nran\n`);
      }
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });

  it('lets two agents prepare the same environment at once (the demo race of the first evaluation)', async () => {
    const cache = await mkdtemp(path.join(tmpdir(), 'evogit-local-test-'));
    try {
      // The second agent starts while the first one's install is running.
      const install = ['touch started', 'sleep 0.4', 'echo installed > dep.txt'];
      const spec = { baseImage: '', install, manifests: makeTar([{ path: 'package.json', content: Buffer.from('{}') }]), key: 'k1', network: false, timeoutMs: 20_000 };
      const a = new LocalSandbox(cache, () => undefined);
      const b = new LocalSandbox(cache, () => undefined);
      const first = a.ensureEnvironment(spec);
      const started = async (): Promise<boolean> => (await readdir(cache).catch(() => [] as string[])).some((d) => existsSync(path.join(cache, d, 'started')));
      while (!(await started())) await new Promise((r) => setTimeout(r, 10));
      const [one, two] = await Promise.all([first, b.ensureEnvironment(spec)]);
      expect(one.image).toBe(path.join(cache, 'k1'));
      expect(two.image).toBe(one.image);
      expect(await readFile(path.join(one.image, 'dep.txt'), 'utf8')).toBe('installed\n');
      // Nothing half-made is left beside it, and the next call reuses it.
      expect(await readdir(cache)).toEqual(['k1']);
      expect((await a.ensureEnvironment(spec)).cached).toBe(true);
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });
});
