def largest(xs):
    """The largest element of a non-empty list."""
    best = xs[0]
    for x in xs:
        if x > best:
            best = x
    return best


def smallest(xs):
    """The smallest element of a non-empty list."""
    best = xs[0]
    for x in xs:
        if x < best:
            best = x
