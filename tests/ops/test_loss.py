import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradkit as gk
import gradkit.nn.functional as F
from tests.oracle import compare, gradcheck, randn

REDUCTIONS = ["mean", "sum", "none"]


def labels(*shape, classes, seed=0):
    return np.random.default_rng(seed).integers(0, classes, shape)


def probabilities(*shape, seed=0):
    return 1 / (1 + np.exp(-randn(*shape, seed=seed)))


REGRESSION = [
    ("mse", F.mse_loss, TF.mse_loss, {}),
    ("l1", F.l1_loss, TF.l1_loss, {}),
    ("huber", F.huber_loss, TF.huber_loss, {"delta": 0.7}),
    ("smooth_l1", F.smooth_l1_loss, TF.smooth_l1_loss, {"beta": 0.5}),
    ("smooth_l1_beta0", F.smooth_l1_loss, TF.smooth_l1_loss, {"beta": 0.0}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, ours, theirs, kwargs", REGRESSION, ids=[c[0] for c in REGRESSION])
def test_regression_losses(name, ours, theirs, kwargs, reduction):
    compare(lambda x, y: ours(x, y, reduction=reduction, **kwargs),
            lambda x, y: theirs(x, y, reduction=reduction, **kwargs), [randn(3, 5), randn(3, 5, seed=1)])


CLASSIFICATION = [
    ("ce", {}, (7, 5), (7,)),
    ("ce_spatial", {}, (3, 4, 5, 2), (3, 5, 2)),
    ("ce_weight", {"weight": np.linspace(0.5, 2, 4).astype(np.float32)}, (6, 4), (6,)),
    ("ce_ignore", {"ignore_index": 2}, (9, 4), (9,)),
    ("ce_smooth", {"label_smoothing": 0.2}, (5, 6), (5,)),
    ("ce_smooth_weight_ignore", {"label_smoothing": 0.1, "ignore_index": 1,
                                 "weight": np.linspace(0.5, 2, 3).astype(np.float32)}, (8, 3), (8,)),
    ("ce_smooth_spatial", {"label_smoothing": 0.3}, (2, 3, 4), (2, 4)),
]


def _kw(kwargs, lib):
    return {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kwargs, shape, target_shape", CLASSIFICATION, ids=[c[0] for c in CLASSIFICATION])
def test_cross_entropy_index_targets(name, kwargs, shape, target_shape, reduction):
    x, y = randn(*shape), labels(*target_shape, classes=shape[1])
    compare(lambda a, t: F.cross_entropy(a, t, reduction=reduction, **_kw(kwargs, gk)),
            lambda a, t: TF.cross_entropy(a, t, reduction=reduction, **_kw(kwargs, torch)), [x, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_probability_targets(reduction, smoothing):
    target = np.random.default_rng(1).dirichlet(np.ones(5), size=(4,)).astype(np.float32)
    w = np.linspace(0.5, 2, 5).astype(np.float32)
    compare(lambda a, t: F.cross_entropy(a, t, weight=gk.tensor(w), reduction=reduction, label_smoothing=smoothing),
            lambda a, t: TF.cross_entropy(a, t, weight=torch.tensor(w), reduction=reduction, label_smoothing=smoothing),
            [randn(4, 5), target], grad=[0])


def test_cross_entropy_unbatched_and_huge_logits():
    compare(lambda a: F.cross_entropy(a, gk.tensor(2)), lambda a: TF.cross_entropy(a, torch.tensor(2)), [randn(5)])
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]], np.float32)
    out = compare(F.cross_entropy, TF.cross_entropy, [x, np.array([1, 0])])
    assert np.isfinite(out[0].item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    w = np.linspace(0.2, 1.5, 5).astype(np.float32)
    compare(lambda a, t: F.nll_loss(a, t, weight=gk.tensor(w), ignore_index=3, reduction=reduction),
            lambda a, t: TF.nll_loss(a, t, weight=torch.tensor(w), ignore_index=3, reduction=reduction),
            [randn(8, 5), labels(8, classes=5)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    w = np.abs(randn(4, 3, seed=5))
    compare(lambda x, y: F.binary_cross_entropy(x, y, weight=gk.tensor(w), reduction=reduction),
            lambda x, y: TF.binary_cross_entropy(x, y, weight=torch.tensor(w), reduction=reduction),
            [probabilities(4, 3), probabilities(4, 3, seed=1)], grad=[0])


def test_binary_cross_entropy_clamps_log_at_minus_100():
    x = np.array([0.0, 1.0, 0.5], np.float32)
    y = np.array([1.0, 0.0, 1.0], np.float32)
    compare(lambda a, b: F.binary_cross_entropy(a, b), lambda a, b: TF.binary_cross_entropy(a, b), [x, y], grad=[])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_pos_weight_and_extremes(reduction):
    x = randn(5, 3) * 3
    x[0, 0], x[1, 1] = 1e4, -1e4
    pw, w = np.array([0.5, 2.0, 3.0], np.float32), np.abs(randn(5, 3, seed=4))
    compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight=gk.tensor(w), pos_weight=gk.tensor(pw),
                                                            reduction=reduction),
            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, weight=torch.tensor(w), pos_weight=torch.tensor(pw),
                                                             reduction=reduction),
            [x, probabilities(5, 3, seed=2)])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(np.random.default_rng(0).dirichlet(np.ones(4), size=3)).astype(np.float32)
    t = np.random.default_rng(1).dirichlet(np.ones(4), size=3).astype(np.float32)
    t[0, 1] = 0.0
    if log_target:
        t = np.log(t + 1e-3).astype(np.float32)
    compare(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
            lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target), [x, t], grad=[0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss(p, reduction):
    w = np.linspace(0.5, 1.5, 5).astype(np.float32)
    compare(lambda a, t: F.multi_margin_loss(a, t, p=p, margin=0.7, weight=gk.tensor(w), reduction=reduction),
            lambda a, t: TF.multi_margin_loss(a, t, p=p, margin=0.7, weight=torch.tensor(w), reduction=reduction),
            [randn(6, 5), labels(6, classes=5)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pseudo_huber_and_hinge_against_formulas(reduction):
    x, y = randn(4, 3).astype(np.float64), randn(4, 3, seed=1).astype(np.float64)
    delta = 0.8
    expected = delta ** 2 * (np.sqrt(1 + ((x - y) / delta) ** 2) - 1)
    got = F.pseudo_huber_loss(gk.tensor(x), gk.tensor(y), delta=delta, reduction=reduction).numpy()
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    np.testing.assert_allclose(got, reduce(expected), rtol=1e-12)
    t = np.sign(randn(4, 3, seed=2)).astype(np.float64)
    got = F.hinge_loss(gk.tensor(x), gk.tensor(t), reduction=reduction).numpy()
    np.testing.assert_allclose(got, reduce(np.maximum(0, 1 - t * x)), rtol=1e-12)
    gradcheck(lambda a, b: F.pseudo_huber_loss(a, b, delta=delta), [x, y], second_order=True)
    with pytest.raises(ValueError, match="-1 or \\+1"):
        F.hinge_loss(gk.tensor(x), gk.tensor(x))


def torchvision_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0, reduction="none"):
    """torchvision.ops.sigmoid_focal_loss, written out (torchvision is not a test dependency)."""
    p = torch.sigmoid(inputs)
    ce = TF.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha", [0.25, -1])
def test_sigmoid_focal_loss(alpha, reduction):
    targets = (randn(6, 4, seed=3) > 0).astype(np.float32)
    compare(lambda x, t: F.sigmoid_focal_loss(x, t, alpha=alpha, gamma=1.5, reduction=reduction),
            lambda x, t: torchvision_sigmoid_focal_loss(x, t, alpha=alpha, gamma=1.5, reduction=reduction),
            [randn(6, 4) * 2, targets], grad=[0])


def test_softmax_focal_loss_reduces_to_cross_entropy_and_matches_formula():
    x, y = randn(7, 4), labels(7, classes=4)
    compare(lambda a, t: F.softmax_focal_loss(a, t, gamma=0.0), lambda a, t: TF.cross_entropy(a, t), [x, y])
    alpha = np.array([0.1, 0.2, 0.3, 0.4], np.float32)

    def reference(a, t):
        logp = torch.log_softmax(a, dim=1).gather(1, t[:, None])[:, 0]
        return (-torch.tensor(alpha)[t] * (1 - logp.exp()) ** 2.0 * logp).mean()
    compare(lambda a, t: F.softmax_focal_loss(a, t, alpha=gk.tensor(alpha), gamma=2.0), reference, [x, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_chamfer_distance_against_numpy(reduction):
    x, y = randn(2, 5, 3).astype(np.float64), randn(2, 7, 3, seed=1).astype(np.float64)
    d = ((x[:, :, None, :] - y[:, None, :, :]) ** 2).sum(-1)
    expected = d.min(2).mean(1) + d.min(1).mean(1)
    expected = {"mean": expected.mean(), "sum": expected.sum(), "none": expected}[reduction]
    got = F.chamfer_distance(gk.tensor(x), gk.tensor(y), reduction=reduction)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)
    gradcheck(lambda a, b: F.chamfer_distance(a, b), [x, y])


def test_loss_errors_name_the_loss_and_shapes():
    with pytest.raises(ValueError, match=r"mse_loss: input of shape \(2, 3\) and target of shape \(3, 2\)"):
        F.mse_loss(gk.zeros(2, 3), gk.zeros(3, 2))
    with pytest.raises(ValueError, match="reduction"):
        F.l1_loss(gk.zeros(2), gk.zeros(2), reduction="avg")
    with pytest.raises(IndexError, match="target 5 is out of bounds for 3 classes"):
        F.cross_entropy(gk.zeros(2, 3), gk.tensor([0, 5]))
    with pytest.raises(ValueError, match=r"expected target of shape \(2,\)"):
        F.cross_entropy(gk.zeros(2, 3), gk.tensor([0, 1, 2]))


def test_nll_gradcheck_and_second_order():
    x, y = randn(4, 3).astype(np.float64), labels(4, classes=3)
    gradcheck(lambda a: F.cross_entropy(a, gk.tensor(y), label_smoothing=0.1), [x], second_order=True)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("kwargs", [{}, {"ignore_index": 1}, {"weight": np.linspace(0.5, 2, 4).astype(np.float32)}],
                         ids=["plain", "ignore", "weight"])
def test_fused_cross_entropy_matches_composite(kwargs, reduction):
    # 2-D logits with index targets take the fused primitive; log_softmax + nll_loss is the composite.
    from gradkit.ops.loss import _CrossEntropyIndices
    x, y = randn(6, 4, seed=3), labels(6, classes=4, seed=3)
    fused_x, composite_x = gk.tensor(x, requires_grad=True), gk.tensor(x, requires_grad=True)
    fused = F.cross_entropy(fused_x, gk.tensor(y), reduction=reduction, **_kw(kwargs, gk))
    composite = F.nll_loss(F.log_softmax(composite_x, dim=1), gk.tensor(y), reduction=reduction, **_kw(kwargs, gk))
    assert fused.grad_fn.function is _CrossEntropyIndices
    assert fused.item() == composite.item()
    fused.backward()
    composite.backward()
    np.testing.assert_allclose(fused_x.grad.numpy(), composite_x.grad.numpy(), rtol=1e-6, atol=1e-7)

    # create_graph: the fused backward is built from Tensor ops, so second derivatives agree too.
    v = gk.tensor(randn(6, 4, seed=4))
    hvp = []
    for loss_fn in (lambda a: F.cross_entropy(a, gk.tensor(y), reduction=reduction, **_kw(kwargs, gk)),
                    lambda a: F.nll_loss(F.log_softmax(a, dim=1), gk.tensor(y), reduction=reduction,
                                         **_kw(kwargs, gk))):
        a = gk.tensor(x.astype(np.float64), requires_grad=True)
        g, = gk.autograd.grad(loss_fn(a), [a], create_graph=True)
        hvp.append(gk.autograd.grad((g * v).sum(), [a])[0].numpy())
    np.testing.assert_allclose(hvp[0], hvp[1], rtol=1e-10, atol=1e-12)


def test_fused_cross_entropy_gradcheck_second_order():
    x, y = randn(5, 3, seed=2).astype(np.float64), labels(5, classes=3, seed=2)
    gradcheck(lambda a: F.cross_entropy(a, gk.tensor(y)), [x], second_order=True)
