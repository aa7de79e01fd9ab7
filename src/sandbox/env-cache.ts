/**
 * The environment images (`evogit-env:<key>`) evogit builds, one per distinct set of dependency
 * manifests: a candidate that edits its manifests makes a new one each time, so they are
 * garbage-collected by `evogit gc`, least recently used first, down to sandbox.envCache.
 * Docker keeps no record of an image's use, so evogit keeps one: a small JSON file in the
 * user's cache directory ($EVOGIT_CACHE_DIR, else $XDG_CACHE_HOME/evogit, else ~/.cache/evogit),
 * key → last use (ms). An image never recorded counts as used when it was created.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export function cacheDir(): string {
  return process.env.EVOGIT_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'evogit');
}

const FILE = 'env-images.json';
/** A use is written at most this often per key (a run every second would rewrite the file every second). */
const WRITE_EVERY_MS = 60_000;
const written = new Map<string, number>();

export function readUses(): Record<string, number> {
  try {
    const v = JSON.parse(readFileSync(path.join(cacheDir(), FILE), 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null) return {};
    return Object.fromEntries(Object.entries(v).filter(([, t]) => typeof t === 'number' && Number.isFinite(t))) as Record<string, number>;
  } catch {
    // No record yet (or a torn one): every image counts as used when it was created.
    return {};
  }
}

/** Record that the environment `key` was used now (throttled per key; a lost race only makes an image look older). */
export function recordUse(key: string, now = Date.now()): void {
  if (now - (written.get(key) ?? 0) < WRITE_EVERY_MS) return;
  written.set(key, now);
  const uses = readUses();
  uses[key] = now;
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `${FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(uses));
  renameSync(tmp, path.join(dir, FILE));
}

export interface EnvImage {
  id: string;
  key: string;
  /** Bytes this image adds to its base (its own layers). */
  bytes: number;
  /** Last use (ms), or its creation when never recorded. */
  used: number;
}

/** Which images to remove, least recently used first, until the rest fit in `capBytes` (pure). */
export function overCap(images: EnvImage[], capBytes: number): EnvImage[] {
  const byAge = [...images].sort((a, b) => a.used - b.used || (a.key < b.key ? -1 : 1));
  let total = images.reduce((n, i) => n + i.bytes, 0);
  const out: EnvImage[] = [];
  for (const i of byAge) {
    if (total <= capBytes) break;
    out.push(i);
    total -= i.bytes;
  }
  return out;
}
