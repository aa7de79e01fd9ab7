/**
 * Prompts are plain files under agents/prompts/ in the package, so a user can read and change
 * them; `{{name}}` placeholders are filled here. Loaded at run time, never inlined.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Prompts {
  system: string;
  editFormat: string;
  task: string;
  retryFeedback: string;
}

/** The directory holding evogit's package.json, from src/ (tsx, vitest) or dist/. */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'evogit') return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find the evogit package root above ${from}`);
  }
}

export function defaultPromptsDir(): string {
  return path.join(packageRoot(), 'agents', 'prompts');
}

export async function loadPrompts(dir = defaultPromptsDir()): Promise<Prompts> {
  const read = (name: string): Promise<string> => readFile(path.join(dir, name), 'utf8');
  const [system, editFormat, task, retryFeedback] = await Promise.all([read('system.md'), read('edit-format.md'), read('task.md'), read('retry-feedback.md')]);
  return { system, editFormat, task, retryFeedback };
}

/** Replace `{{name}}` with values[name]; unknown placeholders stay as they are. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => (name in values ? values[name]! : whole));
}
