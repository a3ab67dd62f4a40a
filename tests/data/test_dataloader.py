"""DataLoader behaviour: coverage of each epoch, reproducibility, workers equal to no workers,
worker seeding, error propagation and shutdown."""
import contextlib
import os
import random
import signal
import threading
import time

import numpy as np
import pytest

import gradkit as gk
from gradkit.data import (DataLoader, Dataset, IterableDataset, TensorDataset, default_collate, get_worker_info,
                          transforms as T)


@contextlib.contextmanager
def deadline(seconds):
    """Fail instead of hanging forever."""
    def expire(signum, frame):
        raise TimeoutError(f"took longer than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class Squares(Dataset):
    """Sample i is (an array built from i, i); deterministic."""

    def __init__(self, n=23):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full((2, 3), i, np.float32), i


class Augmented(Dataset):
    """Random transforms inside the dataset, as in real training."""

    def __init__(self, n=16):
        self.images = np.random.default_rng(0).random((n, 3, 8, 8)).astype(np.float32)
        self.transform = T.Compose([T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(), T.ColorJitter(0.3)])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i]), i


class Failing(Squares):
    def __getitem__(self, i):
        if i == 7:
            raise ValueError("sample seven is broken")
        return super().__getitem__(i)


class Slow(Squares):
    def __getitem__(self, i):
        time.sleep(0.01)
        return super().__getitem__(i)


def batches(loader):
    return [(x.numpy().copy(), y.numpy().copy()) for x, y in loader]


def assert_same(a, b):
    assert len(a) == len(b)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_every_sample_once_per_epoch_and_len(shuffle, drop_last):
    loader = DataLoader(Squares(23), batch_size=5, shuffle=shuffle, drop_last=drop_last)
    assert len(loader) == (4 if drop_last else 5)
    for _ in range(2):
        seen = [b for b in batches(loader)]
        assert len(seen) == len(loader)
        labels = np.concatenate([y for _, y in seen])
        assert len(labels) == (20 if drop_last else 23)
        assert len(set(labels.tolist())) == len(labels)
        if not shuffle:
            assert labels.tolist() == list(range(len(labels)))


def test_collated_dtypes_and_shapes():
    x, y = next(iter(DataLoader(Squares(), batch_size=4)))
    assert isinstance(x, gk.Tensor) and x.shape == (4, 2, 3) and x.dtype == gk.float32
    assert y.dtype == gk.int64 and y.tolist() == [0, 1, 2, 3]
    batch = default_collate([{"a": 1.5, "b": (np.float64(2), True)}, {"a": 2.5, "b": (np.float64(3), False)}])
    assert batch["a"].dtype == gk.float32  # Python floats: gradkit's default dtype (PyTorch gives float64)
    assert batch["b"][0].dtype == gk.float64 and batch["b"][1].dtype == gk.bool
    tensors = default_collate([gk.ones(2, 2), gk.zeros(2, 2)])
    assert tensors.shape == (2, 2, 2)
    with pytest.raises(RuntimeError, match="equal shapes"):
        default_collate([np.zeros(2), np.zeros(3)])


def test_tensor_dataset_and_no_batching():
    data = TensorDataset(np.arange(10.0, dtype=np.float32).reshape(5, 2), np.arange(5))
    x, y = next(iter(DataLoader(data, batch_size=None)))
    assert isinstance(x, gk.Tensor) and x.shape == (2,)
    assert len(DataLoader(data, batch_size=None)) == 5


def test_shuffle_reproducible_under_manual_seed_and_reshuffles():
    loader = DataLoader(Squares(), batch_size=4, shuffle=True)
    gk.manual_seed(3)
    first, second = batches(loader), batches(loader)
    gk.manual_seed(3)
    assert_same(first, batches(loader))
    assert [y.tolist() for _, y in first] != [y.tolist() for _, y in second]
    assert loader.generator is gk.default_generator


def test_explicit_generator_state_resumes_order():
    loader = DataLoader(Squares(), batch_size=4, shuffle=True, generator=gk.Generator(5))
    batches(loader)
    state = loader.generator.get_state()
    expected = batches(loader)
    loader.generator.set_state(state)
    assert_same(expected, batches(loader))


@pytest.mark.parametrize("num_workers", [1, 2])
def test_workers_give_the_same_batches_in_the_same_order(num_workers):
    with deadline(30):
        plain = DataLoader(Squares(), batch_size=3, shuffle=True, generator=gk.Generator(1))
        workers = DataLoader(Squares(), batch_size=3, shuffle=True, generator=gk.Generator(1),
                             num_workers=num_workers, prefetch_factor=2)
        for _ in range(2):
            assert_same(batches(plain), batches(workers))


def test_persistent_workers_same_batches_and_early_break():
    with deadline(30):
        plain = DataLoader(Squares(), batch_size=4, shuffle=True, generator=gk.Generator(2))
        workers = DataLoader(Squares(), batch_size=4, shuffle=True, generator=gk.Generator(2), num_workers=2,
                             persistent_workers=True)
        assert_same(batches(plain), batches(workers))
        for _ in workers:  # an abandoned epoch must not leak into the next one
            break
        next(iter(plain))
        assert_same(batches(plain), batches(workers))
        processes = workers._workers_iterator.workers
        del workers
        for p in processes:
            p.join(5)
            assert not p.is_alive()


def test_random_transforms_in_workers_reproducible():
    with deadline(30):
        def run():
            gk.manual_seed(11)
            loader = DataLoader(Augmented(), batch_size=4, shuffle=True, num_workers=2)
            return batches(loader) + batches(loader)
        first, second = run(), run()
        assert_same(first, second)
        # Two epochs draw different augmentations.
        assert not np.array_equal(first[0][0], first[4][0]) or first[0][1].tolist() != first[4][1].tolist()


