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
  {
    name: 'all-pairs shortest paths: indices swapped in a multi-index subscript',
    language: 'python',
    buggy:
      'from collections import defaultdict\n\n\ndef all_pairs(n, weights):\n    dist = defaultdict(lambda: float("inf"))\n    dist.update(weights)\n    for v in range(n):\n        dist[v, v] = 0\n    for k in range(n):\n        for i in range(n):\n            for j in range(n):\n                dist[i, j] = min(dist[i, j], dist[i, k] + dist[j, k])\n    return dist\n',
    bug: 'dist[i, k] + dist[j, k]',
    fix: 'dist[i, k] + dist[k, j]',
    operator: 'argument-swap',
  },
  {
    name: 'next palindrome: a length one too long, in parentheses',
    language: 'python',
    buggy: 'def all_nines(digits):\n    return [1] + (len(digits)) * [0] + [1]\n',
    bug: '(len(digits)) * [0]',
    fix: '(len(digits) - 1) * [0]',
    operator: 'off-by-one',
  },
  {
    name: 'subsequences: the empty list for the list of the empty one',
    language: 'python',
    buggy: 'def combinations(lo, hi, k):\n    if k == 0:\n        return []\n    out = []\n    for i in range(lo, hi + 1 - k):\n        out.extend([i] + tail for tail in combinations(i + 1, hi, k - 1))\n    return out\n',
    bug: 'return []',
    fix: 'return [[]]',
    operator: 'return-value',
  },
  {
    name: 'prime factors: a prime returned as no factor at all',
    language: 'python',
    buggy: 'def factors(n):\n    if n == 1:\n        return []\n    for d in range(2, int(n ** 0.5) + 1):\n        if n % d == 0:\n            return [d] + factors(n // d)\n    return []\n',
    bug: ' factors(n // d)\n    return []',
    fix: ' factors(n // d)\n    return [n]',
    operator: 'return-value',
  },
  {
    name: 'making change: no guard for running out of coins',
    language: 'python',
    buggy: 'def ways(coins, total):\n    if total == 0:\n        return 1\n    if total < 0:\n        return 0\n    first, *rest = coins\n    return ways(coins, total - first) + ways(rest, total)\n',
    bug: 'if total < 0:',
    fix: 'if total < 0 or not coins:',
    operator: 'conjunct-add',
  },
  {
    name: 'cycle detection: a missing null check before a dereference',
    language: 'python',
    buggy: 'def has_cycle(head):\n    slow = fast = head\n    while True:\n        if fast.next is None:\n            return False\n        slow = slow.next\n        fast = fast.next.next\n        if slow is fast:\n            return True\n',
    bug: 'if fast.next is None:',
    fix: 'if fast is None or fast.next is None:',
    operator: 'conjunct-add',
  },
  {
    name: 'quickselect: a missing term in a recursive call',
    language: 'python',
    buggy: 'def select(xs, k):\n    pivot = xs[0]\n    lower = [x for x in xs if x < pivot]\n    upper = [x for x in xs if x > pivot]\n    n_lower = len(lower)\n    n_upto = len(xs) - len(upper)\n    if k < n_lower:\n        return select(lower, k)\n    elif k >= n_upto:\n        return select(upper, k)\n    return pivot\n',
    bug: 'select(upper, k)',
    fix: 'select(upper, k - n_upto)',
    operator: 'operand-add',
  },
  {
    name: 'paged list: an index into one page that forgets the pages before it',
    language: 'python',
    buggy: 'def item_at(pages, n):\n    seen = 0\n    for page in pages:\n        size = len(page)\n        if n < seen + size:\n            return page[n]\n        seen += size\n    return None\n',
    bug: 'return page[n]',
    fix: 'return page[n - seen]',
    operator: 'operand-add',
  },
  {
    name: 'power set: the subsets without the first element dropped',
    language: 'python',
    buggy: 'def subsets(xs):\n    if not xs:\n        return [[]]\n    head, *tail = xs\n    without = subsets(tail)\n    return [[head] + s for s in without]\n',
    bug: 'return [[head] + s for s in without]',
    fix: 'return without + [[head] + s for s in without]',
    operator: 'operand-add',
  },
  {
    name: 'option defaults: a lookup with no list for an unexpected type',
    language: 'javascript',
    buggy: "export function byType(defaults) {\n  const out = { string: [], number: [], boolean: [] };\n  for (const k in defaults) {\n    out[typeof defaults[k]].push(k);\n  }\n  return out;\n}\n",
    bug: 'out[typeof defaults[k]].push(k)',
    fix: '(out[typeof defaults[k]] || []).push(k)',
    operator: 'receiver',
  },
  {
    name: 'deep set: continue past a forbidden key where the loop must stop',
    language: 'javascript',
    buggy: "export function put(obj, keys, value) {\n  let target = obj;\n  for (let i = 0; i < keys.length; i++) {\n    const key = keys[i];\n    if (key === '__proto__' || key === 'constructor') continue;\n    target = target[key] = i === keys.length - 1 ? value : target[key] || {};\n  }\n}\n",
    bug: "'constructor') continue;",
    fix: "'constructor') break;",
    operator: 'jump-replace',
  },
  {
    name: 'query string: a key never decoded',
    language: 'javascript',
    buggy: "function value(s) {\n  return s ? decodeURIComponent(s) : '';\n}\n\nexport function parse(query) {\n  const out = {};\n  for (const pair of query.split('&')) {\n    const parts = pair.split('=');\n    const key = parts.shift();\n    out[key] = value(parts.shift());\n  }\n  return out;\n}\n",
    bug: 'const key = parts.shift();',
    fix: 'const key = decodeURIComponent(parts.shift());',
    operator: 'call-wrap',
  },
  {
    name: 'deep copy: a map key shared, not copied',
    language: 'javascript',
    buggy: "export function copy(x) {\n  if (x instanceof Map) {\n    const out = new Map();\n    x.forEach((val, key) => {\n      out.set(key, copy(val));\n    });\n    return out;\n  }\n  if (Array.isArray(x)) return x.map(copy);\n  return x;\n}\n",
    bug: 'out.set(key, copy(val))',
    fix: 'out.set(copy(key), copy(val))',
    operator: 'call-wrap',
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
