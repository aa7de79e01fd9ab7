"""Per-test line coverage for Python test runs, for evogit's fault localization.

Used by the sitecustomize beside it (unittest: every TestCase run is traced) and, under
pytest, by the plugin evogit_pytest that PYTEST_PLUGINS names (every test item is traced). Each test's lines in
the project's own files (under the working directory) are appended to the file
EVOGIT_COVERAGE names, one JSON line per test:
    {"t": "tests.test_x.T.test_y", "o": "pass" | "fail", "f": {"src/x.py": [3, 4]}}

It only ever localizes; it never grades. Anything that goes wrong switches it off quietly, and
a test that is already traced by someone else (a debugger, coverage.py) is left alone.
"""
import json
import os
import sys
import threading

OUT = os.environ.get("EVOGIT_COVERAGE")
# Tracing costs time on every line: past this many traced line events in one process the
# rest of the run goes untraced (coverage is a hint; the run's own timeout is not ours to spend).
MAX_EVENTS = int(os.environ.get("EVOGIT_COVERAGE_EVENTS", "3000000"))
MAX_BYTES = 8 * 1024 * 1024
# One test's lines are known long before a loop ends: past this many of its line events the
# frames it enters go untraced (a looping mutant then runs at full speed to its timeout).
PER_TEST = 200000

_cwd = os.getcwd() + os.sep
_here = os.path.dirname(os.path.abspath(__file__)) + os.sep
_files = {}  # co_filename -> relative path, or None for files that are not the project's
_state = {"lines": None, "events": 0, "test_events": 0, "written": 0, "off": OUT is None}


def _rel(filename):
    rel = _files.get(filename, False)
    if rel is False:
        rel = None
        path = "" if filename.startswith("<") else os.path.abspath(filename)
        if path.startswith(_cwd) and not path.startswith(_here) and "site-packages" not in path and not path.endswith(".pyc"):
            rel = path[len(_cwd):].replace(os.sep, "/")
        _files[filename] = rel
    return rel


def _local(frame, event, arg):
    if event == "line":
        lines = _state["lines"]
        if lines is None:
            return None
        _state["events"] += 1
        _state["test_events"] += 1
        if _state["events"] > MAX_EVENTS:
            stop_all()
            return None
        if _state["test_events"] > PER_TEST:
            return None
        lines.add((frame.f_code.co_filename, frame.f_lineno))
    return _local


def _global(frame, event, arg):
    if _state["lines"] is None or _rel(frame.f_code.co_filename) is None:
        return None
    return _local


def stop_all():
    _state["off"] = True
    _state["lines"] = None
    sys.settrace(None)
    threading.settrace(None)


def begin():
    """Start tracing one test; False when it is not traced (coverage off, or another tracer active)."""
    if _state["off"] or sys.gettrace() is not None:
        return False
    _state["lines"] = set()
    _state["test_events"] = 0
    threading.settrace(_global)
    sys.settrace(_global)
    return True


def end(test_id, outcome):
    """Stop tracing and record the test's lines."""
    lines = _state["lines"]
    _state["lines"] = None
    sys.settrace(None)
    threading.settrace(None)
    if lines is None or OUT is None or _state["written"] > MAX_BYTES:
        return
    by_file = {}
    for filename, line in lines:
        rel = _rel(filename)
        if rel is not None:
            by_file.setdefault(rel, []).append(line)
    record = json.dumps({"t": test_id, "o": outcome, "f": {f: sorted(ls) for f, ls in by_file.items()}})
    _state["written"] += len(record) + 1
    try:
        with open(OUT, "a", encoding="utf-8") as f:
            f.write(record + "\n")
    except OSError:
        _state["off"] = True


def patch_unittest():
    """Trace every unittest TestCase run whose result object counts failures (not pytest's)."""
    import unittest

    original = unittest.TestCase.run

    def run(self, result=None):
        if OUT is None or not isinstance(result, unittest.TestResult):
            return original(self, result)
        bad = len(result.failures) + len(result.errors) + len(getattr(result, "unexpectedSuccesses", ()))
        skipped = len(result.skipped)
        traced = False
        try:
            traced = begin()
        except Exception:  # noqa: BLE001 - coverage must never change a run
            traced = False
        try:
            return original(self, result)
        finally:
            if traced:
                now_bad = len(result.failures) + len(result.errors) + len(getattr(result, "unexpectedSuccesses", ()))
                outcome = "fail" if now_bad > bad else "skip" if len(result.skipped) > skipped else "pass"
                try:
                    end(self.id(), outcome)
                except Exception:  # noqa: BLE001
                    stop_all()

    unittest.TestCase.run = run
