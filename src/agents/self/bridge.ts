/**
 * How a container with no network reaches the host's LLM proxy: a unix socket in a fresh host
 * directory, bind-mounted read-only at /evogit-llm, piped to the proxy's loopback port. The
 * container keeps NetworkMode none and every other hardening of DockerSandbox; the only thing
 * added is this one directory, which holds nothing but the socket. Inside, the runner relays a
 * loopback TCP port to the socket, so the agent sees an ordinary http:// URL. The agent gets the
 * URL and a per-node token: the key stays in the proxy.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { parseBytes, type Config } from '../../config/index.js';
import { DockerSandbox } from '../../sandbox/index.js';
import { SOCKET_MOUNT, SOCKET_NAME } from './runner.js';

export interface SocketBridge {
  /** Host directory holding the socket (what is mounted). */
  dir: string;
  socketPath: string;
  close(): Promise<void>;
}

export async function openSocketBridge(proxyUrl: string): Promise<SocketBridge> {
  const target = new URL(proxyUrl);
  const port = Number(target.port);
  const dir = await mkdtemp(path.join(tmpdir(), 'evogit-llm-'));
  await chmod(dir, 0o755);
  const socketPath = path.join(dir, SOCKET_NAME);
  const server = net.createServer((client) => {
    const upstream = net.connect(port, target.hostname);
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  // The sandbox user (uid 1000) must be able to connect; the token still guards every call.
  await chmod(socketPath, 0o666);
  return {
    dir,
    socketPath,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A dockerode client whose containers also get `source` bind-mounted read-only at `target`. */
export function dockerWithReadOnlyBind(source: string, target: string, docker = new Docker()): Docker {
  const create = docker.createContainer.bind(docker);
  const patched = (options: Docker.ContainerCreateOptions): Promise<Docker.Container> =>
    create({
      ...options,
      HostConfig: { ...options.HostConfig, Mounts: [...(options.HostConfig?.Mounts ?? []), { Type: 'bind', Source: source, Target: target, ReadOnly: true }] },
    });
  docker.createContainer = patched as typeof docker.createContainer;
  return docker;
}

/** The hardened Docker sandbox of the config, plus the proxy socket's directory. */
export function agentDockerSandbox(config: Config, bridge: SocketBridge): DockerSandbox {
  return new DockerSandbox({
    memory: parseBytes(config.sandbox.memory),
    cpus: config.sandbox.cpus,
    pids: config.sandbox.pids,
    user: config.sandbox.user,
    docker: dockerWithReadOnlyBind(bridge.dir, SOCKET_MOUNT),
  });
}
