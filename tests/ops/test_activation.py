import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import gradkit as gk
from gradkit.ops import activation as F  # the body of gradkit.nn.functional
from tests.oracle import compare, gradcheck, randn

# Every kink and threshold the activations below have, plus both sides of each.
KINKS = np.array([-6, -3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 6, 10, 20, -20, 2.9, -2.9, 3.1, -3.1, 6.1, 5.9],
                 dtype=np.float32)

# (name, gradkit fn, torch fn, smooth): smooth ones are also checked to second order.
ELEMENTWISE = [
    ("leaky_relu", F.leaky_relu, TF.leaky_relu, False),
    ("leaky_relu_slope", lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), False),
    ("elu", F.elu, TF.elu, False),
    ("elu_alpha", lambda x: F.elu(x, alpha=2.0), lambda x: TF.elu(x, alpha=2.0), False),
    ("selu", F.selu, TF.selu, False),
    ("celu", lambda x: F.celu(x, alpha=1.5), lambda x: TF.celu(x, alpha=1.5), False),
    ("gelu", F.gelu, TF.gelu, True),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"), True),
    ("softplus", F.softplus, TF.softplus, True),
    ("softplus_beta", lambda x: F.softplus(x, beta=2, threshold=5), lambda x: TF.softplus(x, beta=2, threshold=5),
     False),
    ("softsign", F.softsign, TF.softsign, False),
    ("silu", F.silu, TF.silu, True),
    ("mish", F.mish, TF.mish, True),
    ("relu6", F.relu6, TF.relu6, False),
    ("hardsigmoid", F.hardsigmoid, TF.hardsigmoid, False),
    ("hardswish", F.hardswish, TF.hardswish, False),
    ("hardtanh", F.hardtanh, TF.hardtanh, False),
    ("hardtanh_bounds", lambda x: F.hardtanh(x, -2.0, 3.0), lambda x: TF.hardtanh(x, -2.0, 3.0), False),
    ("threshold", lambda x: F.threshold(x, 1.0, -2.0), lambda x: TF.threshold(x, 1.0, -2.0), False),
    ("logsigmoid", F.logsigmoid, TF.logsigmoid, True),
    ("tanhshrink", F.tanhshrink, TF.tanhshrink, True),
    ("softshrink", F.softshrink, TF.softshrink, False),
    ("hardshrink", lambda x: F.hardshrink(x, 1.0), lambda x: TF.hardshrink(x, 1.0), False),
    ("softmax", lambda x: F.softmax(x, dim=1), lambda x: TF.softmax(x, dim=1), True),
    ("softmax_last", lambda x: F.softmax(x, -1), lambda x: TF.softmax(x, -1), True),
    ("softmax_first", lambda x: gk.softmax(x, 0), lambda x: torch.softmax(x, 0), True),
    ("softmax_method", lambda x: x.softmax(2), lambda x: x.softmax(2), True),
    ("log_softmax", lambda x: F.log_softmax(x, dim=1), lambda x: TF.log_softmax(x, dim=1), True),
    ("log_softmax_method", lambda x: x.log_softmax(-1), lambda x: x.log_softmax(-1), True),
    ("gk_log_softmax", lambda x: gk.log_softmax(x, 0), lambda x: torch.log_softmax(x, 0), True),
    ("softmin", lambda x: F.softmin(x, dim=1), lambda x: TF.softmin(x, dim=1), True),
    ("glu", F.glu, TF.glu, True),
    ("glu_dim1", lambda x: F.glu(x, 1), lambda x: TF.glu(x, 1), True),
    ("crelu", F.crelu, lambda x: torch.cat([torch.relu(x), torch.relu(-x)], dim=1), False),
    ("crelu_last", lambda x: F.crelu(x, -1), lambda x: torch.cat([torch.relu(x), torch.relu(-x)], dim=-1), False),
]


