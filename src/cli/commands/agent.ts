import { hostname } from 'node:os';
import { loadConfig, parseDuration, type Config } from '../../config/index.js';
import { UsageError } from '../../errors/index.js';
import { budgetFromConfig, runAgentLoop, type LoopEvent } from '../../loop/index.js';
import { renderEvent } from '../../report/events.js';
import type { CommandOutput, GlobalArgs, Io } from '../context.js';

/** Flags shared by `evogit run` and `evogit agent` that override the config. */
export interface RunFlags {
  agent?: Config['agents']['kind'];
  maxEvals?: number;
  maxExpansions?: number;
  maxTime?: string;
  maxCost?: number;
  seed?: number;
  remote?: string;
}

export function budgetFlags(config: Config, f: RunFlags) {
  return budgetFromConfig(config, {
    ...(f.maxEvals !== undefined ? { evaluations: f.maxEvals } : {}),
    ...(f.maxExpansions !== undefined ? { expansions: f.maxExpansions } : {}),
    ...(f.maxTime !== undefined ? { timeMs: parseDuration(f.maxTime) } : {}),
    ...(f.maxCost !== undefined ? { costUsd: f.maxCost } : {}),
  });
}

export function defaultWriter(index: number, remote: string | undefined): string {
  const host = hostname().toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'host';
  return remote ? `${host}-a${index}` : `a${index}`;
}

/** `evogit agent`: one independent agent process in the foreground. */
export async function agentCommand(a: GlobalArgs & Record<string, unknown> & RunFlags, io: Io): Promise<CommandOutput> {
  const writer = (a.writer as string | undefined) ?? defaultWriter(1, a.remote);
  if (!/^[A-Za-z0-9._-]+$/.test(writer)) throw new UsageError(`--writer "${writer}" must be letters, digits, dot, dash or underscore`);
  const loaded = await loadConfig(a.C);
  const sandboxKind = a.sandbox as Config['sandbox']['kind'] | undefined;
  const config: Config = sandboxKind ? { ...loaded, sandbox: { ...loaded.sandbox, kind: sandboxKind } } : loaded;
  disableAutoGc();
  const controller = new AbortController();
  // `on`, not `once`: execa's exit hook (signal-exit) re-raises a signal that finds no other
  // listener, so a `once` listener, removed while it runs, let the first Ctrl-C kill the agent
  // mid-write instead of stopping it. One Ctrl-C reaches an agent twice: as SIGINT from the
  // terminal to the whole group, and as SIGTERM forwarded by `evogit run` (late, on a loaded
  // machine). Only the same signal again, a second press, kills.
  const first = new Map<NodeJS.Signals, number>();
  const stop = (signal: NodeJS.Signals) => {
    const at = first.get(signal);
    if (at !== undefined && Date.now() - at > 1000) process.exit(signal === 'SIGINT' ? 130 : 143);
    if (at === undefined) first.set(signal, Date.now());
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const events: LoopEvent[] = [];
  try {
    const result = await runAgentLoop({
      repoDir: a.C,
      config,
      writer,
      budget: budgetFlags(config, a),
      ...(a.seed !== undefined ? { seed: a.seed } : {}),
      ...(a.remote ? { remote: a.remote } : {}),
      ...(a.agent ? { agentKind: a.agent } : {}),
      signal: controller.signal,
      emit: (e) => {
        if (a.json) io.stdout(`${JSON.stringify(e)}\n`);
        else {
          const line = renderEvent(e);
          if (line) io.stderr(`${line}\n`);
        }
        events.push(e);
      },
    });
    return { data: result, text: `${writer}: ${result.reason} (${result.expansions} expansions, ${result.evaluations} evaluations, ${result.rejected} rejected)`, ...(a.json ? { jsonLines: true } : {}) };
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/**
 * Agents write objects and refs all the time; git's auto-gc would start (and detach) a repack
 * inside any of them, racing the other agents and outliving the process. The loop runs
 * `git gc --auto` itself, in the foreground, when an agent stops.
 */
function disableAutoGc(): void {
  // GIT_CONFIG_PARAMETERS, not GIT_CONFIG_KEY_<n>: the child-process wrapper drops every
  // variable named like *_KEY_* as a possible secret, which left git a dangling GIT_CONFIG_COUNT.
  const extra = "'gc.auto=0' 'maintenance.auto=false'";
  const had = process.env.GIT_CONFIG_PARAMETERS;
  process.env.GIT_CONFIG_PARAMETERS = had ? `${had} ${extra}` : extra;
}
