/**
 * Streaming pieces of the sandbox's transport, so that a candidate's tree never has to fit in
 * evogit's memory: one tar stream made of several archives (each archive's end-of-archive
 * blocks dropped, one end at the very end), optionally with every entry's owner rewritten on
 * the way; and the reader of what a run's supervisor sends back on the container's stdout
 * (frames marked with the run's secret: collected files, the exit status, an unpacking
 * failure) apart from the run's own output.
 */
import { Readable } from 'node:stream';

const BLOCK = 512;

/** A tar archive: bytes in memory (small: hidden files, harness) or a stream (a tree from git archive). */
export type TarLayer = Buffer | { stream: () => AsyncIterable<Buffer> };

function pad(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function isZeroBlock(h: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (h[i] !== 0) return false;
  return true;
}

/** The size field of a header: octal, or base-256 (first byte 0x80) for sizes past 8 GiB. */
export function headerSize(h: Buffer): number {
  if ((h[124]! & 0x80) !== 0) {
    let n = 0;
    for (let i = 125; i < 136; i++) n = n * 256 + h[i]!;
    return n;
  }
  const text = h.toString('ascii', 124, 136).replace(/\0.*$/, '').trim();
  return text ? parseInt(text, 8) : 0;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** Set owner uid:gid (numeric only) in a header block, in place, and fix its checksum. */
export function chownHeader(h: Buffer, uid: number, gid: number): void {
  h.write(octal(uid, 8), 108, 'ascii');
  h.write(octal(gid, 8), 116, 'ascii');
  h.fill(0, 265, 329);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
}

async function* chunksOf(layer: TarLayer): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(layer)) yield layer;
  else for await (const c of layer.stream()) yield Buffer.isBuffer(c) ? c : Buffer.from(c);
}

/**
 * The entries of one archive, as it streams: headers and data pass through (headers copied and
 * re-owned when `owner` is given); the end-of-archive blocks and anything after them are read
 * (so a producing process can finish) and dropped. An archive that ends inside an entry throws.
 */
async function* entriesOf(layer: TarLayer, owner?: { uid: number; gid: number }): AsyncGenerator<Buffer> {
  let carry: Buffer = Buffer.alloc(0);
  let remaining = 0;
  let ended = false;
  for await (const chunk of chunksOf(layer)) {
    if (ended) continue;
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let pos = 0;
    const out: Buffer[] = [];
    while (pos < buf.length) {
      if (remaining > 0) {
        const n = Math.min(remaining, buf.length - pos);
        out.push(buf.subarray(pos, pos + n));
        pos += n;
        remaining -= n;
        continue;
      }
      if (buf.length - pos < BLOCK) break;
      const h = buf.subarray(pos, pos + BLOCK);
      if (isZeroBlock(h)) {
        ended = true;
        break;
      }
      const size = headerSize(h);
      if (owner) {
        const copy = Buffer.from(h);
        chownHeader(copy, owner.uid, owner.gid);
        out.push(copy);
      } else out.push(h);
      remaining = size + pad(size);
      pos += BLOCK;
    }
    carry = !ended && pos < buf.length ? Buffer.from(buf.subarray(pos)) : Buffer.alloc(0);
    if (out.length) yield out.length === 1 ? out[0]! : Buffer.concat(out);
  }
  if (!ended && (remaining > 0 || carry.length > 0)) throw new Error('tar: the archive ends inside an entry');
}

/**
 * One archive with the entries of all layers in order (on extraction later entries replace
 * earlier ones), streamed: at most a chunk of each is in memory at a time.
 */
export async function* concatTarStream(layers: TarLayer[], owner?: { uid: number; gid: number }): AsyncGenerator<Buffer> {
  for (const layer of layers) yield* entriesOf(layer, owner);
  yield Buffer.alloc(BLOCK * 2);
}

/** concatTarStream as a Readable (for dockerode's putArchive). */
export function tarReadable(layers: TarLayer[], owner?: { uid: number; gid: number }): Readable {
  return Readable.from(concatTarStream(layers, owner), { objectMode: false });
}

/** Every layer read into memory: for the local sandbox, which extracts in-process. */
export async function layerBytes(layer: TarLayer): Promise<Buffer> {
  if (Buffer.isBuffer(layer)) return layer;
  const parts: Buffer[] = [];
  for await (const c of chunksOf(layer)) parts.push(c);
  return Buffer.concat(parts);
}

