"""Samplers: which dataset indices an epoch visits, and in what order.

Random samplers draw from their ``generator`` (a :class:`gradkit.Generator`) or, when it is None,
from the framework's default generator, so ``gk.manual_seed`` fixes the order. Each ``iter()`` is a
new epoch and draws a new order.
"""
import math
import os

import numpy as np

from gradkit import backend
from gradkit.tensor import Tensor

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler", "DistributedSampler"]


def _positive_int(name, owner, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {name} should be a positive integer, got {value!r}")
    return int(value)


class Sampler:
    """Base class: subclasses implement ``__iter__`` (indices) and usually ``__len__``."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation each epoch, or ``num_samples`` draws with replacement.

    Without replacement and ``num_samples > len(data_source)``, whole permutations follow each other
    (as in PyTorch), so every sample appears as evenly as possible.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean, got {replacement!r}")
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = None if num_samples is None else _positive_int("num_samples", "RandomSampler",
                                                                           num_samples)
        if self.num_samples <= 0:
            raise ValueError(f"RandomSampler: num_samples should be a positive integer, got {self.num_samples} "
                             "(is the data source empty?)")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        rng = backend.generator_of(self.generator)
        n, count = len(self.data_source), self.num_samples
        if self.replacement:
            yield from rng.integers(0, n, size=count).tolist()
            return
        for _ in range(count // n):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n)[:count % n].tolist()

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a new random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator

    def __iter__(self):
        order = backend.generator_of(self.generator).permutation(len(self.indices))
        for i in order.tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights`` (which need not sum
    to one), for example inverse class frequencies to balance an imbalanced data set."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        self.num_samples = _positive_int("num_samples", "WeightedRandomSampler", num_samples)
        if not isinstance(replacement, bool):
            raise TypeError(f"WeightedRandomSampler: replacement should be a boolean, got {replacement!r}")
        weights = np.asarray(weights.data if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if weights.ndim != 1 or not len(weights):
            raise ValueError(f"WeightedRandomSampler: weights should be a non-empty 1-D sequence, got shape "
                             f"{weights.shape}")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights should be finite, non-negative and not all zero")
        if not replacement and self.num_samples > np.count_nonzero(weights):
            raise ValueError(f"WeightedRandomSampler: cannot draw {self.num_samples} samples without replacement "
                             f"from {np.count_nonzero(weights)} non-zero weights")
        self.weights, self.replacement, self.generator = weights, replacement, generator

    def __iter__(self):
        rng = backend.generator_of(self.generator)
        p = self.weights / self.weights.sum()
        yield from rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``; the last shorter one is kept
    unless ``drop_last``."""

    def __init__(self, sampler, batch_size, drop_last):
        self.batch_size = _positive_int("batch_size", "BatchSampler", batch_size)
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean, got {drop_last!r}")
        self.sampler, self.drop_last = sampler, drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


class DistributedSampler(Sampler):
    """This process's share of the data set when ``num_replicas`` processes train together.

    Every replica shuffles with the same seed (``seed + epoch``; call :meth:`set_epoch` each epoch),
    then takes every ``num_replicas``-th index starting at ``rank``. Unless ``drop_last``, the order is
    padded with its own first indices so that all replicas get the same number of samples (PyTorch's
    semantics). ``num_replicas`` and ``rank`` default to the ``WORLD_SIZE`` and ``RANK`` environment
    variables, or to a single process.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            num_replicas = int(os.environ.get("WORLD_SIZE", 1))
        if rank is None:
            rank = int(os.environ.get("RANK", 0))
        num_replicas = _positive_int("num_replicas", "DistributedSampler", num_replicas)
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank}, rank should be in [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, int(seed), drop_last, 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch):
        """Make the next epoch's shuffle differ from the last one, identically on every replica."""
        self.epoch = int(epoch)

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = backend.Generator(self.seed + self.epoch).numpy.permutation(n).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - len(indices)
            indices += (indices * math.ceil(padding / len(indices)))[:padding] if padding else []
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples
