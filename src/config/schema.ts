/**
 * The one config schema. `evogit init` writes `evogit.yml`; every field has a description,
 * and `npm run build` also emits schema/evogit.schema.json for editors.
 */
import { z } from 'zod';

const duration = z
  .union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h)$/, 'a duration like "90s", "5m" or "1h"')])
  .describe('A duration: milliseconds as a number, or a string like "90s", "5m", "1h".');

const command = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .describe('A command: a string run by /bin/sh -c inside the sandbox, or an argument array.');

export const ResultFormatSchema = z
  .enum(['auto', 'junit', 'tap', 'vitest-json', 'jest-json', 'pytest', 'go-json', 'libtest-json', 'none'])
  .describe('Which machine-readable output the test runner writes; "auto" picks from the command.');

export const TestSchema = z
  .object({
    command: command.describe('The test command, run in the sandbox from the repository root.'),
    format: ResultFormatSchema.default('auto'),
    resultFile: z.string().optional().describe('File the runner writes its results to, relative to the repo (else stdout is parsed).'),
    install: z
      .array(z.string())
      .default([])
      .describe('Shell lines that install dependencies; run once per lockfile content and cached as an environment image.'),
    setup: z.array(z.string()).default([]).describe('Shell lines run before every task run (e.g. a build step).'),
    tasks: z
      .object({
        mode: z
          .enum(['files', 'shards', 'single'])
          .default('files')
          .describe('files: one task per test file; shards: test files split into N groups; single: the whole suite is one task.'),
        pattern: z
          .array(z.string())
          .default([])
          .describe('Globs that find the test files in the base commit (default: by language).'),
        shards: z.number().int().positive().default(4).describe('Number of shards when mode is "shards".'),
      })
      .prefault({})
      .describe('How the test suite is split into tasks.'),
    evidence: z
      .enum(['tests', 'tasks'])
      .default('tests')
      .describe('Count evidence per test case ("tests", so a partial repair shows progress) or per task run ("tasks").'),
    protected: z
      .array(z.string())
      .default([])
      .describe('Globs of paths a candidate may not change (tests, evaluator config, CI). Always includes evogit.yml.'),
    timeout: z
      .union([z.literal('auto'), duration])
      .default('auto')
      .describe(
        'Limit of one task run. "auto": factor × the root\'s measured run of the same task + plus, at most ceiling (the ceiling until the root has run it); or a fixed duration. The runner gets it as its own per-test timeout where it has one; the container is killed a little after it.',
      ),
    autoTimeout: z
      .object({
        factor: z.number().min(1).default(1.5).describe('Multiplies the root\'s measured run time.'),
        plus: duration.default('5s').describe('Added to factor × the root\'s run time (start-up noise, a slower machine).'),
        ceiling: duration.default('120s').describe('The most a run may take; also the limit before the root has been measured on the task.'),
      })
      .prefault({})
      .describe('How test.timeout "auto" derives a task\'s limit from the root\'s measured run (as mutation testing tools do).'),
    coverage: z
      .boolean()
      .default(true)
      .describe('Record which lines each test runs (node --test, unittest, pytest) to localize faults for the mutate agent; it never changes a grade.'),
    objective: z
      .object({
        metric: z.string().describe('Name of a numeric metric the task prints as JSON (e.g. {"evogit_metrics": {"time_ms": 12}}).'),
        direction: z.enum(['minimize', 'maximize']).default('minimize'),
        margin: z.number().nonnegative().default(0.05).describe('Relative improvement over the root required to pass, e.g. 0.05 = 5%.'),
      })
      .optional()
      .describe('Make a metric the objective with the tests as a gate: a run passes only when its tests pass and the metric beats the root.'),
  })
  .describe('How candidates are validated.');

export const SandboxSchema = z
  .object({
    kind: z.enum(['docker', 'local']).default('docker').describe('docker isolates; local runs on the host and isolates nothing.'),
    image: z.string().default('evogit/node:20').describe('Base image for the environment image (see sandbox/ and `evogit sandbox build`).'),
    memory: z.string().default('1g').describe('Memory limit per run, e.g. "512m", "2g".'),
    cpus: z.number().positive().default(1).describe('CPU limit per run.'),
    pids: z.number().int().positive().default(256).describe('Process limit per run (stops fork bombs).'),
    outputLimit: z.string().default('1m').describe('Cap on captured stdout+stderr per run; the rest is cut with a visible mark.'),
    disk: z
      .string()
      .default('1g')
      .describe('Size of the work dir per run (a tmpfs, so it counts against memory as well); a tree or test output beyond it fails the run.'),
    user: z.string().default('1000:1000').describe('Non-root user the run executes as.'),
    installNetwork: z
      .boolean()
      .default(true)
      .describe('Allow network for the dependency install (test.install) only; task runs never have network.'),
    installTimeout: duration.default('5m').describe('Wall-clock limit of the dependency install. An install that timed out is not run again for the same manifests and install lines (a longer limit retries it).'),
    envCache: z
      .string()
      .default('5g')
      .describe('Most disk the environment images (one per distinct dependency manifests) may take: `evogit gc` removes the least recently used beyond it.'),
  })
  .prefault({})
  .describe('Where task runs execute.');

