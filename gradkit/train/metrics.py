"""Metrics on predictions and targets (tensors or arrays), computed with NumPy.

Classification metrics take logits or probabilities of shape (N, C) (argmax is the prediction) or
already-predicted labels of shape (N,). Each is a plain function; :class:`Metric` objects accumulate
over batches for the trainer so that epoch values are exact, not averages of batch averages.
"""
import numpy as np

from gradkit import backend
from gradkit.tensor import Tensor

__all__ = ["accuracy", "top_k_accuracy", "confusion_matrix", "precision_recall_f1", "precision", "recall",
           "f1_score", "mean_squared_error", "mean_absolute_error", "r2_score", "Metric", "Accuracy", "TopKAccuracy",
           "MeanSquaredError", "MeanAbsoluteError", "R2Score", "F1Score", "get_metric"]


def _numpy(x):
    if isinstance(x, Tensor):
        return backend.to_device(x.data, "cpu")
    return np.asarray(x)


def _labels(predictions):
    p = _numpy(predictions)
    return p.argmax(axis=1) if p.ndim > 1 else p.astype(np.int64)


def accuracy(predictions, targets):
    """Fraction of samples whose predicted class equals the target."""
    pred, t = _labels(predictions), _numpy(targets).astype(np.int64)
    return float((pred == t).mean()) if t.size else 0.0


def top_k_accuracy(scores, targets, k=5):
    """Fraction of samples whose target is among the ``k`` highest scores."""
    s, t = _numpy(scores), _numpy(targets).astype(np.int64)
    k = min(k, s.shape[1])
    top = np.argpartition(-s, k - 1, axis=1)[:, :k]
    return float((top == t[:, None]).any(axis=1).mean()) if t.size else 0.0


def confusion_matrix(predictions, targets, num_classes=None):
    """Counts ``M[i, j]`` of samples of true class ``i`` predicted as ``j``."""
    pred, t = _labels(predictions), _numpy(targets).astype(np.int64)
    if num_classes is None:
        num_classes = int(max(pred.max(initial=-1), t.max(initial=-1)) + 1)
    return np.bincount(t * num_classes + pred, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def _from_confusion(matrix, average):
    tp = np.diag(matrix).astype(np.float64)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    if average is None:
        return precision, recall, f1
    if average == "macro":
        return float(precision.mean()), float(recall.mean()), float(f1.mean())
    if average == "micro":
        value = float(tp.sum() / max(1, matrix.sum()))
        return value, value, value
    raise ValueError(f"precision_recall_f1: average must be 'macro', 'micro' or None, got {average!r}")


def precision_recall_f1(predictions, targets, num_classes=None, average="macro"):
    """Precision, recall and F1: per class (``average=None``), or their unweighted mean (``'macro'``),
    or pooled over all samples (``'micro'``). A class never predicted has precision 0 (as scikit-learn's
    ``zero_division=0``)."""
    return _from_confusion(confusion_matrix(predictions, targets, num_classes), average)


def precision(predictions, targets, num_classes=None, average="macro"):
    return precision_recall_f1(predictions, targets, num_classes, average)[0]


def recall(predictions, targets, num_classes=None, average="macro"):
    return precision_recall_f1(predictions, targets, num_classes, average)[1]


def f1_score(predictions, targets, num_classes=None, average="macro"):
    return precision_recall_f1(predictions, targets, num_classes, average)[2]


def mean_squared_error(predictions, targets):
    p, t = _numpy(predictions).astype(np.float64), _numpy(targets).astype(np.float64)
    return float(((p - t) ** 2).mean())


def mean_absolute_error(predictions, targets):
    p, t = _numpy(predictions).astype(np.float64), _numpy(targets).astype(np.float64)
    return float(np.abs(p - t).mean())


def r2_score(predictions, targets):
    r""":math:`R^2 = 1 - \sum (y - \hat y)^2 / \sum (y - \bar y)^2` (averaged over output columns)."""
    p, t = _numpy(predictions).astype(np.float64), _numpy(targets).astype(np.float64)
    residual = ((t - p) ** 2).sum(axis=0)
    total = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(total > 0, 1 - residual / total, 0.0)
    return float(np.mean(scores))


class Metric:
    """Accumulates predictions over an epoch; ``compute()`` gives the exact epoch value."""

    name = "metric"

    def __init__(self):
        self.reset()

    def reset(self):
        self._predictions, self._targets = [], []

    def update(self, predictions, targets):
        self._predictions.append(_numpy(predictions).copy())
        self._targets.append(_numpy(targets).copy())

    def compute(self):
        if not self._targets:
            return float("nan")
        return self.function(np.concatenate(self._predictions), np.concatenate(self._targets))

    def function(self, predictions, targets):
        raise NotImplementedError


def _metric_class(class_name, metric_name, fn, **fixed):
    def function(self, predictions, targets):
        return fn(predictions, targets, **fixed)
    return type(class_name, (Metric,), {"name": metric_name, "function": function,
                                        "__doc__": f"Epoch-accumulated ``{metric_name}``."})


Accuracy = _metric_class("Accuracy", "accuracy", accuracy)
MeanSquaredError = _metric_class("MeanSquaredError", "mse", mean_squared_error)
MeanAbsoluteError = _metric_class("MeanAbsoluteError", "mae", mean_absolute_error)
R2Score = _metric_class("R2Score", "r2", r2_score)
F1Score = _metric_class("F1Score", "f1", f1_score)


class TopKAccuracy(Metric):
    def __init__(self, k=5):
        self.k, self.name = k, f"top{k}_accuracy"
        super().__init__()

    def function(self, predictions, targets):
        return top_k_accuracy(predictions, targets, self.k)


_BY_NAME = {"accuracy": Accuracy, "acc": Accuracy, "mse": MeanSquaredError, "mae": MeanAbsoluteError,
            "r2": R2Score, "f1": F1Score}


def get_metric(metric):
    """A :class:`Metric` from an instance, a class or a name (``'accuracy'``, ``'top5_accuracy'``, ...)."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, type) and issubclass(metric, Metric):
        return metric()
    if isinstance(metric, str):
        if metric.startswith("top") and metric.endswith("_accuracy"):
            return TopKAccuracy(int(metric[3:-len("_accuracy")]))
        if metric in _BY_NAME:
            return _BY_NAME[metric]()
        raise ValueError(f"unknown metric {metric!r}; known: {sorted(_BY_NAME)} and 'topK_accuracy'")
    raise TypeError(f"a metric must be a Metric, a Metric class or a name, got {type(metric).__name__}")
