"""How much of a run's time limit is left, counted from the start of this process.

evogit's sandbox counts a run's limit from the moment the command starts; the runner's own
timer must count from there too, not from when the interpreter got round to arming it (on a
loaded machine, starting Python and importing the tests can take seconds). Linux only (/proc);
elsewhere the limit counts from now.
"""
import os
import sysconfig


def seconds_since_start():
    try:
        with open("/proc/self/stat") as f:
            stat = f.read()
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        # Field 22, starttime, in clock ticks after boot; fields after the ")" of the name.
        started = int(stat[stat.rindex(")") + 2:].split()[19]) / os.sysconf("SC_CLK_TCK")
        return max(0.0, uptime - started)
    except (OSError, ValueError, IndexError):
        return 0.0


def seconds_left(limit):
    """At least a hundredth of a second: a timer of zero would never fire."""
    return max(0.01, limit - seconds_since_start())


# Libraries: the standard library and installed packages. Neither decides whose code runs.
_LIBRARIES = tuple(
    os.path.realpath(p) + os.sep
    for p in {sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    if p
)


def in_code_under_test(frame, runner_modules):
    """Was the interrupted code called by the code under test, rather than by the test runner?

    From the interrupted frame outwards, library frames are passed over (a loop in `re` called
    by a test is the test's; `traceback` formatting a failure for the runner is the runner's);
    the first other frame decides: the runner's own modules say no, anything else yes.
    """
    while frame is not None:
        name = (frame.f_globals.get("__name__") or "").split(".")[0]
        if name in runner_modules:
            return False
        filename = frame.f_code.co_filename
        if not filename.startswith("<") and not os.path.realpath(filename).startswith(_LIBRARIES):
            return True
        frame = frame.f_back
    return False
