import { access } from 'node:fs/promises';
import path from 'node:path';
import { Archive, rootRefOf } from '../../archive/index.js';
import { CONFIG_FILE, ALWAYS_PROTECTED, parseConfigText, stringifyConfig, type ConfigInput } from '../../config/index.js';
import { EvogitError } from '../../errors/index.js';
import { checkOutFiles, commitFilesOnHead } from '../../git/commit-files.js';
import { git, parseNulList, parsePorcelainZ } from '../../git/index.js';
import { agentTemplateFiles, seedAgentDir } from '../../agents/self/index.js';
import { detectProject, testCommandHint } from '../../tasks/index.js';
import type { CommandOutput, GlobalArgs, Io } from '../context.js';

export interface InitResult {
  root: string;
  configFile: string;
  language: string;
  testCommand: string | string[];
  image: string;
  /** Paths protected beyond the tests, the CI files and evogit.yml (--protect). */
  protect: string[];
  /** What the mutate agent may edit (--include); empty: any file the failing tests reach. */
  include: string[];
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
  /** More paths no candidate may change (test.protected), beyond the tests and CI files. */
  protect?: string[];
  /** The only files the mutate agent edits (agents.mutate.include). */
  include?: string[];
}

/**
 * Write evogit.yml and record the root, atomically: the commit (evogit.yml, with the seed agent's
 * files for `--template agent`) is made without touching the index or the working tree, and
 * HEAD's branch and evo/root move in one ref transaction. Killed before it, the repository is
 * as it was; killed after it, the next `evogit init` finishes the working tree (interruptedInit).
 */