/** What the supervisor reported, apart from the run's output. */
export interface SupervisorReport {
  /** Collected files by the path the run asked for; `truncated` when cut at the limit. */
  files: Map<string, { data: Buffer; truncated: boolean }>;
  /** The command's exit status (128+n for signal n), whether the supervisor's timer ended it, and which phase it was in. */
  exit: { code: number; timedOut: boolean; ms: number; phase: string } | null;
  /** Unpacking the tree failed with this tar exit status: the candidate's tree cannot be put in place. */
  unpack: { code: number; detail: string } | null;
}

const MAX_HEADER = 4096;

/**
 * Splits a supervisor's stdout into the run's own output (handed to `text`) and frames that
 * start with "\n<secret> " and a header line:
 *   file <bytes> <truncated 0|1> <path>   followed by exactly <bytes> raw bytes
 *   exit <code> <timedOut 0|1> <milliseconds the command ran, -1 if unknown> <phase>
 *   unpack <code> <detail…>
 * Only the supervisor knows the secret (it came on stdin and is in no file, variable or
 * argument). Later frames replace earlier ones, and a file frame longer than `fileLimit` is not
 * a frame: what is left is treated as output.
 */
export class FrameReader {
  readonly report: SupervisorReport = { files: new Map(), exit: null, unpack: null };
  private readonly marker: Buffer;
  private carry: Buffer = Buffer.alloc(0);
  private state: 'text' | 'header' | 'body' = 'text';
  private header: Buffer[] = [];
  private headerBytes = 0;
  private body: { path: string; truncated: boolean; left: number; parts: Buffer[] } | null = null;

  constructor(
    secret: string,
    private readonly text: (chunk: Buffer) => void,
    private readonly fileLimit: number,
  ) {
    this.marker = Buffer.from(`\n${secret} `);
  }

  push(chunk: Buffer): void {
    let buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = Buffer.alloc(0);
    while (buf.length) {
      if (this.state === 'body') {
        const b = this.body!;
        const n = Math.min(b.left, buf.length);
        b.parts.push(Buffer.from(buf.subarray(0, n)));
        b.left -= n;
        buf = buf.subarray(n);
        if (b.left === 0) {
          this.report.files.set(b.path, { data: Buffer.concat(b.parts), truncated: b.truncated });
          this.body = null;
          this.state = 'text';
        }
        continue;
      }
      if (this.state === 'header') {
        const nl = buf.indexOf(10);
        const part = nl < 0 ? buf : buf.subarray(0, nl);
        this.header.push(Buffer.from(part));
        this.headerBytes += part.length;
        if (this.headerBytes > MAX_HEADER) {
          // Not a frame after all: give it back as output.
          this.text(Buffer.concat([this.marker, ...this.header]));
          this.reset();
          buf = nl < 0 ? Buffer.alloc(0) : buf.subarray(nl);
          continue;
        }
        if (nl < 0) return;
        buf = buf.subarray(nl + 1);
        this.onHeader(Buffer.concat(this.header).toString('utf8'));
        continue;
      }
      const at = buf.indexOf(this.marker);
      if (at < 0) {
        // Keep what could be the start of a marker for the next chunk.
        const keep = Math.min(buf.length, this.marker.length - 1);
        const cut = buf.length - keep;
        if (cut > 0) this.text(buf.subarray(0, cut));
        this.carry = Buffer.from(buf.subarray(cut));
        return;
      }
      if (at > 0) this.text(buf.subarray(0, at));
      buf = buf.subarray(at + this.marker.length);
      this.state = 'header';
    }
  }

  /** The stream ended: whatever was held back is output. */
  end(): void {
    if (this.carry.length) this.text(this.carry);
    this.carry = Buffer.alloc(0);
  }

  private reset(): void {
    this.state = 'text';
    this.header = [];
    this.headerBytes = 0;
  }

  private onHeader(line: string): void {
    this.reset();
    const [kind, a = '', b = '', ...rest] = line.split(' ');
    if (kind === 'file') {
      const bytes = Number(a);
      const path = rest.join(' ');
      if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > this.fileLimit || !path) return;
      if (bytes === 0) {
        this.report.files.set(path, { data: Buffer.alloc(0), truncated: b === '1' });
        return;
      }
      this.body = { path, truncated: b === '1', left: bytes, parts: [] };
      this.state = 'body';
    } else if (kind === 'exit') {
      const code = Number(a);
      const ms = Number(rest[0]);
      if (Number.isInteger(code)) this.report.exit = { code, timedOut: b === '1', ms: Number.isFinite(ms) ? Math.round(ms) : -1, phase: rest.slice(1).join(' ') || 'command' };
    } else if (kind === 'unpack') {
      const code = Number(a);
      if (Number.isInteger(code)) this.report.unpack = { code, detail: [b, ...rest].join(' ').trim() };
    }
  }
}
