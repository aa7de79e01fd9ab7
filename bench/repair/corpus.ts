/**
 * The bench/repair corpus: one-bug programs with their real tests and the known fix.
 *
 * - QuixBugs (Python): the 40 programs of jkoppel/QuixBugs (MIT), each with its pytest file
 *   and JSON test cases, laid out in a repository the way the benchmark lays them out (the
 *   test helpers beside the test file, the JSON cases at the root). Read from a checkout:
 *   the committed copy under bench/repair/corpus/quixbugs, or any other with `--quixbugs`.
 * - JavaScript (bench/repair/corpus/js/<name>/): one-line bug fixes from public projects'
 *   histories, each with the project's own test for it and a `bug.json` naming its origin.
 *
 * The defect classes are ours, read off each known fix's diff; the names follow the simple-bug
 * taxonomies (ManySStuBs4J / PySStuBs, QuixBugs' own classes) the issue lists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORPUS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'corpus');

export interface Program {
  /** `quixbugs/gcd`, `js/<name>`. */
  id: string;
  language: 'python' | 'javascript';
  bugClass: BugClass;
  /** The known fix, as a one-line description. */
  fixNote: string;
  /** The buggy repository: repository-relative path → absolute path of its content. */
  files: [string, string][];
  /** The repository-relative file holding the bug. */
  buggy: string;
  /** Absolute path of the known fix of `buggy`. */
  fix: string;
  testCommand: string;
  /** Where it came from (repository, commit, licence). */
  origin: string;
}

export const BUG_CLASSES = [
  'operator',
  'wrong identifier',
  'swapped arguments/operands',
  'off-by-one',
  'condition edit',
  'return expression',
  'slice/subscript',
  'call added/dropped/replaced',
  'missing statement',
  'missing/extra arithmetic',
  'statement replaced',
  'literal',
] as const;
export type BugClass = (typeof BUG_CLASSES)[number];

/** QuixBugs program → its class and known fix (from `diff python_programs correct_python_programs`). */
const QUIXBUGS: Record<string, [BugClass, string]> = {
  bitcount: ['operator', 'n ^= n - 1 → n &= n - 1 (augmented assignment)'],
  breadth_first_search: ['condition edit', 'while True: → while queue: (literal condition)'],
  bucketsort: ['wrong identifier', 'enumerate(arr) → enumerate(counts)'],
  depth_first_search: ['missing statement', 'add nodesvisited.add(node)'],
  detect_cycle: ['condition edit', 'hare.successor is None → hare is None or hare.successor is None (missing disjunct)'],
  find_first_in_sorted: ['operator', 'lo <= hi → lo < hi'],
  find_in_sorted: ['off-by-one', 'binsearch(mid, end) → binsearch(mid + 1, end)'],
  flatten: ['call added/dropped/replaced', 'yield flatten(x) → yield x (extra call)'],
  gcd: ['swapped arguments/operands', 'gcd(a % b, b) → gcd(b, a % b)'],
  get_factors: ['return expression', 'return [] → return [n]'],
  hanoi: ['wrong identifier', '(start, helper) → (start, end)'],
  is_valid_parenthesization: ['return expression', 'return True → return depth == 0'],
  kheapsort: ['slice/subscript', 'for x in arr → for x in arr[k:]'],
  knapsack: ['operator', 'weight < j → weight <= j'],
  kth: ['missing/extra arithmetic', 'kth(above, k) → kth(above, k - num_lessoreq)'],
  lcs_length: ['off-by-one', 'dp[i - 1, j] → dp[i - 1, j - 1]'],
  levenshtein: ['missing/extra arithmetic', '1 + levenshtein(…) → levenshtein(…) (extra term)'],
  lis: ['call added/dropped/replaced', 'longest = length + 1 → longest = max(longest, length + 1)'],
  longest_common_subsequence: ['slice/subscript', 'lcs(a[1:], b) → lcs(a[1:], b[1:])'],
  max_sublist_sum: ['call added/dropped/replaced', 'max_ending_here + x → max(0, max_ending_here + x)'],
  mergesort: ['condition edit', 'len(arr) == 0 → len(arr) <= 1 (operator and constant)'],
  minimum_spanning_tree: ['call added/dropped/replaced', 'group_by_node[node].update(group_by_node[u]) → group_by_node[node] = group_by_node[u]'],
  next_palindrome: ['off-by-one', '(len(digit_list)) * [0] → (len(digit_list) - 1) * [0]'],
  next_permutation: ['swapped arguments/operands', 'perm[j] < perm[i] → perm[i] < perm[j]'],
  pascal: ['off-by-one', 'range(0, r) → range(0, r + 1)'],
  possible_change: ['condition edit', 'total < 0 → total < 0 or not coins (missing disjunct)'],
  powerset: ['missing/extra arithmetic', 'return [[first] + s …] → return rest_subsets + [[first] + s …]'],
  quicksort: ['operator', 'x > pivot → x >= pivot'],
  reverse_linked_list: ['missing statement', 'add prevnode = node'],
  rpn_eval: ['swapped arguments/operands', 'op(token, a, b) → op(token, b, a)'],
  shortest_path_length: ['wrong identifier', 'get(unvisited_nodes, nextnode) + … → distance + …'],
  shortest_path_lengths: ['swapped arguments/operands', 'length_by_path[j, k] → length_by_path[k, j]'],
  shortest_paths: ['wrong identifier', 'weight_by_edge[u, v] = … → weight_by_node[v] = …'],
  shunting_yard: ['missing statement', 'add opstack.append(token)'],
  sieve: ['call added/dropped/replaced', 'any(…) → all(…)'],
  sqrt: ['missing/extra arithmetic', 'abs(x - approx) → abs(x - approx ** 2)'],
  subsequences: ['return expression', 'return [] → return [[]]'],
  to_base: ['swapped arguments/operands', 'result + alphabet[i] → alphabet[i] + result'],
  topological_ordering: ['wrong identifier', 'nextnode.outgoing_nodes → nextnode.incoming_nodes (field)'],
  wrap: ['missing statement', 'add lines.append(text) before the return'],
};

