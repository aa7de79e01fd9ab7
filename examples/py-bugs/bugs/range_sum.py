def sum_range(lo, hi):
    """Sum of the integers from lo to hi, both included."""
    total = 0
    i = lo
    while i < hi:
        total += i
        i += 1
    return total


def list_range(lo, hi):
    """The integers from lo to hi, both included."""
    out = []
    i = lo
    while i <= hi:
        out.append(i)
        i += 1
    return out
