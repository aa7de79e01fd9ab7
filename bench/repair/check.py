"""Is a repair correct, not just plausible? bench/repair's check on extra inputs.

    python3 check.py python NAME CANDIDATE.py KNOWN_FIX.py

Runs the candidate and the known fix on seeded random inputs that meet each program's
preconditions (none of them from the program's test file) and prints one JSON line:
{"correct": bool, "agreed": n, "inputs": n, "detail": "first disagreement"}, where `agreed`
counts the inputs before the first disagreement (which ends the check).
Outputs are compared by value (floats to a relative 1e-6, graph nodes by their values);
an exception or a time-out agrees only with the same kind of outcome from the known fix.
"""
import copy
import importlib.util
import json
import math
import os
import random
import signal
import sys

INPUTS = 60
CALL_SECONDS = 2


def load(path, name):
    spec = importlib.util.spec_from_file_location(f"{name}_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


class TimedOut(Exception):
    pass


def _alarm(signum, frame):
    raise TimedOut()


def call(fn, args):
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CALL_SECONDS)
    try:
        result = fn(*args)
        if hasattr(result, "__next__"):  # flatten yields
            result = list(result)
        return ("ok", normalize(result))
    except TimedOut:
        return ("timeout", None)
    except RecursionError:
        return ("error", "RecursionError")
    except Exception as e:  # the program's own failure is an outcome to compare
        return ("error", type(e).__name__)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def normalize(v, depth=0):
    if depth > 50:
        return "<deep>"
    if hasattr(v, "successors") and hasattr(v, "value"):  # a graph node
        return ("node", normalize(v.value, depth + 1))
    if isinstance(v, float):
        return ("float", v)
    if isinstance(v, (list, tuple)):
        return [normalize(x, depth + 1) for x in v]
    if isinstance(v, (set, frozenset)):
        return sorted((normalize(x, depth + 1) for x in v), key=repr)
    if isinstance(v, dict):
        return sorted(((normalize(k, depth + 1), normalize(x, depth + 1)) for k, x in v.items()), key=repr)
    return v


def same(a, b):
    if isinstance(a, tuple) and len(a) == 2 and a[0] == "float" and isinstance(b, tuple) and len(b) == 2 and b[0] == "float":
        x, y = a[1], b[1]
        return x == y or (math.isfinite(x) and math.isfinite(y) and math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


# ---- graphs (built afresh for each call: programs may mutate them) ----

def node_class():
    # QuixBugs' own Node class, beside the known fix in the layout the bench builds.
    fix = sys.argv[4]
    p = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(fix))), "python_testcases", "node.py")
    if not os.path.exists(p):
        raise SystemExit(f"{p} not found: the known fix must sit in a QuixBugs layout")
    spec = importlib.util.spec_from_file_location("quixbugs_node", p)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m.Node


def random_digraph(r, n, p):
    return [[j for j in range(n) if j != i and r.random() < p] for i in range(n)]


def build_nodes(Node, succ):
    nodes = [Node(i, None, []) for i in range(len(succ))]
    for i, s in enumerate(succ):
        nodes[i].successors = [nodes[j] for j in s]
    return nodes


def linked_list(Node, n, cycle_to):
    nodes = [Node(i) for i in range(n)]
    for i in range(n - 1):
        nodes[i].successor = nodes[i + 1]
    if n and cycle_to is not None:
        nodes[-1].successor = nodes[cycle_to]
    return nodes[0] if nodes else None


# ---- one input generator per program: returns a function that builds fresh args ----

