import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { agentTemplateFiles, diagnosisPrompt, parseRunnerResult } from '../../src/agents/self/index.js';
import { patchPaths } from '../../src/suites/index.js';
import { removedAfterAll, tempDir } from '../helpers/repo.js';

const dirs = removedAfterAll();

describe('DGM pure parts', () => {
  it('reads the runner result and drops paths that leave the work dir or reach into .git', () => {
    const text = JSON.stringify({
      exitCode: 0,
      changes: [
        { path: 'a.js', content: Buffer.from('x').toString('base64') },
        { path: '../escape.js', content: '' },
        { path: '/etc/passwd', content: '' },
        { path: '.git/hooks/pre-commit', content: '' },
        { path: 'gone.js', content: null },
      ],
    });
    const r = parseRunnerResult(text);
    expect(r.changes.map((c) => [c.path, c.content?.toString() ?? null])).toEqual([
      ['a.js', 'x'],
      ['gone.js', null],
    ]);
    expect(r.rejected).toEqual(['../escape.js', '/etc/passwd', '.git/hooks/pre-commit']);
  });

  it('names the paths a test patch touches', () => {
    const patch = 'diff --git a/t/x.test.js b/t/x.test.js\n--- a/t/x.test.js\n+++ b/t/x.test.js\n@@\ndiff --git a/t/new.js b/t/new.js\nnew file mode 100644\n--- /dev/null\n+++ b/t/new.js\n';
    expect(patchPaths(patch)).toEqual(['t/new.js', 't/x.test.js']);
  });

  it('the diagnosis prompt shows the code within its budget and the failed log', () => {
    const p = diagnosisPrompt('solve tasks', [{ path: 'agent.js', text: 'code' }, { path: 'big.js', text: 'y'.repeat(30_000) }, { path: 'README.md', text: 'docs' }], { task: 'poly/x', log: 'AssertionError' });
    expect(p).toContain('--- agent.js ---\ncode');
    expect(p).toContain('[... cut]');
    expect(p).toContain('--- README.md (not shown) ---');
    expect(p).toContain('failed task poly/x');
  });

  it('agentTemplateFiles gives the seed agent to commit, and refuses to overwrite a file', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const files = await agentTemplateFiles(dir);
    expect(files.map((f) => f.path).sort()).toEqual(['README.md', 'agent.js', 'agent.json', 'package.json']);
    expect(await readdir(dir)).toEqual([]);
    await writeFile(path.join(dir, 'README.md'), 'mine\n');
    await expect(agentTemplateFiles(dir)).rejects.toThrow('README.md already exists');
  });
});
