def larger(a, b):
    """The larger of two numbers."""
    if a > b:
        return a
    return b


def clamp(x, lo, hi):
    """x limited to the interval [lo, hi]."""
    if x < lo:
        return lo
    if x < hi:
        return hi
    return x
