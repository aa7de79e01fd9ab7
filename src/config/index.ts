import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { EvogitError } from '../errors/index.js';
import { ConfigSchema, type Config, type ConfigInput } from './schema.js';

export { ConfigSchema, type Config, type ConfigInput } from './schema.js';

export const CONFIG_FILE = 'evogit.yml';

/** Paths a candidate may never change, whatever the config says. */
export const ALWAYS_PROTECTED = [CONFIG_FILE];

export interface ConfigIssue {
  /** Dotted path of the offending field, e.g. `sandbox.memory`. */
  path: string;
  message: string;
}

export interface CheckedConfig {
  config: Config | null;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** Validate a parsed config object; never throws. */
export function checkConfig(raw: unknown): CheckedConfig {
  const result = ConfigSchema.safeParse(raw ?? {});
  if (result.success) return { config: result.data, errors: [], warnings: [] };
  const errors = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(top level)',
    message: describeIssue(issue),
  }));
  return { config: null, errors, warnings: [] };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove or correct ${issue.keys.length > 1 ? 'them' : 'it'}`;
  return issue.message;
}

/** Parse YAML text (or JSON, which is YAML) into a validated config. */
export function parseConfigText(text: string, file = CONFIG_FILE): Config {
  let raw: unknown;
  try {
    raw = YAML.parse(text, { prettyErrors: true });
  } catch (e) {
    const line = e instanceof YAML.YAMLParseError && e.linePos ? `:${e.linePos[0].line}` : '';
    throw new EvogitError(
      'E_CONFIG_SYNTAX',
      `${file}${line} is not valid YAML: ${(e as Error).message.split('\n')[0]}`,
      `Fix the syntax in ${file}, or regenerate it with \`evogit init --force\`.`,
    );
  }
  const checked = checkConfig(raw);
  if (!checked.config) {
    const first = checked.errors[0]!;
    const more = checked.errors.length > 1 ? ` (and ${checked.errors.length - 1} more)` : '';
    throw new EvogitError(
      'E_CONFIG_INVALID',
      `${file}: ${first.path}: ${first.message}${more}`,
      checked.errors.length > 1
        ? `Also: ${checked.errors.slice(1, 4).map((e) => `${e.path}: ${e.message}`).join('; ')}. See the config reference in the README.`
        : 'See the config reference in the README, or schema/evogit.schema.json.',
    );
  }
  return checked.config;
}

export async function loadConfig(repoDir: string): Promise<Config> {
  const file = path.join(repoDir, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new EvogitError('E_NOT_INITIALISED', `no ${CONFIG_FILE} in ${repoDir}`, 'Run `evogit init` first.');
    }
    throw e;
  }
  return parseConfigText(text, CONFIG_FILE);
}

/** The defaults filled in around the given fields (a test command is the one required field). */
export function defaultConfig(overrides: Partial<ConfigInput> & Pick<ConfigInput, 'test'>): Config {
  return ConfigSchema.parse(overrides);
}

/** JSON Schema for editors (written to schema/evogit.schema.json by the build). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' });
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "90s" → 90000. Numbers are milliseconds already. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(value.trim());
  if (!m) throw new EvogitError('E_DURATION', `"${value}" is not a duration`, 'Write it like "90s", "5m" or "1h".');
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

/** "512m" → bytes. */
export function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(value.trim());
  if (!m) throw new EvogitError('E_SIZE', `"${value}" is not a size`, 'Write it like "512m" or "2g".');
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * unit);
}

export function stringifyConfig(config: ConfigInput): string {
  return YAML.stringify(config, { lineWidth: 100 });
}
