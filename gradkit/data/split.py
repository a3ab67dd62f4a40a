"""Splitting a data set into disjoint parts: at random, or stratified by class."""
import math

import numpy as np

from gradkit import backend
from gradkit.data.dataset import Subset
from gradkit.tensor import Tensor

__all__ = ["random_split", "stratified_split"]


def _sizes_from_fractions(n, fractions, caller, round_robin=True):
    """Whole sizes for fractions of ``n`` that add up to ``n``: floors, then one more for each part in
    turn until the remainder is used (PyTorch's rule for random_split), or, with ``round_robin=False``,
    for the parts with the largest fractional remainders (a part of fraction 0 stays empty)."""
    fractions = [float(f) for f in fractions]
    if any(f < 0 or f > 1 for f in fractions) or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise ValueError(f"{caller}: fractions should be in [0, 1] and sum to 1, got {fractions}")
    sizes = [int(math.floor(n * f)) for f in fractions]
    if round_robin:
        order = list(range(len(sizes)))
    else:
        order = sorted(range(len(sizes)), key=lambda k: (-(n * fractions[k] - sizes[k]), -fractions[k]))
    for i in range(n - sum(sizes)):
        sizes[order[i % len(order)]] += 1
    return sizes


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths, or of the given
    fractions of its length (which must sum to 1)."""
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(0 <= x <= 1 for x in lengths) and math.isclose(sum(lengths), 1) and sum(lengths) != n:
        lengths = _sizes_from_fractions(n, lengths, "random_split")
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths should be non-negative integers or fractions, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal the length of the "
                         f"input dataset ({n})")
    order = backend.generator_of(generator).permutation(n)
    bounds = np.cumsum([0] + [int(x) for x in lengths])
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def _labels_of(dataset_or_labels):
    if isinstance(dataset_or_labels, Tensor):
        return dataset_or_labels.data
    if isinstance(dataset_or_labels, (np.ndarray, list, tuple)):
        return np.asarray(dataset_or_labels)
    targets = getattr(dataset_or_labels, "targets", None)
    if targets is not None:
        return targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    # No .targets: read the label (second element) of every sample.
    labels = []
    for i in range(len(dataset_or_labels)):
        label = dataset_or_labels[i][1]
        labels.append(label.item() if hasattr(label, "item") else label)
    return np.asarray(labels)


def _allocate(class_sizes, split_sizes, fractions):
    """A classes-by-splits count matrix whose rows sum to the class sizes and columns to the split
    sizes, as close as whole numbers allow to ``class_size * fraction`` (largest remainders first)."""
    ideal = np.outer(class_sizes, fractions)
    counts = np.floor(ideal).astype(np.int64)
    row_left = class_sizes - counts.sum(axis=1)
    col_left = np.asarray(split_sizes) - counts.sum(axis=0)
    remainders = ideal - counts
    for flat in np.argsort(-remainders, axis=None, kind="stable"):
        c, k = divmod(int(flat), len(fractions))
        if row_left[c] > 0 and col_left[k] > 0 and remainders[c, k] > 0:
            counts[c, k] += 1
            row_left[c] -= 1
            col_left[k] -= 1
    # Whatever rounding could not place by remainder goes wherever both totals still have room.
    for c in np.flatnonzero(row_left):
        for k in np.flatnonzero(col_left):
            take = min(row_left[c], col_left[k])
            counts[c, k] += take
            row_left[c] -= take
            col_left[k] -= take
    return counts


def stratified_split(dataset_or_labels, fractions=(0.8, 0.1, 0.1), generator=None):
    """Split into disjoint Subsets (train/val/test by default) that keep each class's proportion.

    ``dataset_or_labels`` is a dataset (labels from its ``targets`` attribute, or the second element of
    each sample) or the labels themselves, in which case the Subsets index that label array and their
    ``indices`` are what you use. Sizes add up exactly; each class is split as evenly as whole numbers
    allow. Indices within a part are sorted.
    """
    labels = _labels_of(dataset_or_labels)
    if labels.ndim != 1:
        raise ValueError(f"stratified_split: expected one label per sample, got labels of shape {labels.shape}")
    split_sizes = _sizes_from_fractions(len(labels), fractions, "stratified_split", round_robin=False)
    classes, label_ids = np.unique(labels, return_inverse=True)
    members = [np.flatnonzero(label_ids == c) for c in range(len(classes))]
    counts = _allocate(np.array([len(m) for m in members]), split_sizes, [float(f) for f in fractions])
    rng = backend.generator_of(generator)
    parts = [[] for _ in fractions]
    for c, indices in enumerate(members):
        shuffled = indices[rng.permutation(len(indices))]
        bounds = np.cumsum([0] + counts[c].tolist())
        for k in range(len(fractions)):
            parts[k].append(shuffled[bounds[k]:bounds[k + 1]])
    return [Subset(dataset_or_labels, np.sort(np.concatenate(p))) for p in parts]