export const LlmSchema = z
  .object({
    provider: z.enum(['openai', 'anthropic']).default('openai').describe('openai covers every OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp, OpenRouter).'),
    baseUrl: z.string().url().optional().describe('Endpoint base URL, e.g. http://localhost:11434/v1 for Ollama.'),
    model: z.string().default('gpt-4o-mini'),
    apiKeyEnv: z.string().default('OPENAI_API_KEY').describe('Name of the environment variable that holds the key (never the key itself).'),
    maxRounds: z.number().int().positive().default(3).describe('Rounds of feedback when an edit block does not match.'),
    maxTokens: z.number().int().positive().default(4096),
    timeout: duration.default('120s'),
    retries: z.number().int().nonnegative().default(4),
    prices: z
      .record(z.string(), z.object({ input: z.number().nonnegative(), output: z.number().nonnegative() }))
      .default({})
      .describe('USD per million tokens by model name, for cost accounting.'),
    contextChars: z
      .number()
      .int()
      .positive()
      .default(60_000)
      .describe('Characters of file content shown to the model (files named by the failing logs and the goal first).'),
  })
  .prefault({});

export const AgentsSchema = z
  .object({
    kind: z
      .enum(['mutate', 'llm', 'command', 'self', 'crossover'])
      .default('mutate')
      .describe('Which agent proposes edits. mutate needs no LLM and is the offline default.'),
    crossoverRate: z.number().min(0).max(1).default(0).describe('Share of expansions done as a crossover (git merge) of two nodes.'),
    mutate: z
      .object({
        maxEdits: z.number().int().positive().default(2).describe('Most edits per child.'),
        include: z.array(z.string()).default([]).describe('Globs of source files mutation may touch (default: non-test sources).'),
      })
      .prefault({}),
    llm: LlmSchema,
    command: z
      .object({
        run: z.array(z.string()).default([]).describe('Argument template; {goal} {context_file} {worktree} are replaced.'),
        timeout: duration.default('20m'),
        env: z
          .array(z.string())
          .default([])
          .describe('Names of host environment variables passed to the command (secrets are removed otherwise), e.g. ["ANTHROPIC_API_KEY"].'),
      })
      .prefault({}),
    crossover: z
      .object({
        resolve: z
          .enum(['better', 'llm'])
          .default('better')
          .describe('How merge conflicts are resolved: each hunk from the better-scored parent, or by the llm coder (agents.llm).'),
      })
      .prefault({}),
  })
  .prefault({})
  .describe('Who proposes the edits.');

export const ScorerSchema = z
  .object({
    policy: z.enum(['hgm', 'dgm', 'greedy', 'random']).default('hgm').describe('hgm: clade-metaproductivity with Thompson sampling (default).'),
    alpha: z.number().positive().default(0.6).describe('Expand when evaluations^alpha >= nodes - 1 + pending expansions.'),
    tau: z.number().positive().default(1).describe('Thompson-sampling temperature.'),
    cooling: z.number().nonnegative().default(0).describe('beta of the cooling schedule tau = T^beta/(T-t)^beta; 0 = no cooling.'),
    epsilon: z.number().gt(0).lt(1).default(0.05).describe('Final answer: the node with the best epsilon-quantile of Beta(1+pass, 1+fail).'),
    rootPrior: z.number().nonnegative().default(1).describe('Pseudo-successes given to the root so a weak start can be expanded.'),
    promotedBoost: z.number().nonnegative().default(2).describe('Pseudo-successes added to a promoted node.'),
    schedule: z
      .enum(['auto', 'hgm', 'breadth'])
      .optional()
      .describe('Which node hgm expands. auto (default): breadth when every node has at most 3 tasks graded per test case, else hgm. breadth: around the best nodes, never a node worse than its parent unless its clade earned it.'),
    breadth: z.number().int().positive().optional().describe('Breadth schedule: children a node gets before an equally good child of it is expanded (default 50).'),
    seed: z.number().int().optional().describe('Seed for reproducible decisions.'),
  })
  .prefault({})
  .describe('How the next node to expand or evaluate is chosen.');

