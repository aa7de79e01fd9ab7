import { appendFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dgmReportCommand, dgmRunCommand } from '../../src/cli/commands/dgm.js';
import { tasksListCommand } from '../../src/cli/commands/tasks.js';
import type { Io } from '../../src/cli/index.js';
import { removeDir } from '../helpers/repo.js';
import { SECRET_KEY, action, agentRepo, scriptedLlm, type ScriptedLlm } from './helpers.js';
import { dgmModel } from './solver.js';

const KEY_ENV = 'EVOGIT_DGM_TEST_KEY';

describe('the dgm and tasks commands', () => {
  let repo: string;
  let dirs: string[] = [];
  let llm: ScriptedLlm;
  const errors: string[] = [];
  const io: Io = { stdout: () => undefined, stderr: (t) => void errors.push(t), isTTY: false };

  beforeAll(async () => {
    ({ repo, dirs } = await agentRepo({ sandbox: 'local', fractions: { search: 0.6, selection: 0, heldout: 0.4 }, seed: 6 }));
    llm = await scriptedLlm(dgmModel());
    // The commands take the upstream from the config and the key from the environment.
    await appendFile(path.join(repo, 'evogit.yml'), `agents:\n  llm:\n    baseUrl: ${llm.server.openaiBaseUrl}\n    model: scripted\n    apiKeyEnv: ${KEY_ENV}\n`);
    process.env[KEY_ENV] = SECRET_KEY;
  });
  afterAll(async () => {
    delete process.env[KEY_ENV];
    await llm?.close();
    for (const d of dirs) await removeDir(d);
  });

  it('tasks list shows the imported suite and its split', async () => {
    const out = await tasksListCommand({ C: repo, json: false });
    expect(out.text).toMatch(/^poly\s+polyglot\s+3 task\(s\)\s+2 search \/ 0 selection \/ 1 held-out/);
  });

  it('dgm run then dgm report: text and JSON data', async () => {
    const ran = await dgmRunCommand({ C: repo, json: false, 'max-evals': 6, 'max-expansions': 2, seed: 3 }, io);
    expect(ran.text).toMatch(/node\(s\) made, \d+ evaluation\(s\)/);
    expect(errors.join('')).toMatch(/pass poly\/javascript\/two-fer/);
    const report = await dgmReportCommand({ C: repo, json: true });
    expect(report.text).toMatch(/^Held-out report for suite poly \(1 held-out task\(s\)/);
    expect(report.text).toMatch(/^root .* held-out 0\/1 resolved/m);
    expect(report.data).toMatchObject({ suite: 'poly', heldOutTasks: 1 });
    expect(llm.server.requests.every((r) => r.headers.authorization === `Bearer ${SECRET_KEY}`)).toBe(true);
  });

  it('dgm run that stops before its budget for another reason exits non-zero and says why', async () => {
    // A model that never edits: every expansion is rejected, no evaluation is ever made.
    const idle = await scriptedLlm(() => ({ text: action({ tool: 'done', summary: 'nothing to do' }) }));
    const text = await import('node:fs/promises').then((fs) => fs.readFile(path.join(repo, 'evogit.yml'), 'utf8'));
    try {
      await writeFile(path.join(repo, 'evogit.yml'), text.replace(llm.server.openaiBaseUrl, idle.server.openaiBaseUrl));
      const ran = await dgmRunCommand({ C: repo, json: false, 'max-evals': 20, 'max-expansions': 4, seed: 4 }, io);
      expect(ran.exitCode, ran.text).toBe(1);
      expect(ran.data).toMatchObject({ stoppedEarly: true });
      expect(ran.text).toMatch(/too many rejected expansions \(\d+; the last: /);
      expect(ran.text).toMatch(/stopped before the budget \(\d+ of 20 evaluations\)/);
    } finally {
      await writeFile(path.join(repo, 'evogit.yml'), text);
      await idle.close();
    }
  });
});