export const QUIXBUGS_ORIGIN = 'jkoppel/QuixBugs at 4257f44b0ff1181dedaedee6a447e133219fcebf (MIT licence)';

/** The QuixBugs Python programs of a checkout (the upstream layout). */
export function quixbugsPrograms(root: string): Program[] {
  const need = ['python_programs', 'correct_python_programs', 'python_testcases', 'json_testcases', 'conftest.py'];
  const missing = need.filter((p) => !existsSync(path.join(root, p)));
  if (missing.length > 0) throw new Error(`${root} is not a QuixBugs checkout (missing ${missing.join(', ')})`);
  const programs: Program[] = [];
  for (const [name, [bugClass, fixNote]] of Object.entries(QUIXBUGS)) {
    const test = path.join(root, 'python_testcases', `test_${name}.py`);
    if (!existsSync(test)) throw new Error(`${root}: no python_testcases/test_${name}.py`);
    const files: [string, string][] = [
      [`python_programs/${name}.py`, path.join(root, 'python_programs', `${name}.py`)],
      // The helpers stay beside the test file (its imports), under tests/ so they are test code.
      [`tests/test_${name}.py`, test],
      ['tests/load_testdata.py', path.join(root, 'python_testcases', 'load_testdata.py')],
      ['tests/node.py', path.join(root, 'python_testcases', 'node.py')],
      ['conftest.py', path.join(root, 'conftest.py')],
    ];
    const json = path.join(root, 'json_testcases', `${name}.json`);
    if (existsSync(json)) files.push([`json_testcases/${name}.json`, json]);
    programs.push({
      id: `quixbugs/${name}`,
      language: 'python',
      bugClass,
      fixNote,
      files,
      buggy: `python_programs/${name}.py`,
      fix: path.join(root, 'correct_python_programs', `${name}.py`),
      testCommand: 'python3 -m pytest',
      origin: QUIXBUGS_ORIGIN,
    });
  }
  return programs;
}

interface JsBugManifest {
  class: BugClass;
  fix: string;
  origin: string;
  /** Repository-relative path of the buggy file. */
  buggy: string;
  /** The known fix's content of `buggy`, relative to the bug's directory. */
  fixed: string;
  test: string;
}

/** The JavaScript bugs: each directory holds `bug.json`, `repo/` (the buggy repository) and the fixed file. */
export function jsPrograms(root: string): Program[] {
  if (!existsSync(root)) return [];
  const programs: Program[] = [];
  for (const name of readdirSync(root).sort()) {
    const dir = path.join(root, name);
    const manifestFile = path.join(dir, 'bug.json');
    if (!existsSync(manifestFile)) continue;
    const m = JSON.parse(readFileSync(manifestFile, 'utf8')) as JsBugManifest;
    if (!(BUG_CLASSES as readonly string[]).includes(m.class)) throw new Error(`${manifestFile}: unknown class "${m.class}"`);
    const repo = path.join(dir, 'repo');
    programs.push({
      id: `js/${name}`,
      language: 'javascript',
      bugClass: m.class,
      fixNote: m.fix,
      files: walk(repo).map((rel) => [rel, path.join(repo, rel)]),
      buggy: m.buggy,
      fix: path.join(dir, m.fixed),
      testCommand: m.test,
      origin: m.origin,
    });
  }
  return programs;
}

function walk(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...walk(root, p));
    else out.push(p);
  }
  return out.sort();
}

export function loadCorpus(options: { quixbugs?: string; js?: string } = {}): Program[] {
  return [
    ...quixbugsPrograms(options.quixbugs ?? path.join(CORPUS_DIR, 'quixbugs')),
    ...jsPrograms(options.js ?? path.join(CORPUS_DIR, 'js')),
  ];
}
