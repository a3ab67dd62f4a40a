import threading
import time

import numpy as np
import pytest

import gradkit as gk
from gradkit.kernels import parallel


@pytest.fixture
def two_threads():
    before = gk.get_num_threads()
    gk.set_num_threads(2)
    yield
    gk.set_num_threads(before)


@pytest.fixture
def blas_threads():
    """The getter of BLAS's thread count; skips where gradkit cannot control that BLAS."""
    control = parallel._blas_control()
    if control is None:
        pytest.skip("no OpenBLAS control in this NumPy")
    return control[1]


@pytest.mark.parametrize("n, parts", [(10, 3), (2, 5), (0, 2), (7, 1)])
def test_chunks_cover_the_range_in_order(n, parts):
    ranges = parallel.chunks(n, parts)
    assert ranges[0][0] == 0 and ranges[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    sizes = [stop - start for start, stop in ranges]
    assert max(sizes) - min(sizes) <= 1 and len(ranges) == max(1, min(parts, n))


def test_run_returns_results_in_order_and_uses_other_threads(two_threads):
    if parallel.num_threads() < 2:
        pytest.skip("gradkit does not control this BLAS, so it does not split work")
    seen = []
    results = parallel.run(lambda a, b: (seen.append(threading.current_thread().name), a * 10 + b)[1],
                           parallel.chunks(4, 4))
    assert results == [1, 12, 23, 34]
    assert any(name.startswith("gradkit") for name in seen)


def test_run_propagates_a_worker_error(two_threads):
    def fail_first(start, stop):
        if start == 0:
            raise ValueError("chunk 0 failed")
        return start
    with pytest.raises(ValueError, match="chunk 0 failed"):
        parallel.run(fail_first, parallel.chunks(4, 2))


def test_nested_splits_run_inline_instead_of_waiting_on_the_pool(two_threads):
    inner = parallel.run(lambda a, b: parallel.run(lambda c, d: d - c, parallel.chunks(6, 3)), parallel.chunks(2, 2))
    assert inner == [[2, 2, 2], [2, 2, 2]]


@pytest.mark.parametrize("shape_a, shape_b", [((300, 70), (70, 257)), ((513, 64), (64, 33)), ((3, 4), (4, 5))],
                         ids=["split_columns", "split_rows", "small"])
def test_matmul_matches_numpy(two_threads, shape_a, shape_b):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape_a).astype(np.float32)
    b = rng.standard_normal(shape_b).astype(np.float32)
    np.testing.assert_allclose(parallel.matmul(a, b), a @ b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(parallel.matmul(a, b.T.copy().T), a @ b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape_a, shape_b", [((300, 200), (200, 257)), ((129, 300), (300, 513))],
                         ids=["split_rows", "split_columns"])
@pytest.mark.parametrize("row_shape", [(257,), (1,), ()], ids=["vector", "one", "scalar"])
def test_matmul_adds_a_row_in_each_block_with_the_numbers_of_a_separate_pass(two_threads, shape_a, shape_b,
                                                                            row_shape):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape_a).astype(np.float32)
    b = rng.standard_normal(shape_b).astype(np.float32)
    n = shape_b[1]
    row = rng.standard_normal(row_shape if row_shape != (257,) else (n,)).astype(np.float32)
    expected = parallel.matmul(a, b)
    expected += row
    np.testing.assert_array_equal(parallel.matmul(a, b, row=row), expected)
    small = parallel.matmul(a[:3], b[:, :4], row=row if row.shape != (n,) else row[:4])
    np.testing.assert_allclose(small, a[:3] @ b[:, :4] + (row if row.shape != (n,) else row[:4]), rtol=1e-6)


def test_matmuls_run_mid_sized_products_at_once_with_the_numbers_of_one_call(two_threads, monkeypatch):
    if parallel.num_threads() < 2:
        pytest.skip("gradkit does not control this BLAS, so it does not split work")
    monkeypatch.setattr(parallel, "MIN_CONCURRENT_FLOPS", 1000)
    rng = np.random.default_rng(1)
    pairs = [(rng.standard_normal((40, 30)).astype(np.float32), rng.standard_normal((30, 50)).astype(np.float32)),
             (rng.standard_normal((30, 40)).astype(np.float32), rng.standard_normal((40, 50)).astype(np.float32))]
    threads = []
    original_calls = parallel.calls
    monkeypatch.setattr(parallel, "calls", lambda tasks: threads.append(len(tasks)) or original_calls(tasks))
    together = parallel.matmuls(*pairs)
    assert threads == [2]
    with parallel.blas_single_threaded():
        for product, (a, b) in zip(together, pairs):
            np.testing.assert_array_equal(product, a @ b)
    threads.clear()
    tiny = parallel.matmuls((pairs[0][0][:2, :2], pairs[0][1][:2, :2]), pairs[1])   # one below the minimum
    assert threads == []
    np.testing.assert_array_equal(tiny[0], pairs[0][0][:2, :2] @ pairs[0][1][:2, :2])


