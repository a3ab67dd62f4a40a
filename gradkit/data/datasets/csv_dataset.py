"""Tabular data from a CSV file with a header row."""
import csv

import numpy as np

from gradkit.data.dataset import Dataset
from gradkit.data.datasets._files import apply_transforms


def _column_index(header, column, path):
    if isinstance(column, int) and not isinstance(column, bool):
        if not -len(header) <= column < len(header):
            raise ValueError(f"{path}: column index {column} out of range for {len(header)} columns")
        return column % len(header)
    if column not in header:
        raise ValueError(f"{path}: no column named {column!r}; the header has {header}")
    return header.index(column)


class CSVDataset(Dataset):
    """Rows of a CSV file as ``(features, target)`` samples.

    ``target_column`` and ``feature_columns`` (default: every other column) are names from the header
    or indices. Features become a float32 (n_features,) array; a non-numeric or empty feature raises
    ValueError naming the file, line and column. Targets that are all whole numbers become int64
    labels; other numbers float32 (regression); text targets are class names, mapped to labels in
    sorted order (``classes``, ``class_to_idx``). ``target_column=None`` gives features only.
    ``data`` and ``targets`` hold everything as arrays.
    """

    def __init__(self, path, target_column, feature_columns=None, delimiter=",", transform=None,
                 target_transform=None, encoding="utf-8"):
        self.path = str(path)
        self.transform, self.target_transform = transform, target_transform
        try:
            with open(self.path, newline="", encoding=encoding) as f:
                rows = list(csv.reader(f, delimiter=delimiter))
        except FileNotFoundError:
            raise FileNotFoundError(f"CSVDataset: file not found: {self.path}") from None
        except (UnicodeDecodeError, csv.Error) as error:
            raise ValueError(f"{self.path}: cannot parse the file as {encoding} CSV ({error})") from error
        if not rows:
            raise ValueError(f"{self.path}: empty file, expected a header row")
        header = [name.strip() for name in rows[0]]
        body = [(line, row) for line, row in enumerate(rows[1:], start=2) if any(cell.strip() for cell in row)]
        for line, row in body:
            if len(row) != len(header):
                raise ValueError(f"{self.path}, line {line}: {len(row)} fields, the header has {len(header)}")
        target = None if target_column is None else _column_index(header, target_column, self.path)
        if feature_columns is None:
            features = [i for i in range(len(header)) if i != target]
        else:
            features = [_column_index(header, c, self.path) for c in feature_columns]
        self.feature_names = [header[i] for i in features]
        self.target_name = None if target is None else header[target]
        self.data = np.empty((len(body), len(features)), dtype=np.float32)
        for r, (line, row) in enumerate(body):
            for c, column in enumerate(features):
                self.data[r, c] = self._number(row[column], line, header[column])
        self.classes = None
        self.targets = None if target is None else self._targets([row[target].strip() for _, row in body])

    def _number(self, text, line, column):
        try:
            return float(text)
        except ValueError:
            what = "empty value" if not text.strip() else f"non-numeric value {text!r}"
            raise ValueError(f"{self.path}, line {line}, column {column!r}: {what}; features must be numbers "
                             "(encode categories first or leave the column out with feature_columns)") from None

    def _targets(self, cells):
        try:
            values = np.array([float(c) for c in cells], dtype=np.float64)
        except ValueError:
            self.classes = sorted(set(cells))
            self.class_to_idx = {name: i for i, name in enumerate(self.classes)}
            return np.array([self.class_to_idx[c] for c in cells], dtype=np.int64)
        if np.all(np.isfinite(values)) and np.all(values == np.round(values)):
            return values.astype(np.int64)
        return values.astype(np.float32)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        features = self.data[index]
        if self.targets is None:
            return self.transform(features) if self.transform is not None else features
        target = self.targets[index]
        target = int(target) if self.targets.dtype == np.int64 else np.float32(target)
        return apply_transforms(features, target, self.transform, self.target_transform)

    def __repr__(self):
        return f"CSVDataset({self.path!r}, samples={len(self)}, features={len(self.feature_names)})"
