"""Datasets, samplers and splits."""
import numpy as np
import pytest

import gradkit as gk
from gradkit.data import (BatchSampler, ConcatDataset, DistributedSampler, RandomSampler, SequentialSampler, Subset,
                          SubsetRandomSampler, TensorDataset, WeightedRandomSampler, random_split, stratified_split)


def test_tensor_subset_concat():
    data = TensorDataset(np.arange(12).reshape(6, 2), gk.arange(6))
    x, y = data[2]
    assert x.tolist() == [4, 5] and int(y.item()) == 2
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.zeros(3), np.zeros(4))
    sub = Subset(data, [5, 0])
    assert len(sub) == 2 and sub[0][0].tolist() == [10, 11]
    both = ConcatDataset([sub, data])
    assert len(both) == 8 and both[2][0].tolist() == [0, 1] and both[-1][0].tolist() == [10, 11]
    with pytest.raises(IndexError):
        both[8]


def test_sequential_and_random_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    gk.manual_seed(0)
    sampler = RandomSampler(range(10))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(10)) and first != second
    gk.manual_seed(0)
    assert list(sampler) == first
    longer = list(RandomSampler(range(4), num_samples=10, generator=gk.Generator(1)))
    assert len(longer) == 10 and sorted(longer[:4]) == sorted(longer[4:8]) == [0, 1, 2, 3]
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=50, generator=gk.Generator(1)))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2}
    assert sorted(SubsetRandomSampler([7, 3, 9])) == [3, 7, 9]
    with pytest.raises(ValueError):
        RandomSampler(range(3), num_samples=0)


def test_batch_sampler_lengths():
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    with pytest.raises(ValueError):
        BatchSampler(range(7), 0, False)


def test_weighted_sampler_frequencies_within_bounds():
    weights = np.array([1.0, 2.0, 7.0, 0.0])
    n = 20000
    counts = np.bincount(list(WeightedRandomSampler(weights, n, generator=gk.Generator(3))), minlength=4)
    p = weights / weights.sum()
    # Each count is binomial(n, p): within 5 standard deviations.
    assert np.all(np.abs(counts - n * p) <= 5 * np.sqrt(n * p * (1 - p)) + 1e-9)
    assert counts[3] == 0
    unique = list(WeightedRandomSampler(weights, 3, replacement=False, generator=gk.Generator(3)))
    assert sorted(unique) == [0, 1, 2]
    with pytest.raises(ValueError):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError):
        WeightedRandomSampler(weights, 4, replacement=False)


@pytest.mark.parametrize("n, replicas", [(10, 3), (9, 3), (2, 4)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_distributed_sampler_partitions(n, replicas, shuffle):
    parts = [list(DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=4)) for rank in range(replicas)]
    per = -(-n // replicas)
    assert all(len(p) == per for p in parts)
    flat = sum(parts, [])
    assert set(flat) == set(range(n))
    # Padding repeats the first indices of the order: no index appears more than needed.
    assert len(flat) - n == per * replicas - n
    if not shuffle:
        strided = list(range(0, n, replicas))
        assert parts[0][:len(strided)] == strided
    dropped = [list(DistributedSampler(range(n), replicas, rank, shuffle=shuffle, drop_last=True))
               for rank in range(replicas)]
    flat = sum(dropped, [])
    assert len(flat) == len(set(flat)) == (n // replicas) * replicas


def test_distributed_sampler_epochs_and_torch_semantics():
    sampler = DistributedSampler(range(10), 3, 1, shuffle=False)
    assert list(sampler) == [1, 4, 7, 0]  # padded with the first index, then strided from rank 1
    shuffled = DistributedSampler(range(10), 2, 0, seed=1)
    first = list(shuffled)
    assert list(shuffled) == first
    shuffled.set_epoch(1)
    assert list(shuffled) != first
    with pytest.raises(ValueError, match="rank"):
        DistributedSampler(range(10), 2, 2)


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (2, 4, False), (7, 2, True)])
def test_distributed_sampler_matches_pytorch_order(n, replicas, drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch_data.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_random_split_lengths_and_fractions():
    parts = random_split(range(10), [3, 7], generator=gk.Generator(0))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    parts = random_split(range(11), [0.5, 0.3, 0.2], generator=gk.Generator(0))
    assert [len(p) for p in parts] == [6, 3, 2]
    again = random_split(range(11), [0.5, 0.3, 0.2], generator=gk.Generator(0))
    assert [p.indices for p in parts] == [p.indices for p in again]
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(range(10), [3, 3])


def test_stratified_split_disjoint_and_proportional():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    train, val, test = stratified_split(labels, (0.8, 0.1, 0.1), generator=gk.Generator(0))
    assert [len(p) for p in (train, val, test)] == [80, 10, 10]
    all_indices = train.indices + val.indices + test.indices
    assert sorted(all_indices) == list(range(100))
    for part, fraction in ((train, 0.8), (val, 0.1), (test, 0.1)):
        counts = np.bincount(labels[part.indices], minlength=3)
        np.testing.assert_allclose(counts, fraction * np.array([50, 30, 20]), atol=1)
    dataset = TensorDataset(np.zeros((100, 2)), labels)
    parts = stratified_split(dataset, (0.7, 0.3), generator=gk.Generator(1))
    assert [len(p) for p in parts] == [70, 30] and parts[0].dataset is dataset
    with pytest.raises(ValueError, match="sum to 1"):
        stratified_split(labels, (0.5, 0.2))
    train, empty, test = stratified_split(np.arange(13) % 2, (0.75, 0.0, 0.25), generator=gk.Generator(0))
    assert len(empty) == 0 and len(train) + len(test) == 13


def test_stratified_split_uneven_classes():
    labels = np.repeat(np.arange(7), [13, 1, 2, 9, 30, 4, 5])
    parts = stratified_split(labels, generator=gk.Generator(2))
    sizes = [len(p) for p in parts]
    assert sum(sizes) == len(labels) and sizes == [51, 7, 6]
    for c, total in enumerate([13, 1, 2, 9, 30, 4, 5]):
        counts = [int(np.sum(labels[p.indices] == c)) for p in parts]
        assert sum(counts) == total
        assert all(abs(k - f * total) < 1.5 for k, f in zip(counts, (0.8, 0.1, 0.1)))
