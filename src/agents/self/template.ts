/** `evogit init --template agent`: the seed coding agent copied into a repository. */
import { access, cp, readdir } from 'node:fs/promises';
import path from 'node:path';
import { EvogitError } from '../../errors/index.js';
import { packageRoot } from '../llm/index.js';

export function seedAgentDir(): string {
  return path.join(packageRoot(), 'agents', 'seed');
}

/** Copy agents/seed/* into `dir` (the files only; the caller commits). Returns the files copied. */
export async function initAgentTemplate(dir: string): Promise<string[]> {
  const from = seedAgentDir();
  const files = (await readdir(from)).sort();
  for (const f of files) {
    const taken = await access(path.join(dir, f)).then(
      () => true,
      () => false,
    );
    if (taken) throw new EvogitError('E_TEMPLATE_EXISTS', `${f} already exists in ${dir}`, 'Start the agent template in an empty repository (or remove the file).');
  }
  for (const f of files) await cp(path.join(from, f), path.join(dir, f), { recursive: true, errorOnExist: true, force: false });
  return files;
}