export const BudgetSchema = z
  .object({
    evaluations: z.number().int().positive().default(100).describe('Total task runs in the archive at which agents stop.'),
    expansions: z.number().int().positive().optional().describe('Total nodes at which agents stop expanding.'),
    time: duration.optional().describe('Wall-clock limit of one `evogit run`.'),
    cost: z.number().nonnegative().optional().describe('Total USD (from Evogit-Cost trailers) at which agents stop.'),
  })
  .prefault({});

export const ForgeSchema = z
  .object({
    repo: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'owner/name').optional().describe('GitHub repository that receives pull requests.'),
    baseUrl: z.string().url().optional().describe('GitHub API base URL (GitHub Enterprise: https://HOST/api/v3).'),
    remote: z.string().default('origin').describe('Git remote the PR branch is pushed to.'),
    base: z.string().optional().describe('Branch the PR targets (default: the branch the root was made from).'),
    auto: z.boolean().default(true).describe('Open PRs automatically during `evogit run` when the rule holds.'),
    labels: z.array(z.string()).default(['evogit']),
    minimize: z.boolean().default(false).describe('Drop hunks not needed to keep the score before opening (re-validated).'),
    rule: z
      .object({
        margin: z.number().min(0).max(1).default(0.1).describe('The node\'s epsilon-quantile pass rate must beat the root\'s by this much.'),
        minEvaluations: z.number().int().nonnegative().default(5),
      })
      .prefault({}),
  })
  .prefault({})
  .describe('Pull requests for promising nodes.');

export const DgmSchema = z
  .object({
    mode: z
      .enum(['project', 'agent'])
      .default('project')
      .describe('project: nodes are the project, graded by its tests; agent (DGM mode): nodes are a coding agent, graded by running it on a task suite.'),
    suite: z
      .object({
        name: z.string().describe('A suite imported with `evogit tasks import` (.evogit/suites/<name>).'),
        split: z.enum(['search', 'selection', 'heldout']).default('search').describe('Which tasks the scorer evaluates nodes on; held-out tasks are only for the final report.'),
      })
      .optional(),
    agentTimeout: duration.default('10m').describe('Wall-clock limit of one run of a node\'s agent program (on a task, or on itself).'),
    maxSteps: z.number().int().positive().default(20).describe('EVOGIT_MAX_STEPS given to the agent program.'),
  })
  .prefault({})
  .describe('Evolving a coding agent itself (Darwin/Huxley-Gödel Machine mode).');

export const TrustSchema = z
  .preprocess(
    (v) => (typeof v === 'string' ? { mode: v } : v),
    z
      .object({
        mode: z
          .enum(['all', 'signed'])
          .default('all')
          .describe('all: every writer\'s refs count once their lines pass the checks; signed: other writers\' nodes and notes count only with a valid signature from a key listed under writers.'),
        writers: z
          .record(z.string(), z.object({ keys: z.array(z.string()).default([]).describe('Public keys: "ssh-ed25519 AAAA…" lines, or GPG fingerprints.') }))
          .default({})
          .describe('Signing keys per writer name, for mode: signed.'),
        promoters: z
          .array(z.string())
          .default([])
          .describe('Writers whose promotion tags (<prefix>-promoted/<writer>/<sha12>) count; "*" for anyone. Tags made on this machine always count.'),
        verify: z
          .boolean()
          .default(true)
          .describe('Before `evogit best` names a node on other writers\' evidence, and before a PR, re-run its passing tasks here; a mismatch disputes their lines.'),
      })
      .prefault({}),
  )
  .describe('Which writers of a shared remote are believed, and how much (see the security model in the README).');

export const ConfigSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1).default(1).describe('Config format version.'),
    goal: z.string().default('Make the failing tests pass without breaking the passing ones.').describe('What the agents work towards, in words.'),
    language: z.enum(['javascript', 'typescript', 'python', 'go', 'rust', 'other']).default('other'),
    branchPrefix: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'one path segment of letters, digits, dot, dash or underscore')
      .default('evo')
      .describe('Nodes live at <prefix>/<writer>/<seq>; the root at <prefix>/root.'),
    test: TestSchema,
    sandbox: SandboxSchema,
    agents: AgentsSchema,
    scorer: ScorerSchema,
    budget: BudgetSchema,
    forge: ForgeSchema,
    dgm: DgmSchema,
    trust: TrustSchema,
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