class SeedReport(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = get_worker_info()
        return np.array([info.id, info.seed, random.randrange(10 ** 9), np.random.randint(10 ** 9),
                         int(gk.randint(0, 10 ** 9, (1,)).item())], dtype=np.int64)


class ThreadReport(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return np.array([gk.get_num_threads()])


def test_workers_compute_on_one_thread_unless_their_init_says_otherwise():
    before = gk.get_num_threads()
    gk.set_num_threads(2)
    try:
        with deadline(30):
            plain = [b.numpy().ravel().tolist() for b in DataLoader(ThreadReport(), batch_size=1, num_workers=2)]
            raised = [b.numpy().ravel().tolist() for b in DataLoader(ThreadReport(), batch_size=1, num_workers=1,
                                                                     worker_init_fn=lambda _: gk.set_num_threads(3))]
        assert plain == [[1], [1]] and raised == [[3], [3]]
        assert gk.get_num_threads() == 2   # the main process keeps its own
    finally:
        gk.set_num_threads(before)


def test_workers_seeded_distinctly_from_the_loader_generator():
    assert get_worker_info() is None
    with deadline(30):
        loader = DataLoader(SeedReport(), batch_size=1, num_workers=2, generator=gk.Generator(7))
        rows = np.concatenate([b.numpy() for b in loader])
        again = np.concatenate([b.numpy() for b in DataLoader(SeedReport(), batch_size=1, num_workers=2,
                                                              generator=gk.Generator(7))])
    np.testing.assert_array_equal(rows, again)
    assert rows[:, 0].tolist() == [0, 1, 0, 1]  # batches go round-robin
    assert rows[1, 1] == rows[0, 1] + 1  # worker seed = base seed + worker id
    assert len(set(rows[:2, 2:].ravel().tolist())) == 6  # distinct streams in Python, NumPy and gradkit
    base = gk.Generator(7).numpy.integers(0, 2 ** 62)
    assert rows[0, 1] == base


@pytest.mark.parametrize("num_workers", [0, 2])
def test_error_carries_message_and_index(num_workers):
    with deadline(30):
        loader = DataLoader(Failing(), batch_size=4, num_workers=num_workers)
        with pytest.raises(ValueError, match="sample seven is broken") as info:
            list(loader)
    text = str(info.value) + "".join(getattr(info.value, "__notes__", []))
    assert "sample index 7" in text
    if num_workers:
        assert "worker" in text and "Traceback" in text and "__getitem__" in text


def test_unpicklable_batch_is_reported_not_lost():
    with deadline(30):
        loader = DataLoader(Squares(), batch_size=2, num_workers=1, collate_fn=lambda batch: lambda: batch)
        with pytest.raises(Exception, match="picklable"):
            next(iter(loader))


def test_early_break_shuts_workers_down():
    with deadline(30):
        loader = DataLoader(Slow(200), batch_size=2, num_workers=2, prefetch_factor=4)
        iterator = iter(loader)
        next(iterator)
        processes = list(iterator.workers)
        del iterator
        for p in processes:
            p.join(10)
            assert not p.is_alive()
        for batch in loader:
            break


class VerySlow(Squares):
    def __getitem__(self, i):
        time.sleep(0.2 if i >= 4 else 0)
        return super().__getitem__(i)


def test_ctrl_c_stops_workers_without_hanging():
    with deadline(30):
        # Interrupted while the training step runs: the workers stop when the iterator is dropped.
        iterator = iter(DataLoader(Slow(400), batch_size=4, num_workers=2))
        processes = list(iterator.workers)
        for p in processes:  # Ctrl-C reaches the whole process group; workers leave it to the main process
            os.kill(p.pid, signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            for _ in iterator:
                os.kill(os.getpid(), signal.SIGINT)
        del iterator
        for p in processes:
            p.join(10)
            assert not p.is_alive()
        # Interrupted while waiting for a batch: the workers stop at once.
        iterator = iter(DataLoader(VerySlow(40), batch_size=4, num_workers=1))
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        with pytest.raises(KeyboardInterrupt):
            list(iterator)
        assert iterator.closed and not iterator.workers[0].is_alive()


def test_worker_killed_is_reported():
    class Dies(Squares):
        def __getitem__(self, i):
            if get_worker_info() is not None and i == 5:
                os._exit(3)
            return super().__getitem__(i)
    with deadline(30):
        with pytest.raises(RuntimeError, match="exited unexpectedly"):
            list(DataLoader(Dies(), batch_size=1, num_workers=1))


class Stream(IterableDataset):
    """0..n-1, each worker taking every num_workers-th value."""

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


@pytest.mark.parametrize("num_workers", [0, 2])
def test_iterable_dataset(num_workers):
    with deadline(30):
        loader = DataLoader(Stream(10), batch_size=3, num_workers=num_workers)
        values = sorted(v for b in loader for v in b.tolist())
        assert values == list(range(10))
        assert len(loader) == 4
        dropped = DataLoader(Stream(10), batch_size=3, drop_last=True)
        assert [b.tolist() for b in dropped] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    with pytest.raises(ValueError):
        DataLoader(Stream(), shuffle=True)


def test_argument_errors():
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(Squares(), shuffle=True, sampler=range(3))
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(Squares(), num_workers=-1)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(Squares(), persistent_workers=True)
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(Squares(), batch_size=4, batch_sampler=[[0, 1]])