def gen_inputs(name, r):
    N = node_class() if name in GRAPH else None
    if name == "bitcount":
        n = r.randrange(0, 1 << 20)
        return lambda: (n,)
    if name in ("breadth_first_search", "depth_first_search"):
        k = r.randrange(1, 9)
        succ = random_digraph(r, k, r.choice([0.1, 0.25, 0.4]))
        a, b = r.randrange(k), r.randrange(k)

        def mk():
            nodes = build_nodes(N, succ)
            return (nodes[a], nodes[b])
        return mk
    if name == "bucketsort":
        k = r.randrange(1, 12)
        arr = [r.randrange(k) for _ in range(r.randrange(0, 15))]
        return lambda: (list(arr), k)
    if name == "detect_cycle":
        n = r.randrange(1, 8)
        cyc = r.choice([None, r.randrange(n)])
        return lambda: (linked_list(N, n, cyc),)
    if name == "find_first_in_sorted":
        arr = sorted(r.randrange(0, 10) for _ in range(r.randrange(0, 12)))
        x = r.randrange(-1, 11)
        return lambda: (list(arr), x)
    if name == "find_in_sorted":
        arr = sorted(r.sample(range(0, 40), r.randrange(0, 15)))
        x = r.choice(arr) if arr and r.random() < 0.6 else r.randrange(-1, 41)
        return lambda: (list(arr), x)
    if name == "flatten":
        def nested(d):
            return [nested(d + 1) if d < 3 and r.random() < 0.3 else r.randrange(10) for _ in range(r.randrange(0, 4))]
        arr = nested(0)
        return lambda: (copy.deepcopy(arr),)
    if name == "gcd":
        a, b = r.randrange(0, 500), r.randrange(0, 500)
        return lambda: (a, b)
    if name == "get_factors":
        n = r.randrange(1, 3000)
        if r.random() < 0.25:  # large values with small factors: exact integer arithmetic matters
            n = 1
            while n < 10 ** 16:
                n *= r.choice([2, 3, 5, 7, 11, 13])
        return lambda: (n,)
    if name == "hanoi":
        h = r.randrange(0, 7)
        s, e = r.sample([1, 2, 3], 2)
        return lambda: (h, s, e)
    if name == "is_valid_parenthesization":
        s = "".join(r.choice("()") for _ in range(r.randrange(0, 12)))
        return lambda: (s,)
    if name == "kheapsort":
        k = r.randrange(1, 4)
        arr = sorted(r.randrange(50) for _ in range(r.randrange(k + 1, 14)))
        for i in range(0, len(arr), k + 1):
            seg = arr[i:i + k + 1]
            r.shuffle(seg)
            arr[i:i + k + 1] = seg
        return lambda: (list(arr), k)
    if name == "knapsack":
        cap = r.randrange(0, 40)
        items = [(r.randrange(1, 20), r.randrange(1, 50)) for _ in range(r.randrange(0, 8))]
        return lambda: (cap, list(items))
    if name == "kth":
        arr = [r.randrange(30) for _ in range(r.randrange(1, 12))]
        k = r.randrange(len(arr))
        return lambda: (list(arr), k)
    if name in ("lcs_length", "levenshtein", "longest_common_subsequence"):
        m = 7 if name == "lcs_length" else 5
        a = "".join(r.choice("abc") for _ in range(r.randrange(0, m)))
        b = "".join(r.choice("abc") for _ in range(r.randrange(0, m)))
        return lambda: (a, b)
    if name == "lis":
        arr = r.sample(range(40), r.randrange(0, 12))
        return lambda: (list(arr),)
    if name in ("max_sublist_sum", "mergesort", "quicksort"):
        arr = [r.randrange(-20, 20) for _ in range(r.randrange(0, 14))]
        return lambda: (list(arr),)
    if name == "minimum_spanning_tree":
        k = r.randrange(2, 7)
        weights = r.sample(range(1, 100), k * k)
        edges = {}
        for i in range(1, k):
            edges[(r.randrange(i), i)] = weights.pop()
        for _ in range(r.randrange(0, k)):
            u, v = r.sample(range(k), 2)
            if (u, v) not in edges and (v, u) not in edges:
                edges[(u, v)] = weights.pop()
        return lambda: (dict(edges),)
    if name == "next_palindrome":
        n = r.randrange(1, 8)
        half = [r.randrange(10) for _ in range((n + 1) // 2)]
        half[0] = r.randrange(1, 10)
        pal = half + half[: n // 2][::-1]
        return lambda: (list(pal),)
    if name == "next_permutation":
        perm = r.sample(range(10), r.randrange(2, 7))
        if perm == sorted(perm, reverse=True):
            perm.reverse()
        return lambda: (list(perm),)
    if name == "pascal":
        n = r.randrange(1, 12)
        return lambda: (n,)
    if name == "possible_change":
        coins = r.sample(range(1, 15), r.randrange(0, 4))
        total = r.randrange(-2, 30)
        return lambda: (list(coins), total)
    if name == "powerset":
        arr = [r.choice("abcdef") for _ in range(r.randrange(0, 6))]
        return lambda: (list(arr),)
    if name == "reverse_linked_list":
        n = r.randrange(0, 8)
        return lambda: (linked_list(N, n, None),)
    if name == "rpn_eval":
        def expr(d):
            if d > 2 or r.random() < 0.3:
                return [float(r.randrange(1, 10))]
            return expr(d + 1) + expr(d + 1) + [r.choice("+-*")]
        tokens = expr(0)
        return lambda: (list(tokens),)
    if name == "shortest_path_length":
        k = r.randrange(2, 8)
        succ = random_digraph(r, k, 0.35)
        lengths = {(i, j): r.randrange(1, 20) for i, s in enumerate(succ) for j in s}
        a, b = r.randrange(k), r.randrange(k)

        def mk():
            nodes = build_nodes(N, succ)
            return ({(nodes[i], nodes[j]): w for (i, j), w in lengths.items()}, nodes[a], nodes[b])
        return mk
    if name == "shortest_path_lengths":
        k = r.randrange(1, 7)
        edges = {(i, j): r.randrange(1, 20) for i in range(k) for j in range(k) if i != j and r.random() < 0.4}
        return lambda: (k, dict(edges))
    if name == "shortest_paths":
        k = r.randrange(2, 7)
        names = [chr(65 + i) for i in range(k)]
        edges = {}
        for i in range(1, k):
            edges[(names[r.randrange(i)], names[i])] = r.randrange(-3, 10)
        for _ in range(r.randrange(0, k)):
            i, j = sorted(r.sample(range(k), 2))
            edges[(names[i], names[j])] = r.randrange(-3, 10)
        return lambda: ("A", dict(edges))
    if name == "shunting_yard":
        n = r.randrange(1, 6)
        tokens = [r.randrange(1, 10)]
        for _ in range(n - 1):
            tokens += [r.choice("+-*/"), r.randrange(1, 10)]
        return lambda: (list(tokens),)
    if name == "sieve":
        m = r.randrange(1, 300)
        return lambda: (m,)
    if name == "sqrt":
        x = r.uniform(0.5, 2000)
        return lambda: (x, 0.01)
    if name == "subsequences":
        a = r.randrange(0, 6)
        b = a + r.randrange(0, 6)
        k = r.randrange(0, 4)
        return lambda: (a, b, k)
    if name == "to_base":
        num, b = r.randrange(1, 10 ** 6), r.randrange(2, 37)
        return lambda: (num, b)
    if name == "topological_ordering":
        k = r.randrange(1, 8)
        edges = [(i, j) for i in range(k) for j in range(i + 1, k) if r.random() < 0.3]
        order = list(range(k))
        r.shuffle(order)

        def mk():
            nodes = [N(i, None, [], [], [], []) for i in range(k)]
            for i, j in edges:
                nodes[i].outgoing_nodes = nodes[i].outgoing_nodes + [nodes[j]]
                nodes[j].incoming_nodes = nodes[j].incoming_nodes + [nodes[i]]
            return ([nodes[i] for i in order],)
        return mk
    if name == "wrap":
        words = [r.choice(["a", "bb", "ccc", "dddd", "eeeeeee", "ffffffffff"]) for _ in range(r.randrange(0, 12))]
        text = " ".join(words)
        cols = r.randrange(5, 25)
        return lambda: (text, cols)
    raise SystemExit(f"no input generator for {name}")


GRAPH = {"breadth_first_search", "depth_first_search", "detect_cycle", "reverse_linked_list", "shortest_path_length", "topological_ordering"}


def main():
    language, name, candidate_path, fix_path = sys.argv[1:5]
    if language != "python":
        raise SystemExit(f"check.py: {language} programs are checked by their own extra tests")
    sys.setrecursionlimit(5000)
    candidate = load(candidate_path, name)
    fix = load(fix_path, name)
    r = random.Random(f"bench/repair:{name}")
    agreed = 0
    detail = ""
    for i in range(INPUTS):
        mk = gen_inputs(name, r)
        want = call(fix, mk())
        got = call(candidate, mk())
        if want[0] == got[0] and (want[0] != "ok" or same(want[1], got[1])) and (want[0] != "error" or want[1] == got[1]):
            agreed += 1
        else:  # one disagreement decides (and a time-out costs seconds a call)
            detail = f"input {i}: {repr(mk())[:160]} → fix {repr(want)[:120]}, candidate {repr(got)[:120]}"
            break
    print(json.dumps({"correct": agreed == INPUTS, "agreed": agreed, "inputs": INPUTS, "detail": detail}))


if __name__ == "__main__":
    main()
