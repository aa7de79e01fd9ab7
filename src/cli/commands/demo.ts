import { cp, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { git } from '../../git/index.js';
import { EvogitError, errorMessage } from '../../errors/index.js';
import { buildSandboxImages, dockerReachable } from '../../sandbox/index.js';
import { packageRoot, type CommandOutput, type GlobalArgs, type Io } from '../context.js';
import { initCommand } from './init.js';
import { runCommand } from './run.js';

/** The sandbox image the example runs in (init picks it for JavaScript). */
const DEMO_IMAGE = 'evogit/node:20';

/**
 * Is Docker usable for the demo, building `image` when a daemon answers and lacks it: from
 * this machine's own node (sandbox/build-offline.sh, seconds, no registry), else with
 * `docker build` from a registry. One line says so; a build that fails leaves the answer
 * "no" with both reasons, and the demo runs in local processes.
 */
export async function ensureDemoImage(image: string, io: Io): Promise<{ ok: boolean; detail: string }> {
  const found = await dockerReachable(image);
  if (found.ok || !(await dockerReachable()).ok) return found;
  io.stderr(`Sandbox: Docker has no image ${image}; building it once from this machine's node (no registry needed) …\n`);
  const reasons: string[] = [];
  for (const offline of [true, false]) {
    try {
      await buildSandboxImages({ offline, tags: [image] });
      const built = await dockerReachable(image);
      if (built.ok) return { ok: true, detail: `image ${image}, built ${offline ? 'offline from this machine' : 'from a registry'}` };
    } catch (e) {
      reasons.push(errorMessage(e));
    }
  }
  return { ok: false, detail: `the daemon has no image ${image} and building it failed (${reasons.join('; ')})` };
}

/**
 * The README's first command: copy the bundled example library (real failing tests, several
 * bugs) into a fresh repository, initialise it, and evolve it with the offline mutate agent.
 */
export async function demoCommand(a: GlobalArgs & Record<string, unknown>, io: Io): Promise<CommandOutput> {
  const dir = path.resolve(a.C, String(a.dir ?? 'evogit-demo'));
  const existing = await readdir(dir).catch(() => null);
  if (existing && existing.length > 0) {
    throw new EvogitError('E_DEMO_EXISTS', `${dir} already exists and is not empty`, 'Remove it, or pass another place with `--dir`.');
  }
  await mkdir(dir, { recursive: true });
  await cp(path.join(packageRoot(), 'examples', 'demo'), dir, { recursive: true });
  await git(dir, ['init', '--quiet', '--initial-branch=main']);
  await git(dir, ['add', '--all']);
  await git(dir, ['-c', 'user.name=evogit demo', '-c', 'user.email=demo@evogit.invalid', 'commit', '--quiet', '-m', 'The example library, with its failing tests']);
  await git(dir, ['config', 'user.name', 'evogit demo']);
  await git(dir, ['config', 'user.email', 'demo@evogit.invalid']);

  const docker = a.sandbox ? await dockerReachable(DEMO_IMAGE) : await ensureDemoImage(DEMO_IMAGE, io);
  const sandbox = a.sandbox ? String(a.sandbox) : docker.ok ? 'docker' : 'local';
  io.stderr(
    sandbox === 'docker'
      ? `Sandbox: Docker (${docker.detail}).\n`
      : `Sandbox: LOCAL PROCESSES — ${docker.ok ? 'as asked' : `no usable Docker (${docker.detail})`}. The local sandbox isolates nothing; it is fine for this bundled example only.\n`,
  );
  // The example's tests take well under a second: a mutant that loops forever is cut at 20 s.
  // Children of the offline mutate agent are cheap next to their evaluations, so the demo
  // expands more often than the default (alpha 0.8: ~80 nodes for 240 evaluations, not ~27).
  const init = await initCommand({ ...a, C: dir, force: false, json: false, sandbox, scorer: { alpha: 0.8 } }, io);
  if (!a.json) io.stderr(`${init.text}\n\n`);
  const run = await runCommand(
    {
      ...a,
      C: dir,
      agents: (a.agents as number | undefined) ?? 2,
      agent: 'mutate',
      maxEvals: (a.maxEvals as number | undefined) ?? 240,
      seed: (a.seed as number | undefined) ?? 1,
      sandbox,
      report: path.join(dir, 'evogit-report.html'),
    },
    io,
  );
  return { ...run, text: `${run.text}\n\nThe demo repository is ${dir}: cd there to review with git.\nThe evolution, in a browser: ${pathToFileURL(path.join(dir, 'evogit-report.html')).href}` };
}
