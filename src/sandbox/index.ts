/** The sandbox: where candidates run, isolated (docker) or not (local), and runTask, which grades one. */
import { parseBytes, type Config } from '../config/index.js';
import { DockerSandbox } from './docker.js';
import { LocalSandbox } from './local.js';
import type { Sandbox } from './types.js';

export type { Sandbox, SandboxRunSpec, SandboxRunResult, EnvironmentSpec, Environment, GcResult, SandboxLimits } from './types.js';
export { WORK_TOKEN, CappedOutput } from './types.js';
export { DockerSandbox, type DockerSandboxOptions, LABEL_OWNER, LABEL_RUN, LABEL_PID, LABEL_HOST, ENV_REPO, ENV_DIR, WORK_DIR } from './docker.js';
export { LocalSandbox, LOCAL_WARNING } from './local.js';
export { runTask, environmentKey, type RunTaskRequest } from './evaluate.js';
export { buildSandboxImages, sandboxAssetsDir, type BuildImageOptions } from './image.js';
export { makeTar, readTar, chownTar, type TarEntry } from './tar.js';
export { discoverTasks, detectProject, type DetectedProject } from '../tasks/index.js';

/** The sandbox the config asks for. */
export function createSandbox(config: Config): Sandbox {
  if (config.sandbox.kind === 'local') return new LocalSandbox();
  return new DockerSandbox({
    memory: parseBytes(config.sandbox.memory),
    cpus: config.sandbox.cpus,
    pids: config.sandbox.pids,
    user: config.sandbox.user,
  });
}

/** `evogit gc`: remove left-over containers of evogit processes that are gone. */
export async function gc(config: Config): Promise<string[]> {
  return (await createSandbox(config).gc()).removed;
}
