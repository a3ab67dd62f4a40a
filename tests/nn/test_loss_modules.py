import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn
from tests.oracle import compare, randn

MODULES = [
    ("MSELoss", {}, "regression"), ("L1Loss", {"reduction": "sum"}, "regression"),
    ("HuberLoss", {"delta": 0.5}, "regression"), ("SmoothL1Loss", {"beta": 0.3, "reduction": "none"}, "regression"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 1}, "classes"),
    ("NLLLoss", {"reduction": "sum"}, "classes"), ("MultiMarginLoss", {"p": 2, "margin": 0.5}, "classes"),
    ("BCELoss", {}, "probabilities"), ("BCEWithLogitsLoss", {}, "binary"),
    ("KLDivLoss", {"reduction": "batchmean"}, "distribution"),
]


def inputs_for(kind):
    rng = np.random.default_rng(0)
    if kind == "regression":
        return [randn(4, 3), randn(4, 3, seed=1)], None
    if kind == "classes":
        return [randn(6, 4), rng.integers(0, 4, 6)], [0]
    if kind == "probabilities":
        return [1 / (1 + np.exp(-randn(5, 2))), rng.random((5, 2)).astype(np.float32)], [0]
    if kind == "binary":
        return [randn(5, 2), (rng.random((5, 2)) > 0.5).astype(np.float32)], [0]
    logp = np.log(rng.dirichlet(np.ones(3), size=4)).astype(np.float32)
    return [logp, rng.dirichlet(np.ones(3), size=4).astype(np.float32)], [0]


@pytest.mark.parametrize("name, kwargs, kind", MODULES, ids=[m[0] for m in MODULES])
def test_loss_modules_match_torch(name, kwargs, kind):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    arrays, grad = inputs_for(kind)
    compare(ours, theirs, arrays, grad=grad)


def test_loss_module_repr_and_validation():
    assert repr(nn.CrossEntropyLoss()) == repr(torch.nn.CrossEntropyLoss())
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction=sum)"
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)


def test_multitask_loss_fixed_weights_is_the_weighted_sum():
    loss = nn.MultiTaskLoss({"cls": nn.CrossEntropyLoss(), "reg": nn.MSELoss()}, weights={"reg": 5.0})
    logits, labels = gk.tensor(randn(4, 3), requires_grad=True), gk.tensor([0, 2, 1, 1])
    pred, target = gk.tensor(randn(4, 2, seed=1), requires_grad=True), gk.tensor(randn(4, 2, seed=2))
    total = loss({"cls": logits, "reg": pred}, {"cls": labels, "reg": target})
    expected = nn.CrossEntropyLoss()(logits, labels).item() + 5.0 * nn.MSELoss()(pred, target).item()
    assert total.item() == pytest.approx(expected, rel=1e-6)
    assert loss.task_weights() == {"cls": 1.0, "reg": 5.0}
    with pytest.raises(ValueError, match="unknown tasks"):
        nn.MultiTaskLoss({"a": nn.MSELoss()}, weights={"b": 1.0})


def test_multitask_loss_learns_uncertainty_weights():
    loss = nn.MultiTaskLoss({"a": nn.MSELoss(), "b": nn.MSELoss()}, learn_weights=True)
    assert [name for name, _ in loss.named_parameters()] == ["log_vars"]
    x = gk.tensor(randn(8, 1))
    outputs = {"a": x * 1.0, "b": x * 1.0}
    targets = {"a": gk.zeros(8, 1), "b": gk.tensor(randn(8, 1, seed=3) * 10)}  # task b is far noisier
    total = loss(outputs, targets)
    total.backward()
    la, lb = loss.last_losses["a"], loss.last_losses["b"]
    # d/ds_i of exp(-s_i) L_i + s_i at s = 0 is 1 - L_i
    np.testing.assert_allclose(loss.log_vars.grad.numpy(), [1 - la, 1 - lb], rtol=1e-5)
    opt = gk.optim.SGD(loss.parameters(), lr=0.01) if hasattr(gk, "optim") else None
    if opt is not None:
        for _ in range(200):
            opt.zero_grad()
            loss(outputs, targets).backward()
            opt.step()
        weights = loss.task_weights()
        assert weights["b"] < weights["a"]  # the noisy task is down-weighted
