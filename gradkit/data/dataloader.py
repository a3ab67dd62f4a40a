"""DataLoader: batches from a dataset, optionally loaded by worker processes.

The main process always draws the indices (from the sampler, which draws from the loader's
generator); workers only load and collate. So a loader yields the same batches in the same order
with any number of workers, and checkpointing ``loader.generator`` is enough to resume the order.
"""
import multiprocessing
import os
import pickle
import queue
import time

from gradkit import backend
from gradkit.data.collate import default_collate, default_convert
from gradkit.data.dataset import IterableDataset
from gradkit.data.sampler import BatchSampler, RandomSampler, SequentialSampler
from gradkit.data.worker import Fetcher, worker_loop

__all__ = ["DataLoader"]

# Seeds stay below 2**62 so that seed + worker_id never overflows an int64.
_SEED_BOUND = 2 ** 62
# How long the main process waits between checks that its workers are still alive.
_POLL_SECONDS = 1.0
# How long a worker gets to exit cleanly at shutdown before it is terminated.
_JOIN_SECONDS = 2.0


class DataLoader:
    """Iterates over ``dataset`` in batches of ``batch_size`` samples collated into Tensors.

    ``shuffle=True`` draws a new order every epoch from ``generator`` (a :class:`gradkit.Generator`);
    without one, from the framework's default generator, so ``gk.manual_seed`` fixes the order.
    ``loader.generator`` is the generator actually used. ``num_workers > 0`` loads batches in that many
    processes (forked where the platform allows), ``prefetch_factor`` batches ahead per worker;
    ``persistent_workers`` keeps them between epochs. ``timeout`` (seconds, 0 = none) bounds the wait
    for one batch. Python floats in samples are batched as float32 (see :mod:`gradkit.data.collate`).
    ``pin_memory`` is accepted for compatibility and has no effect (batches are NumPy-backed).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=2, persistent_workers=False):
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers should be a non-negative integer, got {num_workers!r}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout should be non-negative, got {timeout!r}")
        if prefetch_factor is None or prefetch_factor < 1:
            raise ValueError(f"DataLoader: prefetch_factor should be a positive integer, got {prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        self.iterable = isinstance(dataset, IterableDataset)
        if self.iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader with IterableDataset: shuffle, sampler and batch_sampler cannot be set; "
                             "the dataset decides the order")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None (no batching) is incompatible with drop_last")

        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.num_workers, self.prefetch_factor, self.persistent_workers = num_workers, prefetch_factor, \
            persistent_workers
        self.timeout, self.worker_init_fn, self.pin_memory = timeout, worker_init_fn, pin_memory
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator if generator is not None else backend.default_generator
        if self.iterable:
            sampler = None
        elif sampler is None:
            sampler = RandomSampler(dataset, generator=self.generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self.iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.auto_collation = batch_sampler is not None or (self.iterable and batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self.auto_collation else default_convert
        self.collate_fn = collate_fn
        self._workers_iterator = None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def _fetcher(self):
        return Fetcher(self.dataset, self.iterable, self.auto_collation, self.collate_fn, self.batch_size,
                       self.drop_last)

    def __len__(self):
        if not self.iterable:
            return len(self._index_sampler)
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        # Drawn every epoch, with or without workers, so the shuffle that follows is the same either way.
        base_seed = int(backend.generator_of(self.generator).integers(0, _SEED_BOUND))
        if self.num_workers == 0:
            return _SingleProcessIterator(self)
        if not self.persistent_workers:
            return _MultiProcessIterator(self, base_seed)
        if self._workers_iterator is None or self._workers_iterator.closed:
            self._workers_iterator = _MultiProcessIterator(self, base_seed)
        else:
            self._workers_iterator.start_epoch(base_seed)
        return self._workers_iterator

    def __del__(self):
        if getattr(self, "_workers_iterator", None) is not None:
            try:
                self._workers_iterator.shutdown()
            except Exception:  # at interpreter exit the modules it needs may be gone already
                pass


class _SingleProcessIterator:
    def __init__(self, loader):
        self.loader = loader
        self.fetcher = loader._fetcher()
        self.indices = None if loader.iterable else iter(loader._index_sampler)

    def __iter__(self):
        return self

    def __len__(self):
        return len(self.loader)

    def __next__(self):
        indices = None if self.indices is None else next(self.indices)
        try:
            return self.fetcher.fetch(indices)
        except StopIteration:
            raise
        except Exception as error:
            if hasattr(error, "add_note"):
                error.add_note(f"(raised by the DataLoader while loading {self.fetcher.position})")
            raise


def _length(loader):
    try:
        return len(loader)
    except TypeError:
        return None


def _context(name):
    if name is not None and not isinstance(name, str):
        return name
    if name is None:
        name = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    return multiprocessing.get_context(name)


class _MultiProcessIterator:
    """Sends batches of indices to the workers round-robin, keeps ``prefetch_factor`` batches in flight
    per worker, and puts the results back in order."""

    def __init__(self, loader, base_seed):
        # Copies of the loader's settings, not the loader: a reference back to it would make a cycle that
        # keeps persistent workers alive after the user drops the loader.
        self.index_sampler = None if loader.iterable else loader._index_sampler
        self.persistent, self.timeout = loader.persistent_workers, loader.timeout
        self.prefetch_factor, self.length = loader.prefetch_factor, _length(loader)
        self.closed, self.epoch = False, 0
        self.index_queues, self.workers = [], []
        context = _context(loader.multiprocessing_context)
        self.result_queue = context.Queue()
        for worker_id in range(loader.num_workers):
            index_queue = context.Queue()
            # Unsent messages at shutdown must not keep the main process from exiting.
            index_queue.cancel_join_thread()
            process = context.Process(
                target=worker_loop, daemon=True,
                args=(loader.dataset, loader._fetcher(), index_queue, self.result_queue, worker_id,
                      loader.num_workers, base_seed, loader.worker_init_fn, os.getpid()))
            process.start()
            self.index_queues.append(index_queue)
            self.workers.append(process)
        self._begin()

    def start_epoch(self, base_seed):
        """A new epoch on persistent workers: reseed them and forget the last epoch's batches."""
        for index_queue in self.index_queues:
            index_queue.put(("seed", base_seed))
        self._begin()

    def _begin(self):
        self.epoch += 1
        self.indices = None if self.index_sampler is None else iter(self.index_sampler)
        self.sent = self.received = 0
        self.ready, self.owner = {}, {}
        self.active = [True] * len(self.workers)
        self.next_worker = 0
        for _ in range(self.prefetch_factor * len(self.workers)):
            self._send_one()

    def _send_one(self):
        if not any(self.active):
            return
        if self.indices is None:
            indices = None
        else:
            indices = next(self.indices, None)
            if indices is None:
                return
        while not self.active[self.next_worker]:
            self.next_worker = (self.next_worker + 1) % len(self.workers)
        self.index_queues[self.next_worker].put(("task", self.epoch, self.sent, indices))
        self.owner[self.sent] = self.next_worker
        self.next_worker = (self.next_worker + 1) % len(self.workers)
        self.sent += 1

    def __iter__(self):
        return self

    def __len__(self):
        if self.length is None:
            raise TypeError("this DataLoader's dataset has no length")
        return self.length

    def __next__(self):
        while True:
            if self.received == self.sent:
                if not self.persistent:
                    self.shutdown()
                raise StopIteration
            if self.received in self.ready:
                kind, payload = self.ready.pop(self.received)
                self.received += 1
                self._send_one()
                if kind == "ok":
                    return pickle.loads(payload)
                if kind == "error":
                    self.shutdown()
                    payload.reraise()
                continue  # "stop": that worker's stream has ended
            try:
                epoch, task_id, kind, payload = self._receive()
            except KeyboardInterrupt:
                # Ctrl-C while waiting: stop the workers now rather than whenever this iterator is collected.
                self.shutdown()
                raise
            if epoch != self.epoch:
                continue  # left over from an epoch abandoned early
            worker_id = self.owner.pop(task_id)
            if kind == "stop":
                self.active[worker_id] = False
            self.ready[task_id] = (kind, payload)

    def _receive(self):
        start = time.monotonic()
        while True:
            try:
                return self.result_queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                pass
            for worker_id, process in enumerate(self.workers):
                if not process.is_alive():
                    self.shutdown()
                    raise RuntimeError(f"DataLoader worker {worker_id} (pid {process.pid}) exited unexpectedly with "
                                       f"exit code {process.exitcode}")
            if self.timeout and time.monotonic() - start > self.timeout:
                self.shutdown()
                raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds waiting for a batch")

    def shutdown(self):
        """Stop the workers: ask politely, then terminate those that do not exit in time."""
        if self.closed:
            return
        self.closed = True
        for index_queue in self.index_queues:
            try:
                index_queue.put(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + _JOIN_SECONDS
        for process in self.workers:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join()
        for q in self.index_queues + [self.result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self.shutdown()
        except Exception:  # at interpreter exit the modules it needs may be gone already
            pass
