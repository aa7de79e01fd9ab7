"""pytest plugin: end a run at evogit's deadline with a report, instead of being killed.

    python3 -m pytest -p evogit_timeout --evogit-timeout=SECONDS ...

evogit derives a run's limit from the root's measured run (test.timeout: auto). At the
deadline the test that is running fails ("timed out"), no further test starts, and pytest
still writes its JUnit report: the tests that ran are graded, the ones that did not count as
failed. A module that loops while it is being imported fails its collection the same way.

The timer is SIGALRM: it interrupts Python code, loops included, but not a call stuck in C
that never returns to the interpreter; for that, the sandbox kills the run a little later.
"""
import signal

import pytest

from evogit_deadline import in_code_under_test, seconds_left


class EvogitTimeout(BaseException):
    """Raised at the deadline. A BaseException, so `except Exception:` in the code under test
    does not swallow it."""


_state = {"seconds": 0.0, "session": None}


def pytest_addoption(parser):
    parser.addoption("--evogit-timeout", type=float, default=0.0,
                     help="evogit: end the run after this many seconds, failing the running test")


_OWN = ("_pytest", "pytest", "pluggy", "evogit_timeout", "evogit_deadline")


def _on_alarm(signum, frame):
    reason = f"evogit: timed out after {_state['seconds']:g} s (test.timeout)"
    session = _state["session"]
    if session is not None:
        session.shouldstop = reason  # no further test starts
    # Raised only into the code under test (or a module being imported): interrupting pytest's
    # own work (between tests, formatting a failure, writing the report) would cost the report.
    if in_code_under_test(frame, _OWN):
        raise EvogitTimeout(reason)


def _disarm():
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, 0)


def pytest_configure(config):
    seconds = config.getoption("--evogit-timeout")
    if not seconds or seconds <= 0 or not hasattr(signal, "setitimer"):
        return
    _state["seconds"] = seconds
    signal.signal(signal.SIGALRM, _on_alarm)
    # Fires at the deadline (collection included), then every 0.2 s: code that swallowed the
    # first one is interrupted again.
    signal.setitimer(signal.ITIMER_REAL, seconds_left(seconds), 0.2)


def pytest_sessionstart(session):
    _state["session"] = session


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    # Before the JUnit report is written: nothing may interrupt that.
    _disarm()


def pytest_unconfigure(config):
    _disarm()
