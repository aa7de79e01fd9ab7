import { describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOCAL_WARNING, LocalSandbox } from './local.js';

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
});
