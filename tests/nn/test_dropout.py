import numpy as np
import pytest
import torch

import gradkit as gk
import gradkit.nn.functional as F
from gradkit import nn


def test_dropout_keeps_the_right_fraction_and_scales():
    gk.manual_seed(0)
    p, n = 0.3, 200_000
    x = gk.ones(n, requires_grad=True)
    out = F.dropout(x, p)
    values = out.detach().numpy()
    kept = values != 0
    # The kept fraction has std sqrt(p(1-p)/n) ~ 0.001: 0.005 is five of them, yet p=0.29 or 0.31 fails.
    assert abs(kept.mean() - (1 - p)) < 0.005
    np.testing.assert_allclose(values[kept], 1 / (1 - p), rtol=1e-6)
    assert abs(values.mean() - 1.0) < 0.01  # the expectation is preserved
    out.backward(gk.ones(n))
    np.testing.assert_array_equal(x.grad.numpy(), values)  # d out / d x is the scaled mask


def test_dropout_gradient_matches_mask_for_random_upstream():
    gk.manual_seed(1)
    x = gk.tensor(np.random.default_rng(0).standard_normal((7, 9)).astype(np.float32), requires_grad=True)
    out = F.dropout(x, 0.5)
    mask = out.detach().numpy() / x.detach().numpy()
    assert set(np.round(np.unique(mask), 5)) == {0.0, 2.0}
    upstream = np.random.default_rng(1).standard_normal((7, 9)).astype(np.float32)
    out.backward(gk.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), upstream * mask, rtol=1e-6)


def test_eval_mode_and_p_zero_are_identity():
    x = gk.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    layer = nn.Dropout(0.9).eval()
    assert layer(x) is x
    assert F.alpha_dropout(x, 0.5) is x  # training defaults to False here, as in PyTorch


def test_p_one_gives_zeros():
    x = gk.randn(3, 4, requires_grad=True)
    out = F.dropout(x, 1.0)
    assert (out.detach().numpy() == 0).all()
    out.backward(gk.ones(3, 4))
    assert (x.grad.numpy() == 0).all()


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_invalid_p(p):
    for fn in (F.dropout, F.dropout2d, F.alpha_dropout):
        with pytest.raises(ValueError, match="between 0 and 1"):
            fn(gk.ones(2, 2, 2, 2), p, True)
    for layer in (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout):
        with pytest.raises(ValueError, match=f"{layer.__name__}: dropout probability"):
            layer(p)


def test_reproducible_under_manual_seed():
    x = gk.ones(1000)
    gk.manual_seed(7)
    first = F.dropout(x, 0.5).numpy()
    gk.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), first)
    assert not np.array_equal(F.dropout(x, 0.5).numpy(), first)


@pytest.mark.parametrize("fn, shape, channel_dims", [
    (F.dropout2d, (50, 200, 3, 4), 2), (F.dropout2d, (10_000, 3, 2), 1), (F.dropout1d, (40, 250, 6), 2),
    (F.dropout1d, (10_000, 3), 1), (F.dropout3d, (20, 500, 2, 2, 2), 2)],
    ids=["2d", "2d_unbatched", "1d", "1d_unbatched", "3d"])
def test_feature_dropout_zeroes_whole_channels(fn, shape, channel_dims):
    gk.manual_seed(2)
    p = 0.4
    out = fn(gk.ones(*shape), p).numpy()
    channels = out.reshape(int(np.prod(shape[:channel_dims])), -1)
    whole = np.all(channels == channels[:, :1], axis=1)
    assert whole.all(), "a channel was partly dropped"
    dropped = channels[:, 0] == 0
    assert abs(dropped.mean() - p) < 0.03  # 10,000+ channels: std 0.005
    np.testing.assert_allclose(channels[~dropped], 1 / (1 - p), rtol=1e-6)


def test_feature_dropout_shape_errors():
    with pytest.raises(ValueError, match=r"dropout2d: expected a 3-D \(unbatched\) or 4-D"):
        F.dropout2d(gk.ones(2, 3), 0.5)


def test_alpha_dropout_values_match_torch_formula_and_keep_moments():
    gk.manual_seed(3)
    torch.manual_seed(3)
    p = 0.2
    zeros = gk.zeros(50_000)
    ours = np.unique(np.round(F.alpha_dropout(zeros, p, training=True).numpy(), 5))
    theirs = np.unique(np.round(torch.nn.functional.alpha_dropout(torch.zeros(50_000), p, True).numpy(), 5))
    np.testing.assert_array_equal(ours, theirs)  # the same kept and dropped values: same a and b
    x = np.random.default_rng(0).standard_normal(400_000).astype(np.float32)
    out = F.alpha_dropout(gk.tensor(x), p, training=True).numpy()
    assert abs(out.mean()) < 0.01 and abs(out.std() - 1.0) < 0.01  # zero mean, unit variance kept
    plain = F.dropout(gk.tensor(x), p).numpy()
    assert abs(plain.std() - 1.0) > 0.05  # ordinary dropout would not keep them


def test_feature_alpha_dropout_whole_channels():
    gk.manual_seed(4)
    out = F.feature_alpha_dropout(gk.zeros(100, 100, 6), 0.5, training=True).numpy()
    assert np.all(out == out[:, :, :1])
    assert len(np.unique(np.round(out, 5))) == 2


def test_dropout_module_reprs_and_training_flag():
    for ours, theirs in ((nn.Dropout(), torch.nn.Dropout()), (nn.Dropout2d(0.2), torch.nn.Dropout2d(0.2)),
                         (nn.Dropout1d(0.1, True), torch.nn.Dropout1d(0.1, True)),
                         (nn.AlphaDropout(0.3), torch.nn.AlphaDropout(0.3)),
                         (nn.FeatureAlphaDropout(0.3), torch.nn.FeatureAlphaDropout(0.3))):
        assert repr(ours) == repr(theirs)
    gk.manual_seed(5)
    layer = nn.AlphaDropout(0.5)
    x = gk.zeros(100)
    assert not np.array_equal(layer(x).numpy(), x.numpy())  # the module trains by default
    assert layer.eval()(x) is x
