/** DGM mode through the product's main job: `evogit run` on a coding-agent repository. */
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/index.js';
import { evogit, removeDir } from '../helpers/repo.js';
import { SECRET_KEY, agentRepo, scriptedLlm, type ScriptedLlm } from './helpers.js';
import { dgmModel } from './solver.js';

const KEY_ENV = 'EVOGIT_DGM_LOOP_KEY';

describe('evogit run in agent mode', () => {
  let repo: string;
  let dirs: string[] = [];
  let llm: ScriptedLlm;

  beforeAll(async () => {
    ({ repo, dirs } = await agentRepo({ sandbox: 'local', fractions: { search: 1, selection: 0, heldout: 0 }, seed: 6 }));
    llm = await scriptedLlm(dgmModel());
    await appendFile(path.join(repo, 'evogit.yml'), `agents:\n  llm:\n    baseUrl: ${llm.server.openaiBaseUrl}\n    model: scripted\n    apiKeyEnv: ${KEY_ENV}\n`);
  });
  afterAll(async () => {
    await llm?.close();
    for (const d of dirs) await removeDir(d);
  });

  it('evaluates agent nodes on the suite and makes self-modified children, with the key only on the host', async () => {
    const r = await evogit(repo, ['run', '--agents', '1', '--max-evals', '6', '--max-expansions', '2', '--seed', '3', '--json'], { [KEY_ENV]: SECRET_KEY });
    expect(r.exitCode, r.stderr).toBe(0);
    const snapshot = await (await Archive.open({ repoDir: repo })).load();
    const children = snapshot.nodes.filter((n) => n.operator === 'self');
    expect(children.length).toBeGreaterThan(0);
    const lines = [...snapshot.evaluations.values()].flat();
    expect(lines.length).toBeGreaterThanOrEqual(6);
    expect(lines.every((l) => l.task.startsWith('poly/'))).toBe(true);
    expect(r.stdout).not.toContain(SECRET_KEY);
    expect(JSON.stringify(lines)).not.toContain(SECRET_KEY);
    expect(llm.server.requests.length).toBeGreaterThan(0);
  }, 180_000);
});
