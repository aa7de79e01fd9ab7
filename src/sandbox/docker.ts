/**
 * The Docker sandbox: one container per run, hardened (no network, memory/CPU/pids limits,
 * non-root, read-only root filesystem, all capabilities dropped, no-new-privileges, an
 * environment built from scratch), killed at the wall-clock limit, output capped. The work
 * dir is an anonymous volume filled with putArchive: nothing from the host is mounted.
 */
import { hostname } from 'node:os';
import { Writable } from 'node:stream';
import Docker from 'dockerode';
import { InfraError, errorMessage } from '../errors/index.js';
import { chownTar, concatTars, makeTar, readTar } from './tar.js';
import {
  CappedOutput,
  WORK_TOKEN,
  type Environment,
  type EnvironmentSpec,
  type GcResult,
  type Sandbox,
  type SandboxLimits,
  type SandboxRunResult,
  type SandboxRunSpec,
} from './types.js';

export const WORK_DIR = '/work';
export const LABEL_OWNER = 'evogit.owner';
export const LABEL_RUN = 'evogit.run';
export const LABEL_PID = 'evogit.pid';
export const LABEL_HOST = 'evogit.host';
export const ENV_REPO = 'evogit-env';
/**
 * Where dependencies are installed in an environment image. /work only holds a symlink to
 * its node_modules, so the per-run work volume copies up a link, not thousands of files.
 */
export const ENV_DIR = '/env';

const BASE_ENV = [
  `PATH=${ENV_DIR}/.home/.local/bin:/usr/local/bin:/usr/bin:/bin`,
  'HOME=/tmp',
  // pip install --user during the install step lands here (read-only at run time).
  `PYTHONUSERBASE=${ENV_DIR}/.home/.local`,
  'LANG=C.UTF-8',
  'CI=1',
  'NO_COLOR=1',
];

export interface DockerSandboxOptions extends SandboxLimits {
  /** Defaults to dockerode's own resolution (DOCKER_HOST, else the local socket). */
  docker?: Docker;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function uidGid(user: string): { uid: number; gid: number } {
  const [u, g] = user.split(':');
  const uid = Number(u);
  const gid = Number(g ?? u);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new InfraError('E_SANDBOX_USER', `sandbox.user "${user}" is not numeric uid:gid`, 'Write it like "1000:1000".');
  return { uid, gid };
}

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

function infra(what: string, e: unknown): InfraError {
  const message = errorMessage(e);
  const unreachable = /ECONNREFUSED|ENOENT|EACCES|socket hang up|connect/i.test(message);
  return new InfraError(
    unreachable ? 'E_DOCKER_UNREACHABLE' : 'E_DOCKER',
    `${what}: ${message}`,
    unreachable ? 'Start the Docker daemon (or set DOCKER_HOST), or use sandbox.kind: local.' : 'See the Docker daemon log.',
    { cause: e },
  );
}

export class DockerSandbox implements Sandbox {
  readonly kind = 'docker' as const;
  private readonly docker: Docker;
  private readonly owner: { uid: number; gid: number };
  private gcDone: Promise<GcResult> | null = null;
  private readonly building = new Map<string, Promise<Environment>>();

  constructor(private readonly options: DockerSandboxOptions) {
    this.docker = options.docker ?? new Docker();
    this.owner = uidGid(options.user);
  }

  private labels(runId: string): Record<string, string> {
    return { [LABEL_OWNER]: 'evogit', [LABEL_RUN]: runId, [LABEL_PID]: String(process.pid), [LABEL_HOST]: hostname() };
  }

  /** Left-overs of dead evogit processes are removed once, before this process's first run. */
  private startup(): Promise<GcResult> {
    this.gcDone ??= this.gc();
    return this.gcDone;
  }