def test_balanced_takes_every_task_once_in_any_thread_and_returns_them_in_order(two_threads):
    if parallel.num_threads() < 2:
        pytest.skip("gradkit does not control this BLAS, so it does not split work")
    taken, names = [], set()

    def task(i):
        taken.append(i)
        names.add(threading.current_thread().name)
        time.sleep(0.002 if i % 3 == 0 else 0)   # unequal tasks: the free thread takes the next one
        return i * i
    assert parallel.balanced(task, 9) == [i * i for i in range(9)]
    assert sorted(taken) == list(range(9))
    assert any(name.startswith("gradkit") for name in names) and threading.current_thread().name in names
    # No more tasks than threads: one per thread, the first on a worker (as parallel.run assigns them).
    first = parallel.balanced(lambda i: threading.current_thread().name, 2)
    assert first[0].startswith("gradkit") and first[1] == threading.current_thread().name
    assert parallel.balanced(lambda i: i, 0) == []


def test_balanced_propagates_an_error_and_runs_inline_inside_a_chunk(two_threads):
    def fail_on_four(i):
        if i == 4:
            raise ValueError("task 4 failed")
        return i
    with pytest.raises(ValueError, match="task 4 failed"):
        parallel.balanced(fail_on_four, 7)
    inner = parallel.run(lambda a, b: parallel.balanced(lambda i: threading.current_thread().name, 5),
                         parallel.chunks(2, 2))
    for names in inner:   # each chunk's tasks all ran in the chunk's own thread
        assert len(set(names)) == 1


def test_calls_run_on_the_workers_and_propagate_errors(two_threads):
    if parallel.num_threads() < 2:
        pytest.skip("gradkit does not control this BLAS, so it does not split work")
    names = parallel.calls([(lambda: threading.current_thread().name, ()), (lambda: threading.current_thread().name, ())])
    assert names[0].startswith("gradkit") and names[1] == threading.current_thread().name
    assert parallel.calls([(divmod, (7, 2)), (divmod, (9, 4)), (divmod, (5, 5))]) == [(3, 1), (2, 1), (1, 0)]  # > threads
    with pytest.raises(ZeroDivisionError):
        parallel.calls([(divmod, (1, 0)), (divmod, (1, 1))])


def test_elementwise_splits_contiguous_passes_and_runs_other_layouts_whole(two_threads):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 33, 61)).astype(np.float32)
    out = parallel.elementwise(lambda o, a: np.maximum(a, 0, out=o), np.empty_like(x), x)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    strided = x[:, ::2]
    out = parallel.elementwise(lambda o, a: np.negative(a, out=o), np.empty(strided.shape, np.float32), strided)
    np.testing.assert_array_equal(out, -strided)


def test_blas_threads_are_restored(blas_threads):
    getter = blas_threads
    before = getter()
    with parallel.blas_single_threaded():
        assert getter() == 1
        with parallel.blas_single_threaded():
            assert getter() == 1
        assert getter() == 1
    assert getter() == before


def test_convolution_does_not_depend_on_the_thread_count():
    rng = np.random.default_rng(2)
    x = gk.tensor(rng.standard_normal((16, 8, 19, 17)).astype(np.float32), requires_grad=True)
    w = gk.tensor(rng.standard_normal((12, 8, 3, 3)).astype(np.float32), requires_grad=True)
    results = []
    before = gk.get_num_threads()
    try:
        for threads in (1, 2):
            gk.set_num_threads(threads)
            x.grad = w.grad = None
            out = gk.nn.functional.conv2d(x, w, padding=1, stride=(1, 2))
            (out * out).sum().backward()
            results.append((out.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    finally:
        gk.set_num_threads(before)
    for one, two in zip(*results):
        # Only the weight gradient's partial sums are grouped differently: float32 rounding of its scale.
        np.testing.assert_allclose(one, two, rtol=1e-5, atol=1e-6 * np.abs(two).max())


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_set_num_threads_rejects_non_positive_ints(bad):
    with pytest.raises(ValueError, match="set_num_threads"):
        gk.set_num_threads(bad)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_pool(two_threads):
    import os
    parallel.run(lambda a, b: b - a, parallel.chunks(4, 2))   # the parent's pool exists
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if parallel.run(lambda a, b: b - a, parallel.chunks(4, 2)) == [2, 2] else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_blas_threads_are_restored_by_the_last_of_several_threads(blas_threads):
    getter = blas_threads
    before = getter()
    inside, leave = threading.Event(), threading.Event()

    def other():
        with parallel.blas_single_threaded():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(10)
    with parallel.blas_single_threaded():
        pass
    assert getter() == 1          # the other thread is still inside
    leave.set()
    thread.join()
    assert getter() == before


def test_changing_the_thread_count_retires_the_old_pool():
    before = gk.get_num_threads()
    try:
        gk.set_num_threads(3)
        if parallel.num_threads() < 3:
            pytest.skip("gradkit does not control this BLAS, so it does not split work")
        parallel.run(lambda a, b: b - a, parallel.chunks(6, 3))
        old = parallel._pool["workers"]
        gk.set_num_threads(2)
        assert parallel.run(lambda a, b: b - a, parallel.chunks(6, 2)) == [3, 3]
        assert parallel._pool["workers"] is not old and old.retired
    finally:
        gk.set_num_threads(before)
