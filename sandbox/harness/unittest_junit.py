"""Run Python unittest test files and write the results as JUnit XML.

    python3 unittest_junit.py --out RESULTS.xml tests/test_a.py [tests/test_b.py ...]

evogit grades from this file, never from what the tests print, and passes a result path
chosen fresh for every run. Exit status: 0 when every test passed, 1 otherwise.
"""
import argparse
import importlib.util
import os
import signal
import sys
import time
import traceback
import unittest
from xml.sax.saxutils import escape, quoteattr

from evogit_deadline import in_code_under_test, seconds_left


class Recorder(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.cases = []  # (classname, name, status, seconds, message)
        self._t = 0.0

    def startTest(self, test):
        super().startTest(test)
        self._t = time.monotonic()

    def _add(self, test, status, message=""):
        cls = type(test)
        self.cases.append((f"{cls.__module__}.{cls.__qualname__}", test._testMethodName if hasattr(test, "_testMethodName") else str(test),
                           status, time.monotonic() - self._t, message))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._add(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._add(test, "fail", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._add(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._add(test, "skip", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._add(test, "pass")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._add(test, "fail", "unexpected success")


class EvogitTimeout(BaseException):
    """Raised into the code under test at the deadline (--timeout). A BaseException, so
    `except Exception:` in that code does not swallow it."""


def arm(seconds, result):
    """At the deadline the running test fails and no further test starts; the report is still
    written. SIGALRM interrupts Python code, loops included; evogit's sandbox kills a run stuck
    in C a little later."""
    if not seconds or seconds <= 0 or not hasattr(signal, "setitimer"):
        return
    reason = f"evogit: timed out after {seconds:g} s (test.timeout)"

    def on_alarm(signum, frame):
        result.stop()
        # Only into the code under test: this harness and unittest's own bookkeeping go on.
        if in_code_under_test(frame, ("__main__", "unittest", "evogit_deadline")):
            raise EvogitTimeout(reason)

    signal.signal(signal.SIGALRM, on_alarm)
    # At the deadline, then every 0.2 s: code that swallowed the first one is interrupted again.
    signal.setitimer(signal.ITIMER_REAL, seconds_left(seconds), 0.2)


def disarm():
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, 0)


def load(path, index):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, os.path.abspath(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return unittest.defaultTestLoader.loadTestsFromModule(module)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--timeout", type=float, default=0.0, help="seconds; see arm()")
    parser.add_argument("--canary", help="evogit's canary tests: loaded before, and run after, every file")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    # Taken before any tested code loads: a module that replaces os._exit does not choose our status.
    exit_now = os._exit
    sys.path.insert(0, os.getcwd())
    result = Recorder()
    load_errors = []
    arm(args.timeout, result)
    canary = load(args.canary, -1) if args.canary else None
    for i, path in enumerate(args.files):
        if result.shouldStop:
            break  # timed out: the files not run are not in the report, so they count as failed
        try:
            suite = load(path, i)
        except (Exception, EvogitTimeout):  # a file that does not import is a failed test, not a crash
            load_errors.append((path, traceback.format_exc()))
            continue
        suite.run(result)
    if canary is not None and not result.shouldStop:
        canary.run(result)
    disarm()
    rows = []
    failures = 0
    for classname, name, status, seconds, message in result.cases:
        body = ""
        if status in ("fail", "error"):
            failures += 1
            body = f"<failure message={quoteattr(message.splitlines()[-1] if message else status)}>{escape(message)}</failure>"
        elif status == "skip":
            body = f"<skipped message={quoteattr(message)}/>"
        rows.append(f"<testcase classname={quoteattr(classname)} name={quoteattr(name)} time=\"{seconds:.3f}\">{body}</testcase>")
    for path, message in load_errors:
        failures += 1
        rows.append(f"<testcase classname={quoteattr(path)} name=\"(import)\" time=\"0\"><failure message=\"import failed\">{escape(message)}</failure></testcase>")
    xml = (f"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<testsuites><testsuite name=\"unittest\" tests=\"{len(rows)}\" failures=\"{failures}\">"
           + "".join(rows) + "</testsuite></testsuites>\n")
    # Written only after every test finished: a test cannot append to or pre-empt it.
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(xml)
    sys.stdout.flush()
    exit_now(0 if failures == 0 and rows else 1)


if __name__ == "__main__":
    main()
