/**
 * `npm run demo` on a machine whose Docker daemon lacks the sandbox image: the demo builds it
 * (from this machine's node, no registry), says so in one line, and runs in Docker.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { ensureDemoImage } from '../../src/cli/commands/demo.js';
import type { Io } from '../../src/cli/context.js';
import { run } from '../../src/proc/index.js';
import { describeDocker } from '../helpers/docker.js';

describeDocker('the demo\'s sandbox image', () => {
  const image = `evogit-test/demo-${randomBytes(4).toString('hex')}:20`;
  afterAll(async () => {
    await run('docker', ['image', 'rm', '-f', image], { cwd: process.cwd(), reject: false });
  });

  it('is built once when the daemon lacks it, with one line saying so', { timeout: 600_000 }, async () => {
    const said: string[] = [];
    const io: Io = { stdout: (t) => void said.push(t), stderr: (t) => void said.push(t), isTTY: false };
    const first = await ensureDemoImage(image, io);
    expect(first).toMatchObject({ ok: true, detail: `image ${image}, built offline from this machine` });
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(`no image ${image}; building it`);
    const inspected = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { cwd: process.cwd(), reject: false });
    expect(inspected.exitCode).toBe(0);
    // Present now: nothing built, nothing said.
    expect(await ensureDemoImage(image, io)).toEqual({ ok: true, detail: `image ${image}` });
    expect(said).toHaveLength(1);
  });
});
