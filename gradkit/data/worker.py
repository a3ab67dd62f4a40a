"""What runs inside a DataLoader worker process, and how its failures reach the main process.

The main process decides which indices form each batch; a worker only loads and collates them.
Workers are seeded distinctly and reproducibly: worker ``k`` of an epoch whose base seed is ``s``
seeds Python's ``random``, NumPy's global generator and the framework's default generator (which
random transforms draw from) with ``s + k``.
"""
import os
import pickle
import queue
import random
import signal
import traceback

import numpy as np

from gradkit import backend

__all__ = ["WorkerInfo", "get_worker_info"]

# How often an idle worker checks that the process that started it is still alive.
_PARENT_CHECK_SECONDS = 2.0


class WorkerInfo:
    """Describes the worker process running the current code: ``id``, ``num_workers``, ``seed`` and
    ``dataset`` (this worker's copy)."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


_worker_info = None


def get_worker_info():
    """The :class:`WorkerInfo` of the calling DataLoader worker, or None in the main process.

    An :class:`IterableDataset` uses it in ``__iter__`` to give each worker its own share of the stream.
    """
    return _worker_info


def seed_worker(seed):
    """Seed every random generator a dataset or transform may draw from."""
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    backend.manual_seed(seed)


class Fetcher:
    """Loads and collates one batch; shared by the main process (no workers) and the workers.

    ``position`` tells which sample was being loaded when something failed.
    """

    def __init__(self, dataset, iterable, auto_collation, collate_fn, batch_size, drop_last):
        self.dataset, self.iterable, self.auto_collation = dataset, iterable, auto_collation
        self.collate_fn, self.batch_size, self.drop_last = collate_fn, batch_size, drop_last
        self.stream, self.count, self.position = None, 0, None

    def restart(self):
        self.stream, self.count = None, 0

    def fetch(self, indices):
        """The collated batch for ``indices`` (map-style), or the next batch of the stream (iterable),
        which raises StopIteration when the stream has ended."""
        if self.iterable:
            return self._fetch_stream()
        if not self.auto_collation:
            self.position = f"sample index {indices}"
            sample = self.dataset[indices]
            self.position = f"sample index {indices} (in collate_fn)"
            return self.collate_fn(sample)
        samples = []
        for index in indices:
            self.position = f"sample index {index}"
            samples.append(self.dataset[index])
        self.position = f"the batch of sample indices {list(indices)} (in collate_fn)"
        return self.collate_fn(samples)

    def _fetch_stream(self):
        if self.stream is None:
            self.stream = iter(self.dataset)
        wanted = self.batch_size if self.auto_collation else 1
        samples = []
        while len(samples) < wanted:
            self.position = f"sample number {self.count} of the stream"
            try:
                samples.append(next(self.stream))
            except StopIteration:
                break
            self.count += 1
        if not samples or (self.auto_collation and self.drop_last and len(samples) < wanted):
            raise StopIteration
        self.position = "the batch (in collate_fn)"
        return self.collate_fn(samples if self.auto_collation else samples[0])


class WorkerError:
    """An exception raised in a worker, carried to the main process and raised there again, with its
    original type and message followed by the worker's traceback and the failing sample."""

    def __init__(self, error, worker_id, position):
        self.message = str(error)
        self.type_name = type(error).__name__
        self.traceback = "".join(traceback.format_exception(error))
        self.worker_id, self.position = worker_id, position
        try:
            pickle.dumps(type(error))
            self.type = type(error)
        except Exception:
            self.type = RuntimeError

    def reraise(self):
        text = (f"{self.message}\n\nThis {self.type_name} was raised in DataLoader worker {self.worker_id} while "
                f"loading {self.position}. Traceback in the worker:\n\n{self.traceback}")
        if issubclass(self.type, KeyError):
            text = _Verbatim(text)
        try:
            error = self.type(text)
        except Exception:
            error = RuntimeError(text)
        raise error


class _Verbatim(str):
    """KeyError shows its message through repr(), which would print the traceback's newlines as \\n."""

    def __repr__(self):
        return str(self)


def worker_loop(dataset, fetcher, index_queue, result_queue, worker_id, num_workers, base_seed, worker_init_fn,
                parent_pid):
    """Serve ``index_queue`` until told to stop (None) or until the main process is gone.

    Messages in: ``("seed", base_seed)`` starts a new epoch of a persistent worker;
    ``("task", epoch, task_id, indices)`` asks for one batch. Messages out:
    ``(epoch, task_id, kind, payload)`` with kind ``"ok"`` (pickled batch), ``"error"``
    (a WorkerError) or ``"stop"`` (an iterable dataset's stream has ended).
    """
    # Ctrl-C reaches the whole process group; the main process handles it and shuts workers down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Results left unread at shutdown must not keep this process from exiting.
    result_queue.cancel_join_thread()
    # As in PyTorch, a worker computes on one thread: the workers share the cores with each other
    # and with the training loop (a worker_init_fn may raise it again).
    backend.set_num_threads(1)

    def start_epoch(seed):
        global _worker_info
        seed_worker(seed + worker_id)
        _worker_info = WorkerInfo(worker_id, num_workers, seed + worker_id, dataset)
        fetcher.restart()

    start_epoch(base_seed)
    init_error = None
    if worker_init_fn is not None:
        try:
            worker_init_fn(worker_id)
        except Exception as error:
            init_error = WorkerError(error, worker_id, "nothing yet (in worker_init_fn)")
    while True:
        try:
            message = index_queue.get(timeout=_PARENT_CHECK_SECONDS)
        except queue.Empty:
            if os.getppid() != parent_pid:
                return
            continue
        if message is None:
            return
        if message[0] == "seed":
            start_epoch(message[1])
            continue
        _, epoch, task_id, indices = message
        if init_error is not None:
            result_queue.put((epoch, task_id, "error", init_error))
            continue
        try:
            batch = fetcher.fetch(indices)
            fetcher.position = "the batch, sending it to the main process (batches must be picklable)"
            payload = ("ok", pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
        except StopIteration:
            payload = ("stop", None)
        except Exception as error:
            payload = ("error", WorkerError(error, worker_id, fetcher.position))
        result_queue.put((epoch, task_id) + payload)