  async gc(): Promise<GcResult> {
    let list: Docker.ContainerInfo[];
    try {
      list = await this.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL_OWNER}=evogit`] }) });
    } catch (e) {
      throw infra('listing containers', e);
    }
    const removed: string[] = [];
    for (const info of list) {
      const pid = Number(info.Labels[LABEL_PID]);
      const sameHost = info.Labels[LABEL_HOST] === hostname();
      // Only containers whose owning process is provably gone: another host's are not ours to judge.
      if (!sameHost || (Number.isInteger(pid) && isAlive(pid))) continue;
      await this.docker.getContainer(info.Id).remove({ force: true, v: true });
      removed.push(info.Id);
    }
    return { removed };
  }

  async imageId(image: string): Promise<string | null> {
    try {
      const info = await this.docker.getImage(image).inspect();
      return info.Id;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return null;
      throw infra(`inspecting image ${image}`, e);
    }
  }

  async ensureEnvironment(spec: EnvironmentSpec): Promise<Environment> {
    const image = `${ENV_REPO}:${spec.key}`;
    const existing = await this.imageId(image);
    if (existing) return { image, digest: existing, cached: true, log: '' };
    let pending = this.building.get(image);
    if (!pending) {
      pending = this.buildEnvironment(spec, image).finally(() => this.building.delete(image));
      this.building.set(image, pending);
    }
    return pending;
  }

  private async buildEnvironment(spec: EnvironmentSpec, image: string): Promise<Environment> {
    if (!(await this.imageId(spec.baseImage))) {
      throw new InfraError('E_IMAGE_MISSING', `sandbox image ${spec.baseImage} is not present`, 'Build it: `evogit sandbox build --offline` (or sandbox/build-offline.sh).');
    }
    await this.startup();
    const script = spec.install.length ? spec.install.join(' && ') : 'true';
    const link = `if [ -d ${ENV_DIR}/node_modules ]; then ln -s ${ENV_DIR}/node_modules ${WORK_DIR}/node_modules; fi`;
    const container = await this.docker
      .createContainer({
        Image: spec.baseImage,
        Cmd: ['/bin/sh', '-c', `(${script}) && ${link}`],
        User: this.options.user,
        WorkingDir: ENV_DIR,
        Env: [...BASE_ENV.filter((e) => !e.startsWith('HOME=')), `HOME=${ENV_DIR}/.home`],
        Labels: { ...this.labels(`install-${spec.key}`), 'evogit.env': spec.key },
        HostConfig: {
          NetworkMode: spec.network ? 'bridge' : 'none',
          Memory: this.options.memory,
          MemorySwap: this.options.memory,
          NanoCpus: Math.round(this.options.cpus * 1e9),
          PidsLimit: this.options.pids,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          LogConfig: { Type: 'none', Config: {} },
        },
      })
      .catch((e: unknown) => {
        throw infra('creating the install container', e);
      });
    try {
      // The work and env dirs (owned by the run's user) and the manifests in the env dir.
      await container.putArchive(makeTar([{ path: 'work' }, { path: 'env/.home' }], this.owner), { path: '/' });
      await container.putArchive(chownTar(spec.manifests, this.owner.uid, this.owner.gid), { path: ENV_DIR });
      const out = new CappedOutput(256 * 1024);
      const { exitCode, timedOut } = await this.startAndWait(container, out, spec.timeoutMs, spec.signal);
      if (timedOut || exitCode !== 0) {
        throw new InfraError(
          'E_INSTALL_FAILED',
          `install (${script}) ${timedOut ? 'timed out' : `exited with ${exitCode}`}: ${out.text().trim().split('\n').slice(-5).join(' | ')}`,
          'Check test.install in evogit.yml; with sandbox.installNetwork false the install must work offline.',
        );
      }
      await container.commit({ repo: ENV_REPO, tag: spec.key, comment: `evogit environment ${spec.key}` });
      const digest = (await this.imageId(image)) ?? image;
      return { image, digest, cached: false, log: out.text() };
    } finally {
      await container.remove({ force: true, v: true });
    }
  }

  private async startAndWait(
    container: Docker.Container,
    out: CappedOutput,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<{ exitCode: number | null; timedOut: boolean; aborted: boolean; runMs: number }> {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        out.push(chunk);
        done();
      },
    });
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    this.docker.modem.demuxStream(stream, sink, sink);
    let timedOut = false;
    let aborted = false;
    const kill = (): void => {
      container.kill().catch(() => {
        // Already stopped: nothing to kill.
        return undefined;
      });
    };
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      aborted = true;
      kill();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await container.start();
      // The limit counts from the command's start: a daemon slow to start a container (seconds,
      // on a loaded machine) must not eat the time a runner's own timeout leaves for its report.
      const started = performance.now();
      timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs);
      const waited = (await container.wait()) as { StatusCode: number };
      const runMs = Math.round(performance.now() - started);
      // Let the attach stream deliver its last bytes, but never hang on it.
      await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]);
      return { exitCode: waited.StatusCode, timedOut, aborted, runMs };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      (stream as unknown as { destroy?: () => void }).destroy?.();
    }
  }

  async run(spec: SandboxRunSpec): Promise<SandboxRunResult> {
    await this.startup();
    const started = performance.now();
    const command = spec.command.map((a) => a.split(WORK_TOKEN).join(WORK_DIR));
    const env = [...BASE_ENV, ...Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v.split(WORK_TOKEN).join(WORK_DIR)}`)];
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({
        Image: spec.image,
        Cmd: command,
        Entrypoint: [],
        User: this.options.user,
        WorkingDir: WORK_DIR,
        Env: env,
        Labels: this.labels(spec.runId),
        NetworkDisabled: true,
        HostConfig: {
          NetworkMode: 'none',
          Memory: this.options.memory,
          MemorySwap: this.options.memory,
          NanoCpus: Math.round(this.options.cpus * 1e9),
          PidsLimit: this.options.pids,
          ReadonlyRootfs: true,
          Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=256m' },
          Mounts: [{ Type: 'volume', Target: WORK_DIR, Source: '' }],
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          LogConfig: { Type: 'none', Config: {} },
          Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
        },
      });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) {
        throw new InfraError('E_IMAGE_MISSING', `sandbox image ${spec.image} is not present`, 'Build it: `evogit sandbox build --offline`.', { cause: e });
      }
      throw infra('creating the run container', e);
    }
    try {
      // One round trip for all layers: the later entries overwrite the earlier ones.
      if (spec.layers.length) await container.putArchive(chownTar(concatTars(spec.layers), this.owner.uid, this.owner.gid), { path: WORK_DIR });
      const out = new CappedOutput(spec.outputLimit);
      const waited = await this.startAndWait(container, out, spec.timeoutMs, spec.signal);
      const inspect = await container.inspect();
      const files: Record<string, Buffer | null> = {};
      for (const rel of spec.collect ?? []) files[rel] = await this.readFile(container, `${WORK_DIR}/${rel}`);
      return {
        exitCode: waited.exitCode,
        timedOut: waited.timedOut,
        aborted: waited.aborted,
        oomKilled: Boolean(inspect.State.OOMKilled),
        output: out.text(),
        outputBytes: out.total,
        truncated: out.truncated,
        files,
        durationMs: Math.round(performance.now() - started),
        runMs: waited.runMs,
      };
    } catch (e) {
      if (e instanceof InfraError) throw e;
      throw infra('running the task container', e);
    } finally {
      await container.remove({ force: true, v: true }).catch((e: unknown) => {
        throw infra('removing the run container', e);
      });
    }
  }

  private async readFile(container: Docker.Container, file: string): Promise<Buffer | null> {
    try {
      const tar = await drain(await container.getArchive({ path: file }));
      const files = readTar(tar);
      return files.values().next().value ?? null;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return null;
      throw e;
    }
  }
}
