"""Argument checks remembered per call signature.

A layer calls its op with the same shapes and hyperparameters every step, and checking them (tuples
of ints, output sizes, the error cases) costs a pooling or convolution call 15-30 us in Python, as
much as the op on one small image. :func:`remembered` computes such a function once per signature.
"""
import functools


def _typed(value):
    # The type is part of the key: 1.0 equals 1 and hashes like it, but must fail a check that 1 passes.
    if isinstance(value, (tuple, list)):
        return type(value), tuple(_typed(v) for v in value)
    return type(value), value


def remembered(fn, size=512):
    """``fn`` (a pure function of its positional arguments that returns immutable results) computed
    once per signature, for up to ``size`` signatures. Unhashable arguments (an array) are computed
    afresh; errors are never remembered."""
    results = {}

    @functools.wraps(fn)
    def wrapper(*args):
        key = tuple(_typed(a) for a in args)
        try:
            return results[key]
        except KeyError:
            pass
        except TypeError:   # unhashable
            return fn(*args)
        result = fn(*args)
        if len(results) >= size:
            results.clear()
        results[key] = result
        return result
    return wrapper
