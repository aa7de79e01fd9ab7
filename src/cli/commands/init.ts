import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Archive } from '../../archive/index.js';
import { CONFIG_FILE, ALWAYS_PROTECTED, parseConfigText, stringifyConfig, type ConfigInput } from '../../config/index.js';
import { EvogitError } from '../../errors/index.js';
import { git, parsePorcelainZ } from '../../git/index.js';
import { initAgentTemplate } from '../../agents/self/index.js';
import { detectProject } from '../../tasks/index.js';
import type { CommandOutput, GlobalArgs, Io } from '../index.js';

export interface InitResult {
  root: string;
  configFile: string;
  language: string;
  testCommand: string | string[];
  image: string;
  warnings: string[];
}

export interface InitOptions {
  repoDir: string;
  force?: boolean;
  test?: string;
  image?: string;
  sandbox?: 'docker' | 'local';
  timeout?: string;
  scorer?: ConfigInput['scorer'];
  /** `agent`: the repository is a coding agent (DGM mode), started from agents/seed. */
  template?: 'agent';
}

export async function init(opts: InitOptions): Promise<InitResult> {
  if (opts.template === 'agent') await commitAgentTemplate(opts.repoDir);
  const archive = await Archive.open({ repoDir: opts.repoDir });
  const repoDir = archive.repoDir;
  const configPath = path.join(repoDir, CONFIG_FILE);
  const exists = await access(configPath).then(
    () => true,
    () => false,
  );
  const root = await archive.root();
  if ((exists || root) && !opts.force) {
    throw new EvogitError(
      'E_ALREADY_INITIALISED',
      `${repoDir} is already set up for evogit (${exists ? CONFIG_FILE : `branch ${archive.prefix}/root`} exists)`,
      'Use `evogit status` to see the archive, or `evogit init --force` to start over.',
    );
  }

  const warnings: string[] = [];
  const dirty = await dirtyPaths(repoDir);
  if (dirty.length > 0) {
    warnings.push(
      `${dirty.length} uncommitted change${dirty.length > 1 ? 's' : ''} (${dirty.slice(0, 3).join(', ')}${dirty.length > 3 ? ', …' : ''}) will be ignored: the root is the committed HEAD plus ${CONFIG_FILE}.`,
    );
  }

  const detected = await detectProject(repoDir);
  const testCommand = opts.test ?? detected.testCommand;
  if (!testCommand) {
    throw new EvogitError(
      'E_NO_TEST_COMMAND',
      'could not detect a test command (no package.json test script, pytest, go.mod, Cargo.toml or Makefile test target)',
      'Pass one: `evogit init --test "npm test"`.',
    );
  }
  const config: ConfigInput = {
    version: 1,
    language: detected.language,
    test: {
      command: testCommand,
      install: detected.install,
      protected: [...ALWAYS_PROTECTED],
      // Written out, so the file shows where a run's limit comes from (the README explains auto).
      timeout: opts.timeout ?? 'auto',
    },
    sandbox: { ...(opts.sandbox ? { kind: opts.sandbox } : {}), image: opts.image ?? detected.image },
    ...(opts.scorer ? { scorer: opts.scorer } : {}),
    ...(opts.template === 'agent' ? { dgm: { mode: 'agent' as const }, agents: { kind: 'self' as const } } : {}),
  };
  const text = `# evogit configuration: see the README's config reference, or schema/evogit.schema.json.\n${stringifyConfig(config)}`;
  parseConfigText(text); // what we write must load
  await writeFile(configPath, text);
  await git(repoDir, ['add', '--', CONFIG_FILE]);
  await git(repoDir, ['commit', '--quiet', '--no-verify', '-m', 'evogit: init', '-m', 'The archive root: candidates branch from this commit.', '--', CONFIG_FILE]);
  const head = (await git(repoDir, ['rev-parse', '--verify', 'HEAD^{commit}'])).stdout.trim();
  await archive.createRoot(head, { force: opts.force ?? false });
  return {
    root: head,
    configFile: CONFIG_FILE,
    language: detected.language,
    testCommand,
    image: opts.image ?? detected.image,
    warnings,
  };
}

/** Copy the seed coding agent into the repository and commit it: the agent is the code that evolves. */
async function commitAgentTemplate(repoDir: string): Promise<void> {
  const inRepo = await git(repoDir, ['rev-parse', '--is-inside-work-tree'], { reject: false });
  if (inRepo.exitCode !== 0) {
    throw new EvogitError('E_NOT_A_REPO', `${repoDir} is not a git repository`, 'Create one first: `git init`.');
  }
  const files = await initAgentTemplate(repoDir);
  await git(repoDir, ['add', '--', ...files]);
  await git(repoDir, ['commit', '--quiet', '--no-verify', '-m', 'The seed coding agent (evogit init --template agent)', '--', ...files]);
}

async function dirtyPaths(repoDir: string): Promise<string[]> {
  const out = (await git(repoDir, ['status', '--porcelain=v1', '-z', '--untracked-files=normal'])).stdout;
  return parsePorcelainZ(out).map((e) => e.path);
}


export async function initCommand(a: GlobalArgs & Record<string, unknown>, io: Io): Promise<CommandOutput> {
  const result = await init({
    repoDir: a.C,
    force: Boolean(a.force),
    test: a.test as string | undefined,
    image: a.image as string | undefined,
    sandbox: a.sandbox as 'docker' | 'local' | undefined,
    timeout: a.timeout as string | undefined,
    scorer: a.scorer as ConfigInput['scorer'] | undefined,
    template: a.template as 'agent' | undefined,
  });
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  const cmd = Array.isArray(result.testCommand) ? result.testCommand.join(' ') : result.testCommand;
  const text = [
    `Initialised evogit in ${a.C}`,
    `  language      ${result.language}`,
    `  test command  ${cmd}`,
    `  sandbox image ${result.image}`,
    `  root node     ${result.root.slice(0, 12)} (committed ${result.configFile})`,
    '',
    a.template === 'agent'
      ? 'Next: `evogit tasks import PATH` (a SWE-bench .jsonl or a Polyglot checkout), set dgm.suite.name and agents.llm in evogit.yml, then `evogit dgm run`.'
      : 'Next: `evogit run` to start evolving, `evogit status` to see the archive.',
  ].join('\n');
  return { data: result, text };
}
