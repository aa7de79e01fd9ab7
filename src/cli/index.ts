/**
 * The CLI only declares commands and flags; each command is a plain async function in
 * ./commands that returns data, imported lazily, and rendered as text or (--json) as JSON.
 * Errors are caught in one place and mapped to the documented exit codes.
 */
import path from 'node:path';
import yargs, { type Argv } from 'yargs';
import { EXIT, EvogitError, UsageError, formatError } from '../errors/index.js';
import { packageVersion, type CommandOutput, type GlobalArgs, type Io } from './context.js';

export type { CommandOutput, GlobalArgs, Io } from './context.js';
export { packageRoot, packageVersion } from './context.js';

const defaultIo: Io = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  isTTY: Boolean(process.stdout.isTTY) && !process.env.CI,
};

type Handler = (args: GlobalArgs & Record<string, unknown>, io: Io) => Promise<CommandOutput>;

function commands(y: Argv, pending: { handler?: Handler }): Argv {
  const on = (handler: Handler) => () => {
    pending.handler = handler;
  };
  return y
    .command(
      'init',
      'Set up evogit in this repository: write evogit.yml, detect the test command, record the root node',
      (b) =>
        b
          .option('force', { type: 'boolean', default: false, describe: 'Re-initialise: overwrite evogit.yml and move the root' })
          .option('test', { type: 'string', describe: 'The test command (default: detected)' })
          .option('image', { type: 'string', describe: 'The sandbox base image (default: by language)' })
          .option('sandbox', { type: 'string', choices: ['docker', 'local'], describe: 'sandbox.kind: docker (default) or local (isolates nothing)' })
          .option('timeout', { type: 'string', describe: 'test.timeout: limit of one task run, e.g. 30s, or auto (default: from the root\'s measured run, at most 120s)' })
          .option('template', { type: 'string', choices: ['agent'], describe: 'agent: start a coding-agent repository from the seed agent (DGM mode)' })
          .option('protect', { type: 'string', array: true, describe: 'A glob no candidate may change (test.protected; repeatable), beyond the tests, CI files and evogit.yml' })
          .option('include', { type: 'string', array: true, describe: 'A glob of the files the mutate agent edits (agents.mutate.include; repeatable)' }),
      on(async (a, io) => (await import('./commands/init.js')).initCommand(a, io)),
    )
    .command(
      'status',
      'Draw the archive: every node with its scores, pruned and promoted marks',
      (b) => b,
      on(async (a) => (await import('./commands/status.js')).statusCommand(a)),
    )
    .command(
      'show <node>',
      'Explain one node: lineage, evaluations, diff stat against its parent and the root',
      (b) =>
        b
          .positional('node', { type: 'string', demandOption: true, describe: 'Branch, full or short SHA' })
          .option('log', { type: 'string', describe: 'Print the full log of this task run' }),
      on(async (a) => (await import('./commands/show.js')).showCommand(a)),
    )
    .command(
      'prune <node>',
      'Delete a node\'s branch so no agent expands it again (plain `git branch -D` does the same)',
      (b) =>
        b
          .positional('node', { type: 'string', demandOption: true })
          .option('clade', { type: 'boolean', default: false, describe: 'Also prune every descendant' }),
      on(async (a) => (await import('./commands/prune.js')).pruneCommand(a)),
    )
    .command(
      'promote <node>',
      'Mark a node as promising (a tag): the scorer favours it and it may become a PR',
      (b) =>
        b
          .positional('node', { type: 'string', demandOption: true })
          .option('writer', { type: 'string', describe: 'Sign the tag with this writer name (<prefix>-promoted/<writer>/<sha12>): it counts on machines whose trust.promoters list it' }),
      on(async (a) => (await import('./commands/prune.js')).promoteCommand(a)),
    )
    .command(
      'report',
      'Write the archive as one self-contained HTML file: the tree, each node\'s diff and runs, the run over time',
      (b) =>
        b
          .option('out', { type: 'string', describe: 'The HTML file to write (default: evogit-report.html)', requiresArg: true })
          .option('open', { type: 'boolean', default: false, describe: 'Open it in the desktop\'s browser' }),
      on(async (a) => (await import('./commands/report.js')).reportCommand(a)),
    )
    .command(
      'run',
      'Start N independent agents on this repository and show their progress; Ctrl-C stops them cleanly',
      (b) =>
        runOptions(b)
          .option('agents', { type: 'number', default: 2, describe: 'How many agent processes' })
          .option('report', { type: 'string', describe: 'Keep this HTML report up to date during the run (see `evogit report`)', requiresArg: true }),
      on(async (a, io) => (await import('./commands/run.js')).runCommand(a, io)),
    )
    .command(
      'agent',
      'Run one independent agent in the foreground (what `evogit run` starts N of; use it on other machines with --remote)',
      (b) => runOptions(b).option('writer', { type: 'string', describe: 'This agent\'s name: its branches live under <prefix>/<writer>/ (default: a1, or <host>-a1 with --remote)' }),
      on(async (a, io) => (await import('./commands/agent.js')).agentCommand(a, io)),
    )
    .command(
      'eval <commit>',
      'Run tasks on any commit (a node, or one made by hand) in the sandbox and record the results',
      (b) =>
        b
          .positional('commit', { type: 'string', demandOption: true, describe: 'Branch, tag or SHA' })
          .option('task', { type: 'string', array: true, describe: 'Only these task ids (repeatable; default: all)' })
          .option('writer', { type: 'string', default: 'eval', describe: 'Whose notes ref records the runs (refs/notes/evogit/<writer>)' }),
      on(async (a, io) => (await import('./commands/eval.js')).evalCommand(a, io)),
    )
    .command(
      'best',
      'The final answer: the node with the best lower bound on its pass rate, with its evidence',
      (b) => b.option('verify', { type: 'boolean', describe: 'Re-run here the tasks other writers say it passed before naming it (default: trust.verify); --no-verify skips that' }),
      on(async (a) => (await import('./commands/best.js')).bestCommand(a)),
    )
    .command(
      'pr <node>',
      'Open a GitHub pull request for a node that meets the PR rule (GITHUB_TOKEN), once',
      (b) =>
        b
          .positional('node', { type: 'string', demandOption: true })
          .option('dry-run', { type: 'boolean', default: false, describe: 'Print the body and the requests; send and push nothing' }),
      on(async (a) => (await import('./commands/maintenance.js')).prCommand(a)),
    )
    .command(
      'remote-hook',
      'Print a pre-receive hook for a self-hosted bare remote: each writer may write only its own refs, and the root never moves',
      (b) => b.option('prefix', { type: 'string', describe: 'The archive\'s branch prefix (default: branchPrefix in evogit.yml, else evo)' }),
      on(async (a) => (await import('./commands/maintenance.js')).remoteHookCommand(a)),
    )
    .command(
      'gc',
      'Remove containers left behind by evogit processes that died, and environment images beyond sandbox.envCache (least recently used first)',
      (b) => b,
      on(async (a) => (await import('./commands/maintenance.js')).gcCommand(a)),
    )
    .command(
      'sandbox <action>',
      'Build the sandbox base images (evogit/node:20, evogit/python:3), and with --lang the language images of benchmark suites',
      (b) =>
        b
          .positional('action', { type: 'string', choices: ['build'], demandOption: true })
          .option('offline', { type: 'boolean', default: false, describe: 'No registry: build from this machine\'s own node, npm, python3 and toolchains (installed Debian packages, rustup)' })
          .option('lang', { type: 'string', array: true, describe: 'Also these language images: cpp, go, java, javascript, rust, or all (comma-separated or repeated)' })
          .option('force', { type: 'boolean', default: false, describe: 'Rebuild even when the images exist' }),
      on(async (a) => (await import('./commands/maintenance.js')).sandboxBuildCommand(a)),
    )
    .command(
      'tasks <action> [args..]',
      'Benchmark task suites (SWE-bench JSON Lines, Polyglot exercises): import PATH, list [SUITE], grade SUITE TASK, validate SUITE',
      (b) =>
        b
          .positional('action', { type: 'string', choices: ['import', 'list', 'grade', 'validate'], demandOption: true })
          .positional('args', { type: 'string', array: true, describe: 'import: a .jsonl file (SWE-bench) or a Polyglot checkout; list: [SUITE]; grade: SUITE TASK; validate: SUITE' })
          .option('format', { type: 'string', choices: ['swe', 'polyglot'], describe: 'import: default from the path' })
          .option('name', { type: 'string', describe: 'import: suite name (default: from the path)' })
          .option('split', { type: 'string', describe: 'import: search,selection,held-out fractions (default 0.6,0.2,0.2)' })
          .option('seed', { type: 'number', describe: 'import: seed of the split' })
          .option('force', { type: 'boolean', default: false, describe: 'import: replace a suite of the same name' })
          .option('validate', { type: 'boolean', default: false, describe: 'import: run each SWE instance at its base first; refuse the import if a FAIL_TO_PASS test passes there or a PASS_TO_PASS test fails' })
          .option('patch', { type: 'string', describe: 'grade: a unified diff against the task\'s base' })
          .option('solution', { type: 'string', describe: 'grade: a folder of files named as the exercise\'s solution files' })
          .option('reference', { type: 'boolean', default: false, describe: 'grade: the exercise\'s own reference solution (Polyglot)' })
          .option('log', { type: 'boolean', default: false, describe: 'grade: print the run\'s log' })
          .option('task', { type: 'string', array: true, describe: 'validate: only these task ids' }),
      on(async (a) => {
        const m = await import('./commands/tasks.js');
        const args = ((a.args as string[] | undefined) ?? []).map(String);
        const want = (n: number, usage: string): void => {
          if (args.length !== n) throw new UsageError(`usage: evogit tasks ${usage}`);
        };
        switch (a.action) {
          case 'list':
            if (args.length > 1) throw new UsageError('usage: evogit tasks list [SUITE]');
            return m.tasksListCommand({ ...a, suite: args[0] });
          case 'grade':
            want(2, 'grade SUITE TASK [--patch FILE | --solution DIR | --reference]');
            return m.tasksGradeCommand({ ...a, suite: args[0], task: args[1] });
          case 'validate':
            want(1, 'validate SUITE [--task ID…]');
            return m.tasksValidateCommand({ ...a, suite: args[0] });
          default:
            if (args.length !== 1) throw new UsageError('`evogit tasks import` needs a path: a .jsonl file or a Polyglot checkout');
            return m.tasksImportCommand({ ...a, path: args[0] });
        }
      }),
    )
    .command(
      'dgm <action>',
      'DGM mode: evolve a coding agent on a task suite (run), or score the best agent against the root on held-out tasks (report)',
      (b) =>
        b
          .positional('action', { type: 'string', choices: ['run', 'report'], demandOption: true })
          .option('suite', { type: 'string', describe: 'Suite name (default: dgm.suite.name)' })
          .option('split', { type: 'string', choices: ['search', 'selection'], describe: 'Which split the search runs on' })
          .option('writer', { type: 'string', describe: 'Whose refs record the work' })
          .option('max-evals', { type: 'number', describe: 'Evaluation budget' })
          .option('max-expansions', { type: 'number', describe: 'Node budget' })
          .option('seed', { type: 'number' }),
      on(async (a, io) => {
        const m = await import('./commands/dgm.js');
        return a.action === 'run' ? m.dgmRunCommand(a, io) : m.dgmReportCommand(a);
      }),
    )
    .command(
      'demo',
      'Evolve the bundled example library with the offline mutate agent (Docker when reachable, else local processes)',
      (b) =>
        runOptions(b)
          .option('dir', { type: 'string', default: 'evogit-demo', describe: 'Where to create the demo repository' })
          .option('agents', { type: 'number', default: 2, describe: 'How many agent processes' }),
      on(async (a, io) => (await import('./commands/demo.js')).demoCommand(a, io)),
    );
}

