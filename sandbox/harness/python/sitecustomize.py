"""evogit's per-test coverage for unittest runs (see evogit_coverage.py), loaded at startup
because the run's PYTHONPATH starts with this folder. It then hands over to the next
sitecustomize on the path (the distribution's own, when there is one)."""
import os
import sys

if os.environ.get("EVOGIT_COVERAGE"):
    try:
        import evogit_coverage

        evogit_coverage.patch_unittest()
    except Exception:  # noqa: BLE001 - coverage must never stop a run
        pass


def _next_sitecustomize():
    import importlib.util
    from importlib.machinery import PathFinder

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = PathFinder.find_spec("sitecustomize", rest)
    if spec and spec.loader and spec.origin and os.path.abspath(spec.origin) != os.path.abspath(__file__):
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


try:
    _next_sitecustomize()
except Exception:  # noqa: BLE001 - as Python itself does with a failing sitecustomize, go on
    pass
