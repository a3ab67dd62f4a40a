import numpy as np
import pytest

from gradkit.ops.arguments import remembered


def test_remembered_computes_once_per_signature_and_types_count():
    calls = []

    @remembered
    def plan(a, b):
        calls.append((a, b))
        if not isinstance(a, int):
            raise ValueError(f"a must be an int, got {a!r}")
        return a + sum(b)

    assert plan(1, (2, 3)) == 6 and plan(1, (2, 3)) == 6 and plan(1, [2, 3]) == 6
    assert len(calls) == 2   # the list is a signature of its own
    for _ in range(2):   # errors are not remembered; 1.0 == 1 but is not an int
        with pytest.raises(ValueError):
            plan(1.0, (2, 3))
    assert plan(1, (2.0, 3)) == 6.0 and len(calls) == 5
    assert plan(1, np.array([2, 3])) == 6 and plan(1, np.array([2, 3])) == 6 and len(calls) == 7   # unhashable


def test_remembered_forgets_beyond_its_size():
    calls = []
    plan = remembered(lambda a: calls.append(a) or a, size=2)
    for a in (1, 2, 3, 1):
        plan(a)
    assert calls == [1, 2, 3, 1]
