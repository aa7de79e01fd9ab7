/**
 * The Docker sandbox: one container per run, hardened (no network, memory/CPU/pids limits,
 * non-root, read-only root filesystem, all capabilities dropped, no-new-privileges, an
 * environment built from scratch), killed at the wall-clock limit, output capped. The work
 * dir is a tmpfs of sandbox.disk, filled from the container's stdin by evogit's supervisor:
 * nothing from the host is mounted, and no tree is ever held whole in evogit's memory.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Docker from 'dockerode';
import { InfraError, errorMessage } from '../errors/index.js';
import { HARNESS_DIR } from '../tasks/index.js';
import { installError } from './install.js';
import { sandboxAssetsDir } from './image.js';
import { overCap, readUses, recordUse, type EnvImage } from './env-cache.js';
import { FrameReader, concatTarStream, tarReadable } from './stream.js';
import { makeTar } from './tar.js';
import {
  CappedOutput,
  OUT_TOKEN,
  SECURE_TOKEN,
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
/** A split run's root-owned tmpfs: harness/ (readable by the run's user) and out/ (root only). */
export const PRIVATE_DIR = '/evogit';
/** Where a plain run's SandboxRunSpec.files go, inside the work dir. */
const SECURE_IN_WORK = `${HARNESS_DIR}/secure`;
/** Largest collected file (a runner's report) sent back; more is cut and marked. */
const RESULTS_LIMIT = 16 * 1024 * 1024;
/** After the supervisor's own timer, how long the container gets to send its report before it is killed. */
const COLLECT_GRACE_MS = 10_000;
const DEFAULT_DISK = 1024 * 1024 * 1024;

let scriptsRead: Promise<{ plain: string; split: string }> | null = null;
/** The supervisors' sources (sandbox/supervisor/), with the sandbox's paths in place. */
function supervisorScripts(): Promise<{ plain: string; split: string }> {
  scriptsRead ??= (async () => {
    const dir = path.join(sandboxAssetsDir(), 'supervisor');
    const [plain, split] = await Promise.all([readFile(path.join(dir, 'plain.sh'), 'utf8'), readFile(path.join(dir, 'split.mjs'), 'utf8')]);
    return { plain: plain.split('@WORK@').join(WORK_DIR).split('@ENV@').join(ENV_DIR), split };
  })();
  return scriptsRead;
}

/** Unpack stdin into the work dir, and link the environment's node_modules there (a split run's unpacking). */
function unpackScript(): string {
  return `tar -x -f - -C ${WORK_DIR} && if [ -d ${ENV_DIR}/node_modules ] && [ ! -e ${WORK_DIR}/node_modules ] && [ ! -L ${WORK_DIR}/node_modules ]; then ln -s ${ENV_DIR}/node_modules ${WORK_DIR}/node_modules; fi`;
}

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

