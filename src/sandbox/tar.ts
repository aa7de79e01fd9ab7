/**
 * Just enough of the ustar format for the sandbox: write small archives (hidden files,
 * harness scripts, result directories), set the owner of every entry of an archive (git
 * archive writes uid 0; the run's user is 1000), and read one file out of an archive that
 * `getArchive` returned. Pure functions over Buffers.
 */

export interface TarEntry {
  path: string;
  /** Omitted for a directory. */
  content?: Buffer | string;
  mode?: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mode: number, type: '0' | '5', uid: number, gid: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 154);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`tar: path too long: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(uid, 8), 108, 'ascii');
  h.write(octal(gid, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(Date.now() / 1000), 12), 136, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  writeChecksum(h);
  return h;
}

function writeChecksum(h: Buffer): void {
  h.fill(' ', 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
}

function pad(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** A tar of the entries, owned by uid:gid. Directories are created for every parent path. */
export function makeTar(entries: TarEntry[], owner: { uid: number; gid: number } = { uid: 1000, gid: 1000 }): Buffer {
  const parts: Buffer[] = [];
  const dirs = new Set<string>();
  const addDir = (dir: string): void => {
    if (!dir || dirs.has(dir)) return;
    const parent = dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '';
    addDir(parent);
    dirs.add(dir);
    parts.push(header(`${dir}/`, 0, 0o755, '5', owner.uid, owner.gid));
  };
  for (const entry of entries) {
    const clean = entry.path.replace(/^\/+/, '').replace(/\/+$/, '');
    if (entry.content === undefined) {
      addDir(clean);
      continue;
    }
    addDir(clean.includes('/') ? clean.slice(0, clean.lastIndexOf('/')) : '');
    const data = Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content, 'utf8');
    parts.push(header(clean, data.length, entry.mode ?? 0o644, '0', owner.uid, owner.gid), data, Buffer.alloc(pad(data.length)));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function readOctal(h: Buffer, offset: number, width: number): number {
  const text = h.toString('ascii', offset, offset + width).replace(/\0.*$/, '').trim();
  return text ? parseInt(text, 8) : 0;
}

function isZeroBlock(h: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (h[i] !== 0) return false;
  return true;
}

/** Walk the headers of an archive: yields the offset of each header and its data size. */
function* headers(tar: Buffer): Generator<{ offset: number; h: Buffer; size: number }> {
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const h = tar.subarray(offset, offset + BLOCK);
    if (isZeroBlock(h)) return;
    const size = readOctal(h, 124, 12);
    yield { offset, h, size };
    offset += BLOCK + size + pad(size);
  }
}

/** The same archive with every entry owned by uid:gid (rewrites the ustar headers in a copy). */
export function chownTar(tar: Buffer, uid: number, gid: number): Buffer {
  const out = Buffer.from(tar);
  for (const { offset } of headers(tar)) {
    const h = out.subarray(offset, offset + BLOCK);
    h.write(octal(uid, 8), 108, 'ascii');
    h.write(octal(gid, 8), 116, 'ascii');
    h.fill(0, 265, 329); // uname, gname: numeric ids only
    writeChecksum(h);
  }
  return out;
}

/** Regular files of an archive by path (pax long names are honoured). */
export function readTar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let longName: string | null = null;
  for (const { offset, h, size } of headers(tar)) {
    const type = String.fromCharCode(h[156] ?? 48);
    const data = tar.subarray(offset + BLOCK, offset + BLOCK + size);
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      longName = m ? m[1]! : null;
      continue;
    }
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    const prefix = h.toString('utf8', 345, 500).replace(/\0.*$/s, '');
    const base = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    const name = longName ?? (prefix ? `${prefix}/${base}` : base);
    longName = null;
    if (type === '0' || type === '\0') files.set(name, Buffer.from(data));
  }
  return files;
}

/** One archive with the entries of all, in order (later entries overwrite earlier ones on extraction). */
export function concatTars(tars: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const tar of tars) {
    let end = 0;
    for (const { offset, size } of headers(tar)) end = offset + BLOCK + size + pad(size);
    parts.push(tar.subarray(0, end));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
