/** `evogit init --template agent`: the seed coding agent copied into a repository. */
import { access, readdir, readFile, stat } from 'node:fs/promises';
import type { FileToCommit } from '../../git/commit-files.js';
import path from 'node:path';
import { EvogitError } from '../../errors/index.js';
import { packageRoot } from '../llm/index.js';

export function seedAgentDir(): string {
  return path.join(packageRoot(), 'agents', 'seed');
}

/**
 * The seed agent's files (agents/seed/*, recursively), to be committed into `dir` by `evogit
 * init --template agent`; refused when one of them is already there.
 */
export async function agentTemplateFiles(dir: string): Promise<FileToCommit[]> {
  const from = seedAgentDir();
  const names = (await readdir(from, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(from, path.join(e.parentPath, e.name)));
  for (const f of names.sort()) {
    const taken = await access(path.join(dir, f)).then(
      () => true,
      () => false,
    );
    if (taken) throw new EvogitError('E_TEMPLATE_EXISTS', `${f} already exists in ${dir}`, 'Start the agent template in an empty repository (or remove the file).');
  }
  return Promise.all(
    names.map(async (f) => {
      const full = path.join(from, f);
      return { path: f.split(path.sep).join('/'), content: await readFile(full), executable: ((await stat(full)).mode & 0o111) !== 0 };
    }),
  );
}
