/** The command agent runs a real scripted CLI "agent" (a node script) on a real temp repo. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CommandAgent, expandTemplate, type CommandTranscript } from '../../src/agents/command/index.js';
import { revParse, tempDir } from '../helpers/repo.js';
import { agentInput, config, tempRepo, type TempRepo } from './llm-fixtures.js';

const CALC = 'export function add(a, b) {\n  return a - b;\n}\n';

// A tiny CLI coding agent: reads the context file, fixes the sign, reports on stdout.
const FIXER = `
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
const context = readFileSync(arg('--context'), 'utf8');
if (!context.includes(arg('--goal'))) { console.error('goal missing from context'); process.exit(2); }
const file = arg('--dir') + '/src/calc.js';
writeFileSync(file, readFileSync(file, 'utf8').replace('a - b', 'a + b'));
console.log('fixed add; saw key=' + (process.env.EVOGIT_TEST_CMD_KEY ?? 'none') + ' openai=' + (process.env.OPENAI_API_KEY ?? 'none'));
console.error('some progress on stderr');
if (process.argv.includes('--commit')) execFileSync('git', ['commit', '-qam', 'agent commit'], { cwd: arg('--dir') });
`;
const SLEEPER = `
import { writeFileSync } from 'node:fs';
writeFileSync(process.argv[2], String(process.pid));
setInterval(() => {}, 1000);
`;

let scripts: string;
beforeAll(async () => {
  scripts = await tempDir('evogit-cli-');
  await writeFile(path.join(scripts, 'fixer.mjs'), FIXER);
  await writeFile(path.join(scripts, 'sleeper.mjs'), SLEEPER);
});

describe('command agent', () => {
  let repo: TempRepo;
  afterEach(async () => {
    await repo?.cleanup();
    delete process.env.EVOGIT_TEST_CMD_KEY;
    delete process.env.OPENAI_API_KEY;
  });

  const template = (...extra: string[]): string[] => [process.execPath, path.join(scripts, 'fixer.mjs'), '--context', '{context_file}', '--goal', '{goal}', '--dir', '{worktree}', ...extra];

  it('fills the template without a shell and without re-expanding the goal', () => {
    expect(expandTemplate(['tool', '--msg={goal}', '{worktree}'], { goal: 'fix {worktree}; rm -rf /', context_file: '/c', worktree: '/w' })).toEqual({
      command: 'tool',
      args: ['--msg=fix {worktree}; rm -rf /', '/w'],
    });
  });

  it('runs the CLI on the worktree and records its edit and output', async () => {
    repo = await tempRepo({ 'src/calc.js': CALC });
    process.env.EVOGIT_TEST_CMD_KEY = 'sk-test-SECRET123';
    process.env.OPENAI_API_KEY = 'sk-host-not-passed';
    const cfg = config({ agents: { command: { run: template(), timeout: '30s', env: ['EVOGIT_TEST_CMD_KEY'] } } });
    const input = await agentInput(repo.dir, { config: cfg, goal: 'Make add add; it subtracts.' });
    const out = await new CommandAgent().propose(input);
    expect(out).toMatchObject({ outcome: 'edited', operator: 'command', cost: 0 });
    expect(await readFile(path.join(repo.dir, 'src/calc.js'), 'utf8')).toContain('a + b');
    const transcript = JSON.parse(await readFile(out.transcript!, 'utf8')) as CommandTranscript;
    expect(transcript.changedFiles).toEqual(['src/calc.js']);
    expect(transcript.exitCode).toBe(0);
    expect(transcript.args).toContain('Make add add; it subtracts.');
    expect(transcript.stderrTail).toContain('some progress on stderr');
    // The named variable reached the CLI (and is scrubbed from the record); other secrets did not.
    expect(transcript.stdoutTail).toContain('saw key=[redacted] openai=none');
    expect(JSON.stringify(transcript)).not.toContain('SECRET123');
    expect(await readFile(path.join(input.transcriptDir, 'context.md'), 'utf8')).toContain('# Goal');
  });

  it('undoes a commit the CLI made and keeps its edit for the loop to commit', async () => {
    repo = await tempRepo({ 'src/calc.js': CALC });
    const input = await agentInput(repo.dir, { config: config({ agents: { command: { run: template('--commit') } } }) });
    const out = await new CommandAgent().propose(input);
    expect(out.outcome).toBe('edited');
    expect(await revParse(repo.dir)).toBe(input.parent.id);
    const transcript = JSON.parse(await readFile(out.transcript!, 'utf8')) as CommandTranscript;
    expect(transcript.undidCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(await readFile(path.join(repo.dir, 'src/calc.js'), 'utf8')).toContain('a + b');
  });

  it('records no-edit when the CLI changes nothing', async () => {
    repo = await tempRepo({ 'src/calc.js': CALC });
    const input = await agentInput(repo.dir, { config: config({ agents: { command: { run: [process.execPath, '-e', 'console.log("nothing to do")'] } } }) });
    const out = await new CommandAgent().propose(input);
    expect(out.outcome).toBe('no-edit');
    expect(out.reason).toMatch(/changed nothing/);
  });

  it('kills a CLI that runs past its timeout', async () => {
    repo = await tempRepo({ 'src/calc.js': CALC });
    const pidFile = path.join(scripts, 'sleeper.pid');
    const input = await agentInput(repo.dir, { config: config({ agents: { command: { run: [process.execPath, path.join(scripts, 'sleeper.mjs'), pidFile], timeout: '700ms' } } }) });
    const started = Date.now();
    const out = await new CommandAgent().propose(input);
    expect(out.outcome).toBe('failed');
    expect(out.reason).toMatch(/timed out after 700 ms and was killed/);
    expect(Date.now() - started).toBeLessThan(6000);
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('fails clearly when the command does not exist or is not configured', async () => {
    repo = await tempRepo({ 'src/calc.js': CALC });
    const missing = await new CommandAgent().propose(await agentInput(repo.dir, { config: config({ agents: { command: { run: ['evogit-no-such-cli-xyz'] } } }) }));
    expect(missing).toMatchObject({ outcome: 'failed' });
    expect(missing.reason).toMatch(/could not start evogit-no-such-cli-xyz/);
    const empty = await new CommandAgent().propose(await agentInput(repo.dir));
    expect(empty.reason).toMatch(/agents.command.run is empty/);
  });
});
