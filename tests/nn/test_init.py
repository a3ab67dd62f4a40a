import math

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit.nn import init

# 200,000 samples: a sample std is within ~0.2% of the true one, so the 1% tolerances below cannot be
# met by a formula that is off by a few percent.
SHAPE = (500, 400)


def sample(fn, shape=SHAPE, **kwargs):
    gk.manual_seed(0)
    t = gk.empty(*shape)
    assert fn(t, **kwargs) is t  # in place, returns the tensor
    return t.numpy().astype(np.float64)


GAINS = [("linear", None), ("conv2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
         ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)]


@pytest.mark.parametrize("nonlinearity, param", GAINS)
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError):
        init.calculate_gain("leaky_relu", "big")


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5), (16, 3, 3, 3), (2, 4, 1, 2, 3)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(gk.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(gk.empty(5))


def test_uniform_and_normal():
    values = sample(init.uniform_, a=-2.0, b=3.0)
    assert values.min() >= -2.0 and values.max() <= 3.0
    assert abs(values.mean() - 0.5) < 0.01 and abs(values.std() - 5 / math.sqrt(12)) < 0.01 * 5 / math.sqrt(12)
    values = sample(init.normal_, mean=1.5, std=0.3)
    assert abs(values.mean() - 1.5) < 0.003 and abs(values.std() - 0.3) < 0.003


def test_trunc_normal_moments_and_bounds():
    mean, std, a, b = 0.5, 1.0, -0.5, 2.0
    values = sample(init.trunc_normal_, mean=mean, std=std, a=a, b=b)
    assert values.min() >= a and values.max() <= b
    # Moments of the truncated normal: alpha, beta standardised bounds, Z the mass in between.
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    mass = 0.5 * (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2)))
    expected_mean = mean + std * (pdf(alpha) - pdf(beta)) / mass
    expected_var = std ** 2 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass
                               - ((pdf(alpha) - pdf(beta)) / mass) ** 2)
    assert abs(values.mean() - expected_mean) < 0.005
    assert abs(values.std() - math.sqrt(expected_var)) < 0.01 * math.sqrt(expected_var)
    theirs = torch.nn.init.trunc_normal_(torch.empty(SHAPE), mean, std, a, b).double().numpy()
    assert abs(values.mean() - theirs.mean()) < 0.01 and abs(values.std() - theirs.std()) < 0.01


def test_trunc_normal_default_is_two_absolute_units():
    values = sample(init.trunc_normal_, std=0.02)  # ViT-style: a, b = -2, 2 are far outside 0.02 * 2
    assert abs(values.std() - 0.02) < 0.0005
    with pytest.raises(ValueError, match="probability mass"):
        init.trunc_normal_(gk.empty(3), mean=0.0, std=1.0, a=10.0, b=11.0)


@pytest.mark.parametrize("gain", [1.0, init.calculate_gain("relu")])
def test_xavier(gain):
    fan_in, fan_out = SHAPE[1], SHAPE[0]
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    values = sample(init.xavier_uniform_, gain=gain)
    bound = math.sqrt(3) * std
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.999 * bound
    assert abs(values.std() - std) < 0.01 * std
    values = sample(init.xavier_normal_, gain=gain)
    assert abs(values.std() - std) < 0.01 * std and abs(values.mean()) < 0.01 * std


KAIMING = [dict(), dict(a=math.sqrt(5)), dict(mode="fan_out"), dict(nonlinearity="relu"),
           dict(a=0.1, mode="fan_out", nonlinearity="leaky_relu"), dict(nonlinearity="tanh")]


@pytest.mark.parametrize("kwargs", KAIMING, ids=str)
@pytest.mark.parametrize("shape", [SHAPE, (64, 32, 5, 5)])
def test_kaiming(kwargs, shape):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(gk.empty(*shape))
    fan = fan_out if kwargs.get("mode") == "fan_out" else fan_in
    gain = init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
    std = gain / math.sqrt(fan)
    values = sample(init.kaiming_uniform_, shape=shape, **kwargs)
    assert np.abs(values).max() <= math.sqrt(3) * std and np.abs(values).max() > 0.999 * math.sqrt(3) * std
    assert abs(values.std() - std) < 0.01 * std
    values = sample(init.kaiming_normal_, shape=shape, **kwargs)
    assert abs(values.std() - std) < 0.01 * std
    # and the same spread as PyTorch's own initialiser
    theirs = torch.nn.init.kaiming_normal_(torch.empty(shape), **kwargs).numpy()
    assert abs(values.std() - theirs.std()) < 0.02 * std


def test_kaiming_bad_mode():
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_uniform_(gk.empty(3, 3), mode="fan_avg")


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 2, 3, 3)])
def test_orthogonal(shape):
    values = sample(init.orthogonal_, shape=shape, gain=2.0).reshape(shape[0], -1)
    gram = values @ values.T if values.shape[0] <= values.shape[1] else values.T @ values
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-5)


@pytest.mark.parametrize("name, args, shape", [
    ("zeros_", (), (3, 4)), ("ones_", (), (3, 4)), ("constant_", (0.7,), (2, 5)), ("eye_", (), (3, 5)),
    ("dirac_", (), (4, 3, 3)), ("dirac_", (), (6, 3, 3, 3)), ("dirac_", (2,), (4, 2, 3, 3)),
    ("dirac_", (), (2, 2, 3, 3, 3))])
def test_deterministic_initialisers_match_torch(name, args, shape):
    ours = getattr(init, name)(gk.empty(*shape), *args)
    theirs = getattr(torch.nn.init, name)(torch.empty(*shape), *args)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_in_place_on_parameters_without_recording_a_graph():
    weight = gk.nn.Parameter(gk.zeros(5, 3))
    version = weight._version
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    assert weight.requires_grad and weight.grad_fn is None and weight.grad is None
    assert weight._version == version + 1  # the change is visible to autograd's in-place checks
    assert weight.detach().numpy().any()


def test_generator_and_manual_seed_reproducibility():
    g = gk.Generator(11)
    a = init.normal_(gk.empty(10), generator=g).numpy()
    b = init.normal_(gk.empty(10), generator=gk.Generator(11)).numpy()
    np.testing.assert_array_equal(a, b)
    gk.manual_seed(3)
    c = init.xavier_uniform_(gk.empty(4, 4)).numpy()
    gk.manual_seed(3)
    np.testing.assert_array_equal(init.xavier_uniform_(gk.empty(4, 4)).numpy(), c)


def test_float64_tensor_keeps_its_dtype():
    t = gk.empty(3, 3, dtype=gk.float64)
    init.orthogonal_(t)
    assert t.dtype == gk.float64
