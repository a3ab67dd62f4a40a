"""The Tensor object: creation rules, attributes, conversion, printing and the random generator."""
import numpy as np
import pytest
import torch

import gradkit as gk


@pytest.mark.parametrize("data", [1.5, [1.0, 2.0], [[1, 2], [3, 4]], True, [True, False], 3, np.zeros(3),
                                  np.arange(4, dtype=np.int32), np.ones(2, np.float32)])
def test_tensor_dtype_rules_match_torch(data):
    assert np.dtype(gk.tensor(data).dtype) == torch.tensor(data).numpy().dtype


def test_factories_match_torch_shapes_and_dtypes():
    assert gk.zeros(2, 3).shape == (2, 3) and gk.zeros(2, 3).dtype == gk.float32
    assert gk.ones((4,)).shape == (4,)
    assert gk.full((2, 2), 7).dtype == gk.int64 and gk.full((2, 2), 7.0).dtype == gk.float32
    assert gk.arange(5).dtype == gk.int64 and gk.arange(0, 1, 0.25).dtype == gk.float32
    np.testing.assert_allclose(gk.arange(0, 1, 0.25).numpy(), torch.arange(0, 1, 0.25).numpy())
    np.testing.assert_allclose(gk.linspace(-1, 1, 7).numpy(), torch.linspace(-1, 1, 7).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(gk.eye(3, 4).numpy(), torch.eye(3, 4).numpy())
    x = gk.randn(3, 5, dtype=gk.float64)
    assert gk.zeros_like(x).dtype == gk.float64 and gk.ones_like(x).shape == (3, 5)
    assert gk.randint(0, 10, (4, 2)).dtype == gk.int64
    assert 0 <= gk.randint(3, (100,)).numpy().min() and gk.randint(3, (100,)).numpy().max() < 3
    assert x.new_zeros(2).dtype == gk.float64


def test_manual_seed_makes_random_ops_reproducible():
    gk.manual_seed(123)
    a = gk.randn(5), gk.rand(3), gk.randint(0, 100, (4,)), gk.randperm(6)
    gk.manual_seed(123)
    b = gk.randn(5), gk.rand(3), gk.randint(0, 100, (4,)), gk.randperm(6)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    gk.manual_seed(124)
    assert not np.array_equal(gk.randn(5).numpy(), a[0].numpy())


def test_from_numpy_shares_memory_and_tensor_copies():
    array = np.zeros(3, np.float32)
    shared, copied = gk.from_numpy(array), gk.tensor(array)
    array[0] = 1
    assert shared[0].item() == 1.0 if hasattr(gk, "getitem") else shared.numpy()[0] == 1.0
    assert copied.numpy()[0] == 0.0


def test_attributes_and_conversions():
    x = gk.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3 and x.dim() == 2 and x.ndim == 2
    assert x.numel() == 6 and len(x) == 2 and x.device == "cpu" and x.is_leaf
    assert x.dtype == gk.float32 and x.double().dtype == gk.float64 and x.long().dtype == gk.int64
    assert x.to(gk.float64).dtype == gk.float64 and x.astype(gk.float64).dtype == gk.float64
    assert x.detach().tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert gk.tensor(3.5).item() == 3.5 and float(gk.tensor([2.0])) == 2.0
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    with pytest.raises(ValueError, match="6 elements"):
        x.item()
    with pytest.raises(TypeError, match="0-d"):
        len(gk.tensor(1.0))
    c = x.clone()
    assert c.grad_fn is not None and c.data is not x.data


@pytest.mark.parametrize("data", [[1.0, 2.0], [[0.5, -1.25]], 3.0, [1, 2, 3], [True, False]])
def test_repr_matches_torch_format(data):
    assert repr(gk.tensor(data)) == repr(torch.tensor(data))


def test_repr_shows_grad_state():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr(gk.tensor([1.0], dtype=gk.float64)) == "tensor([1.], dtype=gradkit.float64)"


def test_numpy_arithmetic_defers_to_tensor():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([1.0, 1.0], np.float32) + x
    assert isinstance(y, gk.Tensor) and y.requires_grad
