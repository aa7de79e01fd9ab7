/**
 * The bench/repair corpus: one-bug programs with their real tests and the known fix, built at
 * bench time in a temp directory from local snapshots of the public repositories they come
 * from (bench/repair/sources.ts). What is committed here are facts about them only.
 *
 * - QuixBugs (Python): the 40 programs of jkoppel/QuixBugs, each with its pytest file and JSON
 *   test cases, laid out in a repository the way the benchmark lays them out (the test helpers
 *   beside the test file, the JSON cases at the root). The table below names each program's
 *   class and its known fix.
 * - JavaScript (bench/repair/corpus/js/<name>/bug.json, see js-corpus.ts): one-line bug fixes
 *   from public projects' histories: the buggy program is the fix commit's parent, the tests
 *   are the fix commit's own.
 *
 * The defect classes are ours, read off each known fix's diff; the names follow the simple-bug
 * taxonomies (ManySStuBs4J / PySStuBs, QuixBugs' own classes) the issue lists.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsNeeds, jsPrograms, readJsManifests } from './js-corpus.js';
import type { BugClass, Program } from './program.js';
import { locateSources, type Need, type Snapshot, type SourceOptions } from './sources.js';

export const CORPUS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'corpus');

export { BUG_CLASSES, type BugClass, type Program } from './program.js';

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


export const QUIXBUGS_REPO = 'jkoppel/QuixBugs';
export const QUIXBUGS_COMMIT = '4257f44b0ff1181dedaedee6a447e133219fcebf';
const QUIXBUGS_PATHS = ['python_programs', 'correct_python_programs', 'python_testcases', 'json_testcases', 'conftest.py'];

/** The QuixBugs Python programs, read out of the snapshot into `dest` (the upstream layout). */
export async function quixbugsPrograms(snapshot: Snapshot, dest: string): Promise<Program[]> {
  const root = path.join(dest, 'quixbugs');
  await snapshot.extract(QUIXBUGS_COMMIT, QUIXBUGS_PATHS, root);
  const has = new Set((await readdir(path.join(root, 'json_testcases'))).map((f) => f.replace(/\.json$/, '')));
  const tests = new Set(await readdir(path.join(root, 'python_testcases')));
  const programs: Program[] = [];
  for (const [name, [bugClass, fixNote]] of Object.entries(QUIXBUGS)) {
    if (!tests.has(`test_${name}.py`)) throw new Error(`${QUIXBUGS_REPO} at ${QUIXBUGS_COMMIT}: no python_testcases/test_${name}.py`);
    const files: [string, string][] = [
      [`python_programs/${name}.py`, path.join(root, 'python_programs', `${name}.py`)],
      // The helpers stay beside the test file (its imports), under tests/ so they are test code.
      [`tests/test_${name}.py`, path.join(root, 'python_testcases', `test_${name}.py`)],
      ['tests/load_testdata.py', path.join(root, 'python_testcases', 'load_testdata.py')],
      ['tests/node.py', path.join(root, 'python_testcases', 'node.py')],
      ['conftest.py', path.join(root, 'conftest.py')],
    ];
    if (has.has(name)) files.push([`json_testcases/${name}.json`, path.join(root, 'json_testcases', `${name}.json`)]);
    programs.push({
      id: `quixbugs/${name}`,
      language: 'python',
      bugClass,
      fixNote,
      files,
      buggy: `python_programs/${name}.py`,
      fix: path.join(root, 'correct_python_programs', `${name}.py`),
      testCommand: 'python3 -m pytest',
      origin: `${QUIXBUGS_REPO} at ${QUIXBUGS_COMMIT.slice(0, 7)}`,
    });
  }
  return programs;
}

/** Every repository and commit the corpus reads. */
export async function corpusNeeds(jsDir = path.join(CORPUS_DIR, 'js')): Promise<Need[]> {
  return [{ repo: QUIXBUGS_REPO, commits: [QUIXBUGS_COMMIT] }, ...jsNeeds(await readJsManifests(jsDir))];
}

/** Build the whole corpus under `dest` from the located snapshots. */
export async function loadCorpus(dest: string, options: SourceOptions & { jsDir?: string }): Promise<Program[]> {
  const jsDir = options.jsDir ?? path.join(CORPUS_DIR, 'js');
  const snapshots = await locateSources(await corpusNeeds(jsDir), options);
  const quix = await quixbugsPrograms(snapshots.get(QUIXBUGS_REPO)!, dest);
  const js = await jsPrograms(await readJsManifests(jsDir), snapshots, dest);
  return [...quix, ...js];
}