@pytest.mark.parametrize("name, gk_fn, torch_fn, smooth", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_against_torch_random(name, gk_fn, torch_fn, smooth):
    compare(gk_fn, torch_fn, [randn(3, 6, 4) * 3])


KINKED = [c for c in ELEMENTWISE if not c[0].startswith(("softmax", "log_softmax", "gk_log", "softmin", "glu"))]


@pytest.mark.parametrize("name, gk_fn, torch_fn, smooth", KINKED, ids=[c[0] for c in KINKED])
def test_against_torch_at_kinks(name, gk_fn, torch_fn, smooth):
    # Exactly at 0, +-3, 6, thresholds and bounds: the derivative must be PyTorch's choice there.
    compare(gk_fn, torch_fn, [np.stack([KINKS, -KINKS])], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name, gk_fn, torch_fn, smooth", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_gradcheck(name, gk_fn, torch_fn, smooth):
    x = randn(2, 4, 2, seed=3).astype(np.float64) * 2
    if not smooth:
        # Every kink is a multiple of 0.25: points on the grid n/4 + 1/8 keep finite differences off them.
        x = np.round(x * 4) / 4 + 0.125
    gradcheck(gk_fn, [x], second_order=True)


def test_prelu_against_torch():
    x = randn(2, 3, 4, 5) * 2
    x[0, 0, 0, :3] = 0.0
    compare(F.prelu, TF.prelu, [x, np.array([0.25, -0.1, 0.6], dtype=np.float32)])
    compare(F.prelu, TF.prelu, [x, np.array([0.3], dtype=np.float32)])
    compare(F.prelu, TF.prelu, [randn(7), np.array([0.3], dtype=np.float32)])
    gradcheck(F.prelu, [x.astype(np.float64) + 0.01, np.array([0.25, -0.1, 0.6])], second_order=True)


def test_prelu_weight_error():
    with pytest.raises(ValueError, match=r"prelu: weight of shape \(2,\) has 2 elements but input of shape "
                                         r"\(4, 3\) has 3 channels"):
        F.prelu(gk.ones(4, 3), gk.ones(2))


def test_maxout_against_torch_composite():
    x = randn(2, 6, 3, 4)
    x[0, 0, 0, 0] = x[0, 1, 0, 0]  # a tie: the first piece gets the gradient, as with torch.max(dim)
    compare(lambda t: F.maxout(t, 3), lambda t: t.view(2, 2, 3, 3, 4).max(dim=2).values, [x])
    compare(lambda t: F.maxout(t, 2, dim=-1), lambda t: t.view(5, 3, 2).max(dim=-1).values, [randn(5, 6)])
    gradcheck(lambda t: F.maxout(t, 3), [x.astype(np.float64)], second_order=True)


def test_maxout_error():
    with pytest.raises(ValueError, match=r"maxout: the size of dim 1 of input of shape \(2, 7\) must be a multiple"):
        F.maxout(gk.ones(2, 7), 2)


def test_glu_odd_size_error():
    with pytest.raises(ValueError, match=r"glu: the size of dim 1 must be even, got input of shape \(2, 5\)"):
        F.glu(gk.ones(2, 5))


def test_softmax_dim_error():
    with pytest.raises(ValueError, match=r"softmax: dim 2 is out of range for input of shape \(2, 5\)"):
        F.softmax(gk.ones(2, 5), dim=2)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsigmoid", "softplus", "silu", "mish", "gelu", "elu",
                                  "selu", "celu"])
def test_extreme_inputs_are_finite_and_match_torch(name):
    x = np.array([[1e4, -1e4, 0.0, 50.0], [-1e4, -1e4 + 1, 88.0, -88.0]], dtype=np.float32)
    fn = (lambda t: getattr(F, name)(t, dim=-1)) if "softmax" in name else getattr(F, name)
    torch_fn = (lambda t: getattr(TF, name)(t, dim=-1)) if "softmax" in name else getattr(TF, name)
    out, = compare(fn, torch_fn, [x], atol=1e-6)
    assert np.all(np.isfinite(out.detach().numpy()))


def test_softmax_rows_sum_to_one_and_implicit_dim():
    x = randn(4, 7)
    np.testing.assert_allclose(F.softmax(gk.tensor(x), 1).numpy().sum(1), np.ones(4), rtol=1e-6)
    with pytest.warns(UserWarning):
        expected = TF.softmax(torch.tensor(x)).numpy()
    np.testing.assert_allclose(F.softmax(gk.tensor(x)).numpy(), expected, rtol=1e-6)
    compare(lambda t: F.softmax(t, 0), lambda t: TF.softmax(t, 0), [np.array(2.0, dtype=np.float32)])


def test_softmax_dtype_argument():
    x = randn(3, 4)
    compare(lambda t: F.softmax(t, 1, dtype=gk.float64), lambda t: TF.softmax(t, 1, dtype=torch.float64), [x])


def test_fused_softmax_matches_composite():
    # The fused primitive against exp(x - logsumexp(x)) built from elementwise ops.
    x = randn(5, 9) * 4
    composite = gk.exp(gk.tensor(x) - gk.tensor(np.log(np.exp(x.astype(np.float64)).sum(1, keepdims=True))))
    np.testing.assert_allclose(F.softmax(gk.tensor(x), 1).numpy(), composite.numpy(), rtol=1e-5, atol=1e-7)


def test_activations_keep_float32():
    x = gk.tensor(randn(3, 4))
    for name in F.__all__:
        if name in ("prelu", "maxout"):
            continue
        fn = getattr(F, name)
        if name in ("softmax", "log_softmax", "softmin"):
            out = fn(x, 1)
        else:
            out = fn(x, 0.5, 2.0) if name == "threshold" else fn(x)
        assert out.dtype == gk.float32, name


def test_inplace_keyword_is_accepted():
    x = randn(3, 4)
    for name in ("leaky_relu", "elu", "selu", "celu", "silu", "mish", "relu6", "hardsigmoid", "hardswish",
                 "hardtanh"):
        out = getattr(F, name)(gk.tensor(x), inplace=False)
        np.testing.assert_allclose(out.numpy(), getattr(TF, name)(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh'"):
        F.gelu(gk.ones(2), approximate="fast")
