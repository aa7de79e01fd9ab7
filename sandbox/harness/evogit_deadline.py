"""How much of a run's time limit is left, counted from the start of this process.

evogit's sandbox counts a run's limit from the moment the command starts; the runner's own
timer must count from there too, not from when the interpreter got round to arming it (on a
loaded machine, starting Python and importing the tests can take seconds). Linux only (/proc);
elsewhere the limit counts from now.
"""
import os


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
