/**
 * Lazy, cached tree-sitter parsers. The runtime is web-tree-sitter; the grammars are the
 * prebuilt .wasm files shipped by @vscode/tree-sitter-wasm (ABI 14/15, which the 0.27 runtime
 * loads). Nothing is loaded until the first parse, and each grammar is loaded once.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { Language, Parser, type Node, type Tree } from 'web-tree-sitter';

export type MutateLanguage = 'javascript' | 'typescript' | 'tsx' | 'python';

const GRAMMAR_FILE: Record<MutateLanguage, string> = {
  javascript: 'tree-sitter-javascript.wasm',
  typescript: 'tree-sitter-typescript.wasm',
  tsx: 'tree-sitter-tsx.wasm',
  python: 'tree-sitter-python.wasm',
};

/** The language of a file by its extension, or null when mutation does not support it. */
export function languageOfPath(file: string): MutateLanguage | null {
  if (file.endsWith('.d.ts') || file.endsWith('.d.mts') || file.endsWith('.d.cts')) return null;
  const ext = path.extname(file).toLowerCase();
  switch (ext) {
    case '.js':
    case '.mjs':
    case '.cjs':
    case '.jsx':
      return 'javascript';
    case '.ts':
    case '.mts':
    case '.cts':
      return 'typescript';
    case '.tsx':
      return 'tsx';
    case '.py':
      return 'python';
    default:
      return null;
  }
}

let runtime: Promise<void> | undefined;
const parsers = new Map<MutateLanguage, Promise<Parser>>();

function grammarPath(language: MutateLanguage): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@vscode/tree-sitter-wasm/package.json');
  return path.join(path.dirname(pkg), 'wasm', GRAMMAR_FILE[language]);
}

async function loadParser(language: MutateLanguage): Promise<Parser> {
  runtime ??= Parser.init();
  await runtime;
  const grammar = await Language.load(grammarPath(language));
  const parser = new Parser();
  parser.setLanguage(grammar);
  return parser;
}

export async function parserFor(language: MutateLanguage): Promise<Parser> {
  let parser = parsers.get(language);
  if (!parser) {
    parser = loadParser(language);
    parsers.set(language, parser);
    // A failed load must not poison the cache for the next caller.
    parser.catch(() => parsers.delete(language));
  }
  return parser;
}

export async function parse(source: string, language: MutateLanguage): Promise<Tree> {
  const parser = await parserFor(language);
  const tree = parser.parse(source);
  if (!tree) throw new Error(`tree-sitter returned no tree for a ${language} source`);
  return tree;
}

/** True when the tree holds an ERROR or MISSING node: the source does not parse cleanly. */
export function hasSyntaxError(root: Node): boolean {
  return root.hasError;
}
