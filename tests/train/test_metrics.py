import numpy as np
import pytest

import gradkit as gk
from gradkit.train import metrics

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def random_case(seed=0, n=200, classes=5):
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((n, classes)).astype(np.float32)
    targets = rng.integers(0, classes, n)
    return scores, targets


def test_classification_metrics_match_scikit_learn():
    scores, targets = random_case()
    pred = scores.argmax(1)
    assert metrics.accuracy(gk.tensor(scores), gk.tensor(targets)) == pytest.approx(
        sklearn_metrics.accuracy_score(targets, pred))
    assert metrics.top_k_accuracy(scores, targets, k=3) == pytest.approx(
        sklearn_metrics.top_k_accuracy_score(targets, scores, k=3))
    np.testing.assert_array_equal(metrics.confusion_matrix(scores, targets),
                                  sklearn_metrics.confusion_matrix(targets, pred))
    for average in ("macro", "micro", None):
        p, r, f = metrics.precision_recall_f1(scores, targets, average=average)
        ep, er, ef, _ = sklearn_metrics.precision_recall_fscore_support(targets, pred, average=average,
                                                                        zero_division=0)
        np.testing.assert_allclose([p, r, f], [ep, er, ef])


def test_regression_metrics_match_scikit_learn():
    rng = np.random.default_rng(1)
    y, p = rng.standard_normal((50, 2)), rng.standard_normal((50, 2))
    assert metrics.mean_squared_error(p, y) == pytest.approx(sklearn_metrics.mean_squared_error(y, p))
    assert metrics.mean_absolute_error(p, y) == pytest.approx(sklearn_metrics.mean_absolute_error(y, p))
    assert metrics.r2_score(p, y) == pytest.approx(sklearn_metrics.r2_score(y, p))


def test_accumulated_metric_is_exact_over_uneven_batches():
    scores, targets = random_case(n=103)
    metric = metrics.get_metric("accuracy")
    for start in range(0, 103, 25):
        metric.update(scores[start:start + 25], targets[start:start + 25])
    assert metric.compute() == pytest.approx(metrics.accuracy(scores, targets))
    assert metrics.get_metric("top3_accuracy").name == "top3_accuracy"
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.get_metric("accuracyy")
