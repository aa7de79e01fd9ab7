/** The sandbox: where candidates run, isolated (docker) or not (local), and runTask, which grades one. */
import Docker from 'dockerode';
import { parseBytes, type Config } from '../config/index.js';
import { errorMessage } from '../errors/index.js';
import { DockerSandbox } from './docker.js';
import { LocalSandbox } from './local.js';
import type { Sandbox } from './types.js';

export type { Sandbox, SandboxRunSpec, SandboxRunResult, EnvironmentSpec, Environment, GcResult, SandboxLimits } from './types.js';
export { WORK_TOKEN, CappedOutput } from './types.js';
export { DockerSandbox, type DockerSandboxOptions, LABEL_OWNER, LABEL_RUN, LABEL_PID, LABEL_HOST, ENV_REPO, ENV_DIR, WORK_DIR } from './docker.js';
export { LocalSandbox, LOCAL_WARNING } from './local.js';
export { runTask, rootReference, environmentFor, environmentKey, harnessEntries, type RunTaskRequest } from './evaluate.js';
export { buildSandboxImages, sandboxAssetsDir, buildHint, TOOLCHAINS, type BuildImageOptions, type ToolchainLanguage } from './image.js';
export { makeTar, readTar, chownTar, type TarEntry } from './tar.js';
export { discoverTasks, detectProject, type DetectedProject } from '../tasks/index.js';

/** The sandbox the config asks for. */
export function createSandbox(config: Config): Sandbox {
  if (config.sandbox.kind === 'local') return new LocalSandbox();
  return new DockerSandbox({
    memory: parseBytes(config.sandbox.memory),
    disk: parseBytes(config.sandbox.disk),
    cpus: config.sandbox.cpus,
    pids: config.sandbox.pids,
    user: config.sandbox.user,
  });
}

export interface GcReport {
  /** Left-over containers of evogit processes that are gone. */
  removed: string[];
  /** Environment images removed (least recently used first) to fit sandbox.envCache. */
  images: string[];
  freedBytes: number;
  keptBytes: number;
}

/** `evogit gc`: remove left-over containers, and environment images beyond sandbox.envCache (Docker). */
export async function gc(config: Config): Promise<GcReport> {
  const sandbox = createSandbox(config);
  const removed = (await sandbox.gc()).removed;
  if (!(sandbox instanceof DockerSandbox)) return { removed, images: [], freedBytes: 0, keptBytes: 0 };
  const env = await sandbox.gcEnvironments(parseBytes(config.sandbox.envCache));
  return { removed, images: env.removed, freedBytes: env.freedBytes, keptBytes: env.keptBytes };
}

/**
 * Can the Docker sandbox run here: is a daemon answering (DOCKER_HOST or the local socket),
 * and does it have the image? `detail` says why not, in words a user can act on.
 */
export async function dockerReachable(image?: string, timeoutMs = 3000): Promise<{ ok: boolean; detail: string }> {
  const docker = new Docker({ timeout: timeoutMs });
  try {
    await docker.ping();
  } catch (e) {
    return { ok: false, detail: `no Docker daemon answers (${errorMessage(e)}); start dockerd or set DOCKER_HOST` };
  }
  if (!image) return { ok: true, detail: 'daemon reachable' };
  try {
    await docker.getImage(image).inspect();
    return { ok: true, detail: `image ${image}` };
  } catch {
    // inspect fails with 404 for a missing image: that is the answer, not an error to hide.
    return { ok: false, detail: `the daemon has no image ${image}; build it with \`evogit sandbox build\` (add --offline with no registry)` };
  }
}