export async function init(opts: InitOptions): Promise<InitResult> {
  const repoDir = await topLevel(opts.repoDir);
  const head = await git(repoDir, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { reject: false });
  const headCommit = head.exitCode === 0 ? head.stdout.trim() : null;
  const template = opts.template === 'agent' ? await agentTemplateFiles(repoDir) : [];
  // An empty repository can only start from the seed agent; anything else needs a commit.
  const archive = headCommit !== null || template.length === 0 ? await Archive.open({ repoDir }) : null;
  const configPath = path.join(repoDir, CONFIG_FILE);
  const exists = await access(configPath).then(
    () => true,
    () => false,
  );
  const root = archive ? await archive.root() : null;
  if (root && !exists && !opts.force && headCommit === root) {
    const finished = await interruptedInit(repoDir, root);
    if (finished) return finished;
  }
  if ((exists || root) && !opts.force) {
    throw new EvogitError(
      'E_ALREADY_INITIALISED',
      `${repoDir} is already set up for evogit (${exists ? CONFIG_FILE : `branch ${archive?.prefix ?? 'evo'}/root`} exists)`,
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

  // The seed agent's files are not in the working tree yet: detect the project from them.
  const detected = await detectProject(template.length ? seedAgentDir() : repoDir);
  const testCommand = opts.test ?? detected.testCommand;
  if (!testCommand) {
    const files = (await git(repoDir, ['ls-files', '-z'])).stdout.split('\0').filter(Boolean);
    throw new EvogitError(
      'E_NO_TEST_COMMAND',
      'could not detect a test command (no package.json, no Python manifest, pytest layout or test_*.py file, no go.mod, Cargo.toml or Makefile test target)',
      `Pass one: \`${testCommandHint(files)}\`.`,
    );
  }
  const config: ConfigInput = {
    version: 1,
    language: detected.language,
    test: {
      command: testCommand,
      install: detected.install,
      protected: [...ALWAYS_PROTECTED, ...(opts.protect ?? []).filter((p) => !ALWAYS_PROTECTED.includes(p))],
      // Written out, so the file shows where a run's limit comes from (the README explains auto).
      timeout: opts.timeout ?? 'auto',
    },
    sandbox: { ...(opts.sandbox ? { kind: opts.sandbox } : {}), image: opts.image ?? detected.image },
    ...(opts.scorer ? { scorer: opts.scorer } : {}),
    ...(opts.template === 'agent' ? { dgm: { mode: 'agent' as const }, agents: { kind: 'self' as const } } : opts.include?.length ? { agents: { mutate: { include: opts.include } } } : {}),
  };
  const text = `# evogit configuration: see the README's config reference, or schema/evogit.schema.json.\n${stringifyConfig(config)}`;
  parseConfigText(text); // what we write must load
  const files = [...template, { path: CONFIG_FILE, content: text }];
  const message = `evogit: init${template.length ? ' (the seed coding agent)' : ''}\n\nThe archive root: candidates branch from this commit.\n`;
  const { commit } = await commitFilesOnHead(repoDir, { head: headCommit, files, message, also: [{ ref: rootRefOf(archive?.prefix), old: root }] });
  await checkOutFiles(repoDir, commit, files.map((f) => f.path));
  return {
    root: commit,
    configFile: CONFIG_FILE,
    language: detected.language,
    testCommand,
    image: opts.image ?? detected.image,
    protect: (opts.protect ?? []).filter((p) => !ALWAYS_PROTECTED.includes(p)),
    include: opts.include ?? [],
    warnings,
  };
}

/**
 * An init killed after its ref transaction left the root commit (HEAD is the root) with files
 * the working tree lacks: bring them in, and say so. Null when that is not what happened.
 */
async function interruptedInit(repoDir: string, root: string): Promise<InitResult | null> {
  const added = parseNulList((await git(repoDir, ['diff-tree', '--root', '--no-commit-id', '--name-only', '--diff-filter=AM', '-r', '-z', root])).stdout);
  if (!added.includes(CONFIG_FILE)) return null;
  const missing: string[] = [];
  for (const f of added) if (!(await access(path.join(repoDir, f)).then(() => true, () => false))) missing.push(f);
  await checkOutFiles(repoDir, root, missing);
  const config = parseConfigText((await git(repoDir, ['show', `${root}:${CONFIG_FILE}`])).stdout);
  const protect = config.test.protected.filter((p) => !ALWAYS_PROTECTED.includes(p));
  return { root, configFile: CONFIG_FILE, language: config.language, testCommand: config.test.command, image: config.sandbox.image, protect, include: config.agents.mutate.include, warnings: [`finished an interrupted \`evogit init\`: ${missing.join(', ')} checked out from the root ${root.slice(0, 12)}`] };
}

async function topLevel(dir: string): Promise<string> {
  const r = await git(dir, ['rev-parse', '--show-toplevel'], { reject: false });
  if (r.exitCode !== 0) throw new EvogitError('E_NOT_A_REPO', `${dir} is not a git repository`, 'Create one first: `git init`.');
  return r.stdout.trim();
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
    ...(a.protect ? { protect: (a.protect as unknown[]).map(String) } : {}),
    ...(a.include ? { include: (a.include as unknown[]).map(String) } : {}),
  });
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  const cmd = Array.isArray(result.testCommand) ? result.testCommand.join(' ') : result.testCommand;
  const text = [
    `Initialised evogit in ${a.C}`,
    `  language      ${result.language}`,
    `  test command  ${cmd}`,
    `  sandbox image ${result.image}`,
    ...(result.protect.length ? [`  protected     ${result.protect.join(', ')} (and every test file, CI file and evogit.yml)`] : []),
    ...(result.include.length ? [`  mutate edits  only ${result.include.join(', ')}`] : []),
    `  root node     ${result.root.slice(0, 12)} (committed ${result.configFile})`,
    '',
    a.template === 'agent'
      ? 'Next: `evogit tasks import PATH` (a SWE-bench .jsonl or a Polyglot checkout), set dgm.suite.name and agents.llm in evogit.yml, then `evogit dgm run`.'
      : 'Next: `evogit run` to start evolving, `evogit status` to see the archive.',
  ].join('\n');
  return { data: result, text };
}