export function uidGid(user: string): { uid: number; gid: number } {
  const [u, g] = user.split(':');
  const uid = Number(u);
  const gid = Number(g ?? u);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new InfraError('E_SANDBOX_USER', `sandbox.user "${user}" is not numeric uid:gid`, 'Write it like "1000:1000".');
  return { uid, gid };
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

  /**
   * Remove environment images (not the base images), least recently used first, until the rest
   * take at most `capBytes` of their own layers. An image a container still uses is kept.
   * `only` narrows which environments are looked at (all of evogit's by default).
   */
  async gcEnvironments(capBytes: number, only: (key: string) => boolean = () => true): Promise<{ removed: string[]; freedBytes: number; keptBytes: number }> {
    let list: Docker.ImageInfo[];
    try {
      list = await this.docker.listImages({ filters: JSON.stringify({ label: ['evogit.env'] }) });
    } catch (e) {
      throw infra('listing images', e);
    }
    const sizes = new Map<string, number>();
    for (const i of await this.docker.listImages()) sizes.set(i.Id, i.Size);
    const uses = readUses();
    const images: EnvImage[] = list
      .map((i) => {
        const key = i.Labels?.['evogit.env'] ?? i.Id;
        return { id: i.Id, key, bytes: Math.max(0, i.Size - (sizes.get(i.ParentId) ?? 0)), used: uses[key] ?? i.Created * 1000 };
      })
      .filter((i) => only(i.key));
    const removed: string[] = [];
    let freedBytes = 0;
    for (const img of overCap(images, capBytes)) {
      try {
        await this.docker.getImage(img.id).remove({ force: false });
        removed.push(`${ENV_REPO}:${img.key}`);
        freedBytes += img.bytes;
      } catch (e) {
        // 409: a container uses it right now; it stays until the next gc.
        if ((e as { statusCode?: number }).statusCode !== 409) throw infra(`removing image ${img.key}`, e);
      }
    }
    return { removed, freedBytes, keptBytes: images.reduce((n, i) => n + i.bytes, 0) - freedBytes };
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
    recordUse(spec.key);
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
        Env: [...BASE_ENV.filter((e) => !e.startsWith('HOME=')), `HOME=${ENV_DIR}/.home`, ...Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`)],
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
      // The work and env dirs (owned by the run's user) and the manifests in the env dir, streamed.
      await container.putArchive(makeTar([{ path: 'work' }, { path: 'env/.home' }], this.owner), { path: '/' });
      await container.putArchive(tarReadable([spec.manifests], this.owner), { path: ENV_DIR });
      const out = new CappedOutput(256 * 1024);
      const push = (c: Buffer) => out.push(c);
      const { exitCode, timedOut } = await this.startAndWait(container, push, push, spec.timeoutMs, spec.signal);
      if (timedOut || exitCode !== 0) throw installError({ script, exitCode, timedOut, timeoutMs: spec.timeoutMs, output: out.text(), network: spec.network });
      await container.commit({ repo: ENV_REPO, tag: spec.key, comment: `evogit environment ${spec.key}` });
      const digest = (await this.imageId(image)) ?? image;
      return { image, digest, cached: false, log: out.text() };
    } finally {
      await container.remove({ force: true, v: true });
    }
  }

  /** Start the container, let `feed` write its stdin, and wait for it (killed at `timeoutMs` or on abort). */
  private async startAndWait(
    container: Docker.Container,
    onStdout: (chunk: Buffer) => void,
    onStderr: (chunk: Buffer) => void,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    feed?: (stdin: NodeJS.WritableStream) => Promise<void>,
  ): Promise<{ exitCode: number | null; timedOut: boolean; aborted: boolean; runMs: number }> {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true, ...(feed ? { stdin: true, hijack: true } : {}) });
    const sink = (on: (c: Buffer) => void) =>
      new Writable({
        write(chunk: Buffer, _enc, done) {
          on(chunk);
          done();
        },
      });
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    this.docker.modem.demuxStream(stream, sink(onStdout), sink(onStderr));
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
      // A container that stops reading (it ended, or refused the tree) ends the feed, not the run.
      const fed = feed ? feed(stream).catch(() => undefined) : Promise.resolve();
      const waited = (await container.wait()) as { StatusCode: number };
      const runMs = Math.round(performance.now() - started);
      // Let the attach stream deliver its last bytes, but never hang on it (nor on the feed).
      await Promise.race([Promise.all([ended, fed]), new Promise((r) => setTimeout(r, 2000))]);
      return { exitCode: waited.StatusCode, timedOut, aborted, runMs };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      (stream as unknown as { destroy?: () => void }).destroy?.();
    }
  }

  /**
   * One task run. The container's PID 1 is evogit's supervisor (sandbox/supervisor/): it reads
   * the run's secret and the tree from stdin, unpacks the tree into the work dir (a tmpfs of
   * sandbox.disk), runs the command under its own timer, kills every process of the run, and
   * sends the collected files and the exit status back as frames only it can write. Plain
   * runs are all the sandbox user; a split run (spec.split) runs the command as root so that
   * its report is out of reach of the code under test.
   */
  async run(spec: SandboxRunSpec): Promise<SandboxRunResult> {
    await this.startup();
    const started = performance.now();
    const split = spec.split === true;
    const secret = randomBytes(24).toString('hex');
    const outDir = split ? `${PRIVATE_DIR}/out` : `${WORK_DIR}/.evogit-out-${randomBytes(8).toString('hex')}`;
    const secureDir = split ? `${PRIVATE_DIR}/harness` : `${WORK_DIR}/${SECURE_IN_WORK}`;
    const fill = (a: string) => a.split(WORK_TOKEN).join(WORK_DIR).split(OUT_TOKEN).join(outDir).split(SECURE_TOKEN).join(secureDir);
    const collect = (spec.collect ?? []).map((rel) => ({ rel, abs: rel.startsWith(OUT_TOKEN) ? fill(rel) : `${WORK_DIR}/${rel}` }));
    const fileLimit = Math.max(RESULTS_LIMIT, spec.outputLimit);
    let command = spec.command.map(fill);
    if (!split && spec.setup?.length) command = ['/bin/sh', '-c', `${spec.setup.join(' && ')} && exec "$@"`, 'evogit-setup', ...command];
    const env = [...BASE_ENV, ...Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${fill(v)}`)];
    const timeoutS = String(Math.max(0.001, spec.timeoutMs / 1000));
    const scripts = await supervisorScripts();
    const cmd = split
      ? ['node', '--input-type=module', '-e', scripts.split]
      : ['/bin/sh', '-c', scripts.plain, 'evogit-supervisor', timeoutS, String(fileLimit), String(collect.length), ...collect.map((c) => c.abs), '--', ...command];
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({
        Image: spec.image,
        Cmd: cmd,
        Entrypoint: [],
        User: split ? '0:0' : this.options.user,
        WorkingDir: WORK_DIR,
        Env: env,
        Labels: this.labels(spec.runId),
        NetworkDisabled: true,
        OpenStdin: true,
        StdinOnce: true,
        AttachStdin: true,
        HostConfig: {
          NetworkMode: 'none',
          Memory: this.options.memory,
          MemorySwap: this.options.memory,
          NanoCpus: Math.round(this.options.cpus * 1e9),
          PidsLimit: this.options.pids,
          ReadonlyRootfs: true,
          // The work dir is a tmpfs: its size is a hard cap, and nothing of it lands on the host's disk.
          Tmpfs: {
            '/tmp': 'rw,nosuid,nodev,size=256m',
            [WORK_DIR]: `rw,exec,nosuid,nodev,size=${this.options.disk ?? DEFAULT_DISK},uid=${this.owner.uid},gid=${this.owner.gid},mode=0755`,
            ...(split ? { [PRIVATE_DIR]: 'rw,nosuid,nodev,noexec,size=64m,mode=0755' } : {}),
          },
          CapDrop: ['ALL'],
          // Root in a split run may only become the sandbox user, and end its test processes
          // (node --test kills a file that overran its timeout): no file or network powers.
          ...(split ? { CapAdd: ['SETUID', 'SETGID', 'KILL'] } : {}),
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
      const out = new CappedOutput(spec.outputLimit);
      const frames = new FrameReader(secret, (c) => out.push(c), fileLimit);
      const files = spec.files ?? [];
      // A plain run's own files and report directory come last in the tree (a split run's are the supervisor's).
      const layers = split ? spec.layers : [...spec.layers, makeTar([...files.map((f) => ({ ...f, path: `${SECURE_IN_WORK}/${f.path}` })), { path: outDir.slice(WORK_DIR.length + 1) }], this.owner)];
      const head = split
        ? `${secret}\n${JSON.stringify({
            uid: this.owner.uid,
            gid: this.owner.gid,
            work: WORK_DIR,
            outDir,
            unpack: unpackScript(),
            files: files.map((f) => ({ path: `${secureDir}/${f.path}`, content: Buffer.from(f.content ?? '').toString('base64'), mode: f.mode ?? 0o644 })),
            setup: spec.setup?.length ? spec.setup.join(' && ') : null,
            command,
            collect: collect.map((c) => c.abs),
            timeoutMs: spec.timeoutMs,
            fileLimit,
          })}\n`
        : `${secret}\n`;
      // The tree goes in through stdin as one stream. If a layer cannot be read (git refused the
      // tree), the run is stopped before the supervisor could take a partial tree for a whole one.
      let feedError: string | null = null;
      const feed = async (stdin: NodeJS.WritableStream) => {
        let closed = false;
        const stop = () => (closed = true);
        stdin.once('close', stop);
        stdin.once('error', stop);
        const write = (chunk: Buffer | string) =>
          new Promise<void>((resolve) => {
            if (closed || stdin.write(chunk)) return resolve();
            const done = () => resolve();
            stdin.once('drain', done);
            stdin.once('close', done);
            stdin.once('error', done);
          });
        await write(head);
        try {
          for await (const chunk of concatTarStream(layers)) {
            if (closed) break;
            await write(chunk);
          }
        } catch (e) {
          feedError = errorMessage(e);
          await container.kill().catch(() => undefined);
          return;
        }
        stdin.end();
      };
      // The supervisor's own timer ends the command at the limit; this kill is the backstop.
      const waited = await this.startAndWait(container, (c) => frames.push(c), (c) => out.push(c), spec.timeoutMs + COLLECT_GRACE_MS, spec.signal, feed);
      frames.end();
      const inspect = await container.inspect();
      const report = frames.report;
      const result: Record<string, Buffer | null> = {};
      for (const c of collect) result[c.rel] = report.files.get(c.abs)?.data ?? null;
      const exit = report.exit;
      return {
        exitCode: exit ? exit.code : waited.timedOut ? null : waited.exitCode,
        timedOut: waited.timedOut || Boolean(exit?.timedOut),
        aborted: waited.aborted,
        oomKilled: Boolean(inspect.State.OOMKilled),
        output: out.text(),
        outputBytes: out.total,
        truncated: out.truncated,
        files: result,
        durationMs: Math.round(performance.now() - started),
        runMs: exit?.ms !== undefined && exit.ms >= 0 ? exit.ms : waited.runMs,
        ...(report.unpack ? { unpack: report.unpack } : feedError !== null ? { unpack: { code: -1, detail: `the tree could not be read: ${feedError}` } } : {}),
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
}
