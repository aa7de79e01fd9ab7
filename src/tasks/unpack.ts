/** Trees a work dir cannot hold: paths git refuses to check out or archive. */
import { listFiles } from '../git/reads.js';

/** Path parts git refuses to check out or archive ("..", ".", ".git" in any case): a tree holding one cannot be unpacked. */
export function unsafePaths(paths: string[]): string[] {
  return paths.filter((p) => p.split('/').some((part) => part === '' || part === '.' || part === '..' || part.toLowerCase() === '.git'));
}

/** Why `commit`'s tree cannot be unpacked into a work dir, or null when it can. */
export async function unpackableReason(repoDir: string, commit: string): Promise<string | null> {
  const bad = unsafePaths(await listFiles(repoDir, commit));
  return bad.length ? `the tree has paths git refuses to unpack: ${bad.slice(0, 3).map((p) => JSON.stringify(p)).join(', ')}` : null;
}