function runOptions(b: Argv): Argv {
  return b
    .option('agent', { type: 'string', choices: ['mutate', 'llm', 'command', 'self', 'crossover'], describe: 'Agent kind (default: agents.kind in evogit.yml)' })
    .option('max-evals', { type: 'number', describe: 'Evaluation budget for the whole archive (default: budget.evaluations)' })
    .option('max-expansions', { type: 'number', describe: 'Node budget for the whole archive' })
    .option('max-time', { type: 'string', describe: 'Wall-clock limit of this run, e.g. 30m' })
    .option('max-cost', { type: 'number', describe: 'USD limit for the whole archive' })
    .option('seed', { type: 'number', describe: 'Seed for reproducible decisions and edits' })
    .option('remote', { type: 'string', describe: 'Share the archive through this git remote (URL or name)' })
    .option('sandbox', { type: 'string', choices: ['docker', 'local'], describe: 'Override sandbox.kind' });
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const pending: { handler?: Handler } = {};
  let usageProblem: string | null = null;
  let helpOrVersion = false;
  const parser = commands(
    yargs(argv)
      .scriptName('evogit')
      .usage('$0 <command> [options]\n\nEvolve a git repository with independent coding agents, a sandbox that validates every commit, and a clade-metaproductivity scorer.')
      .option('C', { type: 'string', default: '.', describe: 'Run as if started in this directory (like git -C)', global: true, requiresArg: true })
      .option('json', { type: 'boolean', default: false, describe: 'Print machine-readable JSON instead of text', global: true })
      .strict()
      .demandCommand(1, 'Name a command.')
      .recommendCommands()
      .version(packageVersion())
      .help()
      .alias('h', 'help')
      .wrap(Math.min(100, process.stdout.columns || 100))
      .exitProcess(false)
      .fail((msg, err) => {
        if (err) throw err;
        usageProblem = msg;
      }),
    pending,
  );
  let output = '';
  try {
    const args = (await parser.parseAsync(argv, {}, (_err, _argv, out) => {
      output = out;
    })) as unknown as GlobalArgs & Record<string, unknown>;
    if (usageProblem !== null) throw new UsageError(String(usageProblem));
    if (!pending.handler) {
      helpOrVersion = true;
      if (output) io.stdout(output.endsWith('\n') ? output : `${output}\n`);
      return EXIT.ok;
    }
    const result = await pending.handler({ ...args, C: path.resolve(String(args.C ?? '.')) }, io);
    const json = result.jsonLines ? JSON.stringify({ type: 'result', ...(result.data as object) }) : JSON.stringify(result.data, null, 2);
    io.stdout(args.json ? `${json}\n` : result.text.endsWith('\n') || !result.text ? result.text : `${result.text}\n`);
    return result.exitCode ?? EXIT.ok;
  } catch (e) {
    if (helpOrVersion) return EXIT.ok;
    return reportError(e, io);
  }
}

export function reportError(e: unknown, io: Io): number {
  if (e instanceof EvogitError) {
    io.stderr(`${formatError(e)}\n`);
    return e.exitCode;
  }
  io.stderr(`evogit: internal error (a bug; please report it with this trace)\n${e instanceof Error ? e.stack : String(e)}\n`);
  return EXIT.internal;
}
