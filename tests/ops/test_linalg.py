import numpy as np
import pytest
import torch

import gradkit as gk
from tests.oracle import compare, gradcheck, randn

# (name, gradkit fn, torch fn, inputs): every case is also gradchecked to second order in float64.
PRODUCTS = [
    ("matmul_2d", gk.matmul, torch.matmul, [randn(3, 5), randn(5, 4, seed=1)]),
    ("matmul_vec_vec", gk.matmul, torch.matmul, [randn(5), randn(5, seed=1)]),
    ("matmul_mat_vec", gk.matmul, torch.matmul, [randn(3, 5), randn(5, seed=1)]),
    ("matmul_vec_mat", gk.matmul, torch.matmul, [randn(5), randn(5, 4, seed=1)]),
    ("matmul_vec_batch", gk.matmul, torch.matmul, [randn(5), randn(2, 5, 4, seed=1)]),
    ("matmul_batch_vec", gk.matmul, torch.matmul, [randn(2, 3, 5), randn(5, seed=1)]),
    ("matmul_batch_mat", gk.matmul, torch.matmul, [randn(2, 3, 3, 5), randn(5, 4, seed=1)]),
    ("matmul_mat_batch", gk.matmul, torch.matmul, [randn(3, 5), randn(2, 5, 4, seed=1)]),
    ("matmul_broadcast_batch", gk.matmul, torch.matmul, [randn(2, 1, 3, 5), randn(3, 5, 4, seed=1)]),
    ("matmul_operator", lambda a, b: a @ b, lambda a, b: a @ b, [randn(4, 3, 2), randn(4, 2, 3, seed=1)]),
    ("matmul_method", lambda a, b: a.matmul(b), lambda a, b: a.matmul(b), [randn(3, 2), randn(2, 6, seed=1)]),
    ("mm", gk.mm, torch.mm, [randn(3, 7), randn(7, 2, seed=1)]),
    ("bmm", gk.bmm, torch.bmm, [randn(4, 3, 7), randn(4, 7, 2, seed=1)]),
    ("dot", gk.dot, torch.dot, [randn(7), randn(7, seed=1)]),
    ("outer", gk.outer, torch.outer, [randn(3), randn(5, seed=1)]),
    ("linear", gk.linear, torch.nn.functional.linear, [randn(4, 5), randn(3, 5, seed=1), randn(3, seed=2)]),
    ("linear_no_bias", gk.linear, torch.nn.functional.linear, [randn(4, 5), randn(3, 5, seed=1)]),
    ("linear_3d", gk.linear, torch.nn.functional.linear, [randn(2, 3, 5), randn(4, 5, seed=1), randn(4, seed=2)]),
    ("linear_1d", gk.linear, torch.nn.functional.linear, [randn(5), randn(3, 5, seed=1), randn(3, seed=2)]),
    ("bilinear", gk.bilinear, torch.nn.functional.bilinear,
     [randn(4, 3), randn(4, 5, seed=1), randn(2, 3, 5, seed=2), randn(2, seed=3)]),
    ("bilinear_leading_dims", gk.bilinear, torch.nn.functional.bilinear,
     [randn(2, 3, 3), randn(2, 3, 5, seed=1), randn(4, 3, 5, seed=2)]),
]

EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->i", [(3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("iij->ij", [(3, 3, 2)]),
    ("i,j->ij", [(3,), (5,)]),
    ("i,i->", [(5,), (5,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,kj", [(3, 4), (5, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,jk", [(2, 2, 3, 4), (4, 5)]),
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("bij,bjk->bik", [(1, 3, 4), (2, 4, 5)]),  # size-1 dimension broadcasts
    ("ijk,jl,kl->il", [(2, 3, 4), (3, 5), (4, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("name, gk_fn, torch_fn, inputs", PRODUCTS, ids=[c[0] for c in PRODUCTS])
def test_products_against_torch(name, gk_fn, torch_fn, inputs):
    compare(gk_fn, torch_fn, inputs)


@pytest.mark.parametrize("name, gk_fn, torch_fn, inputs", PRODUCTS, ids=[c[0] for c in PRODUCTS])
def test_products_gradcheck_second_order(name, gk_fn, torch_fn, inputs):
    gradcheck(gk_fn, [a.astype(np.float64) for a in inputs], second_order=True)


def _einsum_inputs(shapes):
    return [randn(*shape, seed=i) for i, shape in enumerate(shapes)]


@pytest.mark.parametrize("equation, shapes", EINSUM, ids=[c[0] for c in EINSUM])
def test_einsum_against_torch(equation, shapes):
    compare(lambda *ops: gk.einsum(equation, *ops), lambda *ops: torch.einsum(equation, *ops), _einsum_inputs(shapes))


@pytest.mark.parametrize("equation, shapes", EINSUM, ids=[c[0] for c in EINSUM])
def test_einsum_gradcheck_second_order(equation, shapes):
    inputs = [a.astype(np.float64) for a in _einsum_inputs(shapes)]
    gradcheck(lambda *ops: gk.einsum(equation, *ops), inputs, second_order=True)


def test_einsum_accepts_operand_list():
    a, b = randn(2, 3), randn(3, 4, seed=1)
    got = gk.einsum("ij,jk", [gk.tensor(a), gk.tensor(b)])
    np.testing.assert_allclose(got.numpy(), a @ b, rtol=1e-5)


def test_linear_matches_matmul_composite():
    x, w, b = randn(2, 3, 5), randn(4, 5, seed=1), randn(4, seed=2)
    compare(gk.linear, lambda x, w, b: torch.matmul(x, w.T) + b, [x, w, b])


def test_linear_keeps_float32():
    out = gk.linear(gk.tensor(randn(2, 3)), gk.tensor(randn(4, 3, seed=1)), gk.tensor(randn(4, seed=2)))
    assert out.dtype == gk.float32


@pytest.mark.parametrize("fn, a, b, message", [
    (gk.matmul, (2, 3), (4, 5), r"matmul: shapes \(2, 3\) and \(4, 5\) do not align \(3 != 4\)"),
    (gk.matmul, (3,), (4,), r"matmul: shapes \(3,\) and \(4,\) do not align \(3 != 4\)"),
    (gk.matmul, (), (4,), r"matmul: both arguments need at least 1 dimension, got shapes \(\) and \(4,\)"),
    (gk.matmul, (2, 2, 3), (3, 3, 4), r"matmul: batch dimensions \(2,\) and \(3,\)"),
    (gk.mm, (2, 3, 4), (4, 5), r"mm: input must be 2-D, got shape \(2, 3, 4\)"),
    (gk.bmm, (2, 3, 4), (3, 4, 5), r"bmm: batch sizes of shapes \(2, 3, 4\) and \(3, 4, 5\) differ"),
    (gk.dot, (3,), (4,), r"dot: shapes \(3,\) and \(4,\) differ"),
    (gk.outer, (3, 1), (4,), r"outer: input must be 1-D"),
    (gk.linear, (2, 3), (4, 5), r"linear: input of shape \(2, 3\) does not match weight of shape \(4, 5\)"),
])
def test_shape_errors_name_op_and_shapes(fn, a, b, message):
    with pytest.raises(ValueError, match=message):
        fn(gk.ones(*a), gk.ones(*b))


def test_dtype_mismatch_is_a_type_error():
    with pytest.raises(TypeError, match="matmul: expected both arguments to have the same dtype"):
        gk.matmul(gk.ones(2, 3), gk.ones(3, 2, dtype=gk.float64))


@pytest.mark.parametrize("equation, shapes, message", [
    ("ij,jk->ik", [(2, 3)], r"names 2 operands but 1 were given"),
    ("ijk->i", [(2, 3)], r"subscripts 'ijk' do not match an operand of shape \(2, 3\)"),
    ("ij,jk->ik", [(2, 3), (4, 5)], r"subscript 'j' has size 3 in one operand but 4 in operand 1"),
    ("ij->k", [(2, 3)], r"output subscript 'k'"),
    ("ij->ii", [(2, 3)], r"output subscript 'i'"),
    ("i1->i", [(2, 3)], r"invalid subscripts"),
])
def test_einsum_errors(equation, shapes, message):
    with pytest.raises(ValueError, match=r"einsum: .*" + message):
        gk.einsum(equation, *[gk.ones(*s) for s in shapes])


def test_bilinear_shape_error():
    with pytest.raises(ValueError, match=r"bilinear: inputs of shapes \(4, 3\) and \(4, 5\) do not match weight"):
        gk.bilinear(gk.ones(4, 3), gk.ones(4, 5), gk.ones(2, 3, 4))
