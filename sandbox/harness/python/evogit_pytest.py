"""pytest plugin (PYTEST_PLUGINS=evogit_pytest): per-test coverage for evogit, see evogit_coverage.py."""
import pytest

import evogit_coverage

_outcomes = {}


def pytest_runtest_logreport(report):
    if report.failed:
        _outcomes[report.nodeid] = "fail"
    elif report.when == "call" and report.nodeid not in _outcomes:
        _outcomes[report.nodeid] = "skip" if report.skipped else "pass"
    elif report.skipped:
        _outcomes.setdefault(report.nodeid, "skip")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    traced = False
    try:
        traced = evogit_coverage.begin()
    except Exception:  # noqa: BLE001 - coverage must never change a run
        traced = False
    yield
    if traced:
        try:
            evogit_coverage.end(item.nodeid, _outcomes.get(item.nodeid, "pass"))
        except Exception:  # noqa: BLE001
            evogit_coverage.stop_all()
