// evogit's run supervisor for a split task container: PID 1, root with only CAP_SETUID,
// CAP_SETGID and CAP_KILL. The tree is unpacked and candidate code runs as the sandbox user; the command
// itself (node --test) runs as root, and its test processes drop to the sandbox user before
// any test file loads (the preload the run names), so they can neither read nor write the
// report directory (0700, root), nor reach this process's file descriptors, memory or stdout.
// Run as: node --input-type=module -e "$(cat split.mjs)"
// stdin: a line with the run's secret, a line of JSON (the plan), then a tar stream.
// stdout: the run's output, then frames (see src/sandbox/stream.ts and plain.sh).
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, constants, fstatSync, mkdirSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as os } from 'node:os';

const input = process.stdin[Symbol.asyncIterator]();
let head = Buffer.alloc(0);
let secret = '';
let plan = null;
let rest = Buffer.alloc(0);
while (plan === null) {
  const { value, done } = await input.next();
  if (done) process.exit(96);
  head = Buffer.concat([head, value]);
  const a = head.indexOf(10);
  const b = a < 0 ? -1 : head.indexOf(10, a + 1);
  if (b < 0) continue;
  secret = head.toString('utf8', 0, a);
  plan = JSON.parse(head.toString('utf8', a + 1, b));
  rest = head.subarray(b + 1);
}
/** Write all of it to fd 1, waiting out EAGAIN (a pipe another process made non-blocking). */
const writeAll = (data) => {
  let buf = typeof data === 'string' ? Buffer.from(data) : data;
  while (buf.length) {
    try {
      buf = buf.subarray(writeSync(1, buf));
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
};
const frame = (line) => writeAll(`\n${secret} ${line}\n`);
const user = { uid: plan.uid, gid: plan.gid };

/** A child's exit status as a shell reports it (128 + n for signal n); 127 when it cannot start. */
const statusOf = (child) =>
  new Promise((resolve) => {
    child.once('error', () => resolve(127));
    child.once('exit', (code, signal) => resolve(code ?? 128 + (os.signals[signal] ?? 0)));
  });

/** SIGKILL every other process of the container (this is PID 1, and holds CAP_KILL). */
const killUser = () => {
  for (let i = 0; i < 2; i++) {
    try {
      process.kill(-1, 'SIGKILL');
    } catch {
      // ESRCH: nothing left to kill.
    }
  }
};

for (const f of plan.files) {
  mkdirSync(dirname(f.path), { recursive: true, mode: 0o755 });
  writeFileSync(f.path, Buffer.from(f.content, 'base64'), { mode: f.mode });
}
mkdirSync(plan.outDir, { recursive: true, mode: 0o700 });
chmodSync(plan.outDir, 0o700);

const unpack = spawn('/bin/sh', ['-c', plan.unpack], { ...user, cwd: plan.work, stdio: ['pipe', 'inherit', 'pipe'] });
let unpackErr = '';
unpack.stderr.on('data', (d) => {
  unpackErr = (unpackErr + d).slice(-2000);
  process.stderr.write(d);
});
async function* remaining() {
  if (rest.length) yield rest;
  for (;;) {
    const { value, done } = await input.next();
    if (done) return;
    yield value;
  }
}
const fed = pipeline(Readable.from(remaining()), unpack.stdin).catch(() => undefined);
const unpacked = await statusOf(unpack);
await fed;
if (unpacked !== 0) {
  frame(`unpack ${unpacked} ${unpackErr.replace(/\s+/g, ' ').trim().slice(-300)}`);
  process.exit(0);
}

const deadline = Date.now() + plan.timeoutMs;
let timedOut = false;
const runPhase = async (cmd, args, as) => {
  const child = spawn(cmd, args, { ...as, cwd: plan.work, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
    killUser();
  }, Math.max(0, deadline - Date.now()));
  const status = await statusOf(child);
  clearTimeout(timer);
  return status;
};
let phase = 'setup';
let status = 0;
let ms = -1;
if (plan.setup) status = await runPhase('/bin/sh', ['-c', plan.setup], user);
if (status === 0 && !timedOut) {
  phase = 'command';
  const t0 = performance.now();
  status = await runPhase(plan.command[0], plan.command.slice(1), {});
  ms = Math.round(performance.now() - t0);
}
killUser();

for (const path of plan.collect) {
  let fd;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    continue; // not there (or not a file this process may read): not collected
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) continue;
    const size = Math.min(st.size, plan.fileLimit);
    const buf = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    frame(`file ${got} ${st.size > plan.fileLimit ? 1 : 0} ${path}`);
    writeAll(buf.subarray(0, got));
  } finally {
    closeSync(fd);
  }
}
frame(`exit ${status} ${timedOut ? 1 : 0} ${ms} ${phase}`);
process.exit(0);
