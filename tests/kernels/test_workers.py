import threading
import time

import pytest

from gradkit.kernels import workers


def _names(count):
    """A task that records the thread it ran in."""
    seen = []
    return seen, [(lambda i: seen.append((i, threading.current_thread().name)) or i * i, (i,)) for i in range(count)]


@pytest.fixture(params=["spinning", "blocking"])
def pool(request, monkeypatch):
    if request.param == "blocking":
        monkeypatch.setattr(workers, "_spinlocks", [None])
    elif workers.spinlocks() is None:
        pytest.skip("no glibc spinlocks here")
    monkeypatch.setattr(workers, "_cores", lambda: 8)
    pool = workers.Pool(2, name="test")
    yield pool
    pool.retire()


def test_tasks_run_on_the_workers_and_own_on_the_caller(pool):
    seen, tasks = _names(2)
    outcomes, mine = pool.call(tasks, lambda: threading.current_thread().name)
    assert outcomes == [(True, 0), (True, 1)]
    assert mine == (True, threading.current_thread().name)
    assert sorted(name for _, name in seen) == ["test_0", "test_1"]


def test_errors_come_back_as_outcomes_after_every_task_finished(pool):
    finished = []

    def slow():
        time.sleep(0.05)
        finished.append(True)

    def fail():
        raise ValueError("task failed")
    outcomes, mine = pool.call([(fail, ()), (slow, ())], lambda: 1 / 0)
    assert outcomes[0][0] is False and isinstance(outcomes[0][1], ValueError)
    assert outcomes[1] == (True, None) and finished == [True]
    assert mine[0] is False and isinstance(mine[1], ZeroDivisionError)


def test_spinning_workers_park_when_idle_and_wake_for_the_next_call(pool, monkeypatch):
    if not all(worker.spins for worker in pool._workers):
        assert not any(worker.parked for worker in pool._workers)   # blocking workers need no parking
        assert pool.call([(lambda: 5, ())], lambda: 6) == ([(True, 5)], (True, 6))
        return
    deadline = time.monotonic() + 5
    while not all(worker.parked for worker in pool._workers) and time.monotonic() < deadline:
        time.sleep(workers.PARK_AFTER)
    assert all(worker.parked for worker in pool._workers)
    assert pool.call([(lambda: 5, ())], lambda: 6) == ([(True, 5)], (True, 6))
    assert not pool._workers[0].parked
    for _ in range(20):   # calls back to back, after parking again, keep their results apart
        assert pool.call([(lambda: 1, ()), (lambda: 2, ())], lambda: 3) == ([(True, 1), (True, 2)], (True, 3))
        time.sleep(workers.PARK_AFTER * 0.6)


def test_workers_block_instead_of_spinning_without_a_core_each(monkeypatch):
    monkeypatch.setattr(workers, "_cores", lambda: 2)
    pool = workers.Pool(2, name="test")
    try:
        assert not any(worker.spins for worker in pool._workers)
        assert pool.call([(lambda: 1, ())], lambda: 2) == ([(True, 1)], (True, 2))
    finally:
        pool.retire()


def test_retire_stops_the_threads(pool):
    pool.call([(lambda: 1, ())], lambda: 2)
    pool.retire()
    deadline = time.monotonic() + 5
    while any(t.name.startswith("test_") and t.is_alive() for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(t.name.startswith("test_") and t.is_alive() for t in threading.enumerate())
    assert pool.retired
