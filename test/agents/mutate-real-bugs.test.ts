/**
 * The one-edit neighbourhood on real bugs: classic one-line defects of the repair literature
 * (the QuixBugs programs and the simple-bug classes of ManySStuBs4J / PySStuBs), each the
 * program as it is usually written with its known bug. For each, the known fix is one of the
 * candidates of the buggy line, made by the operator of its class, and no other line is needed.
 */
import { describe, expect, it } from 'vitest';
import { listMutationSites, neighbourhood, spliceReplacements, type MutateLanguage } from '../../src/agents/mutate/index.js';

interface RealBug {
  name: string;
  language: MutateLanguage;
  buggy: string;
  /** The buggy text and its fix: replaced once in `buggy`. */
  bug: string;
  fix: string;
  operator: string;
}

const BUGS: RealBug[] = [
  {
    name: 'gcd: arguments swapped',
    language: 'python',
    buggy: 'def gcd(a, b):\n    if b == 0:\n        return a\n    else:\n        return gcd(a % b, b)\n',
    bug: 'gcd(a % b, b)',
    fix: 'gcd(b, a % b)',
    operator: 'argument-swap',
  },
  {
    name: 'bitcount: ^= for &=',
    language: 'python',
    buggy: 'def bitcount(n):\n    count = 0\n    while n:\n        n ^= n - 1\n        count += 1\n    return count\n',
    bug: 'n ^= n - 1',
    fix: 'n &= n - 1',
    operator: 'augmented-assignment',
  },
  {
    name: 'breadth-first search: while True for while queue',
    language: 'python',
    buggy:
      'from collections import deque as Queue\n\n\ndef breadth_first_search(startnode, goalnode):\n    queue = Queue()\n    queue.append(startnode)\n\n    nodesseen = set()\n    nodesseen.add(startnode)\n\n    while True:\n        node = queue.popleft()\n\n        if node is goalnode:\n            return True\n        else:\n            queue.extend(node for node in node.successors if node not in nodesseen)\n            nodesseen.update(node.successors)\n\n    return False\n',
    bug: 'while True:',
    fix: 'while queue:',
    operator: 'condition-replace',
  },
  {
    name: 'parenthesization: a constant return',
    language: 'python',
    buggy: 'def is_valid_parenthesization(parens):\n    depth = 0\n    for paren in parens:\n        if paren == "(":\n            depth += 1\n        else:\n            depth -= 1\n            if depth < 0:\n                return False\n\n    return True\n',
    bug: 'return True',
    fix: 'return depth == 0',
    operator: 'return-value',
  },
  {
    name: 'bucketsort: the wrong collection',
    language: 'python',
    buggy: 'def bucketsort(arr, k):\n    counts = [0] * k\n    for x in arr:\n        counts[x] += 1\n\n    sorted_arr = []\n    for i, count in enumerate(arr):\n        sorted_arr.extend([i] * count)\n\n    return sorted_arr\n',
    bug: 'enumerate(arr)',
    fix: 'enumerate(counts)',
    operator: 'identifier',
  },
  {
    name: 'kheapsort: a missing slice',
    language: 'python',
    buggy: 'import heapq\n\n\ndef kheapsort(arr, k):\n    heap = arr[:k]\n    heapq.heapify(heap)\n\n    for x in arr:\n        yield heapq.heappushpop(heap, x)\n\n    while heap:\n        yield heapq.heappop(heap)\n',
    bug: 'for x in arr:',
    fix: 'for x in arr[k:]:',
    operator: 'slice-add',
  },
  {
    name: 'depth-first search: a node never marked visited',
    language: 'python',
    buggy:
      'def depth_first_search(startnode, goalnode):\n    nodesvisited = set()\n\n    def search_from(node):\n        if node in nodesvisited:\n            return False\n        elif node is goalnode:\n            return True\n        else:\n            return any(\n                search_from(nextnode) for nextnode in node.successors\n            )\n\n    return search_from(startnode)\n',
    bug: '        else:\n            return any(',
    fix: '        else:\n            nodesvisited.add(node)\n            return any(',
    operator: 'collection-insert',
  },
  {
    name: 'binary search: an inclusive bound',
    language: 'javascript',
    buggy: 'export function findInSorted(arr, x) {\n  function binsearch(start, end) {\n    if (start === end) {\n      return -1;\n    }\n    const mid = start + Math.floor((end - start) / 2);\n    if (x < arr[mid]) {\n      return binsearch(start, mid);\n    } else if (x > arr[mid]) {\n      return binsearch(mid, end);\n    } else {\n      return mid;\n    }\n  }\n  return binsearch(0, arr.length);\n}\n',
    bug: 'binsearch(mid, end)',
    fix: 'binsearch(mid + 1, end)',
    operator: 'off-by-one',
  },
  {
    name: 'knapsack: < for <=',
    language: 'javascript',
    buggy: 'export function knapsack(capacity, items) {\n  const memo = new Map();\n  for (let i = 1; i <= items.length; i++) {\n    const [weight, value] = items[i - 1];\n    for (let j = 1; j <= capacity; j++) {\n      memo.set(`${i},${j}`, memo.get(`${i - 1},${j}`) ?? 0);\n      if (weight < j) {\n        memo.set(`${i},${j}`, Math.max(memo.get(`${i},${j}`), value + (memo.get(`${i - 1},${j - weight}`) ?? 0)));\n      }\n    }\n  }\n  return memo.get(`${items.length},${capacity}`) ?? 0;\n}\n',
    bug: 'weight < j',
    fix: 'weight <= j',
    operator: 'binary-operator',
  },
  {
    name: 'clamp: min for max',
    language: 'typescript',
    buggy: 'export function clamp(value: number, low: number, high: number): number {\n  return Math.max(low, Math.max(value, high));\n}\n',
    bug: 'Math.max(value, high)',
    fix: 'Math.min(value, high)',
    operator: 'call-replace',
  },
];

const lineOf = (text: string, at: number): number => text.slice(0, at).split('\n').length;

describe('the one-edit neighbourhood of the buggy line holds the known fix', () => {
  for (const bug of BUGS) {
    it(`${bug.name} (${bug.language}, ${bug.operator})`, async () => {
      const at = bug.buggy.indexOf(bug.bug);
      expect(at).toBeGreaterThanOrEqual(0);
      const fixed = bug.buggy.slice(0, at) + bug.fix + bug.buggy.slice(at + bug.bug.length);
      // Only the buggy line is suspicious (the lines of a multi-line fix: its first one).
      const line = lineOf(bug.buggy, at + bug.bug.search(/\S/) + (bug.bug.startsWith(' ') && bug.bug.includes('\n') ? bug.bug.indexOf('\n') + 1 : 0));
      const sites = await listMutationSites(bug.buggy, bug.language);
      const candidates = neighbourhood([{ path: 'f', language: bug.language, source: bug.buggy, sites }], (_f, l, end) => (l <= line && line <= end ? 1 : 0));
      const fixes = candidates.filter((c) => spliceReplacements(bug.buggy, c.site.mutation(c.index).replacements) === fixed);
      expect(fixes.map((c) => c.site.operator)).toContain(bug.operator);
    });
  }
});
