/**
 * Objects written by git itself, over kept-open pipes: one `git hash-object -w --no-filters
 * --stdin-paths -t <type>` per object type, fed the path of a temporary file holding the
 * content, answering with the object's id. git hashes in the repository's object format,
 * checks what it writes (a malformed tree or commit is refused), honours
 * core.sharedRepository, and refreshes an object that is already there (so a concurrent
 * `git gc --prune` does not remove what was just "written"). evogit only hands it bytes.
 */
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InfraError } from '../errors/index.js';
import type { ProcPipe } from '../proc/index.js';

export type ObjectType = 'blob' | 'tree' | 'commit';

const ID = /^([0-9a-f]{40}|[0-9a-f]{64})$/;
/** Shared by every writer of this process: two kept-open Gits never name a file alike. */
let seq = 0;

export class ObjectWriter {
  private readonly pipes = new Map<ObjectType, ProcPipe>();

  /**
   * `tmpDir`: where the content waits for git to read it (under the repository's own git dir,
   * so a file never crosses a filesystem); `open`: a kept-open git process with these arguments.
   */
  constructor(
    private readonly tmpDir: string,
    private readonly open: (args: string[]) => ProcPipe,
  ) {}

  /** Whether a path can be handed to `--stdin-paths` as one line (git would unquote a leading quote). */
  static usable(tmpDir: string): boolean {
    return !/[\n\r"]/.test(tmpDir);
  }

  async write(type: ObjectType, content: string | Buffer): Promise<string> {
    const file = path.join(this.tmpDir, `object-${process.pid}-${++seq}`);
    try {
      writeFileSync(file, content);
    } catch (e) {
      // The folder is made on first use, and again if someone removed .git/evogit meanwhile.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mkdirSync(this.tmpDir, { recursive: true });
      writeFileSync(file, content);
    }
    try {
      let pipe = this.pipes.get(type);
      if (!pipe?.alive) {
        pipe = this.open(['hash-object', '-w', '--no-filters', '--stdin-paths', '-t', type]);
        this.pipes.set(type, pipe);
      }
      const id = await pipe.ask(`${file}\n`, (r) => r.line());
      if (id !== null && ID.test(id)) return id;
      // git ends the process on an object it refuses: its stderr says why.
      const ended = await pipe.exited;
      throw new InfraError('E_BAD_OBJECT', `git refused to write a ${type} object: ${ended.stderr.trim() || `it answered ${JSON.stringify(id)}`}`, 'This is a bug in evogit; please report it.');
    } finally {
      unlinkSync(file);
    }
  }

  /** End the processes (each exits when its stdin closes). */
  async close(): Promise<void> {
    const pipes = [...this.pipes.values()];
    this.pipes.clear();
    await Promise.all(pipes.map((p) => p.close()));
  }
}
