"""Linear algebra: matrix products (matmul and its special cases), einsum, and the linear layers' maps.

Every product runs as one BLAS call where the shapes allow it: a batch of rows times one matrix is
folded into a single GEMM instead of one call per batch element. Backward passes are written with
these same ops, so second derivatives come for free.
"""
import string

import numpy as np

from gradkit import backend
from gradkit.autograd.function import Function
from gradkit.autograd.grad_mode import state as _grad_state
from gradkit.kernels import parallel
from gradkit.ops.shape import reshape, sum_to
from gradkit.tensor import Tensor

__all__ = ["matmul", "mm", "bmm", "dot", "outer", "einsum", "linear", "bilinear"]
TENSOR_METHODS = ("matmul", "mm", "bmm", "dot", "outer")


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _check_same_dtype(op, a, b):
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: expected both arguments to have the same dtype, got {a.dtype} and {b.dtype}")


# ----- transpose of the last two dimensions (private: backward passes need it) ------------------------
class _SwapLastTwo(Function):
    @staticmethod
    def forward(ctx, x):
        return backend.array_module(x).swapaxes(x, -1, -2)

    @staticmethod
    def backward(ctx, grad):
        return _transpose_last_two(grad)


def _transpose_last_two(x):
    return _SwapLastTwo.apply(x)


# ----- matmul ----------------------------------------------------------------------------------------
def _matmul_arrays(a, b):
    xp = backend.array_module(a, b)
    if b.ndim == 2 and a.ndim > 2 and a.flags.c_contiguous:
        # (..., n, k) @ (k, m): one GEMM over all rows is about twice as fast as NumPy's per-matrix loop.
        return parallel.matmul(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + (b.shape[1],))
    if a.ndim == 2 and b.ndim == 2:
        return parallel.matmul(a, b)
    return xp.matmul(a, b)


def _promoted_shapes(a_shape, b_shape):
    """The shapes matmul works on: a 1-D left operand is a row (1, k), a 1-D right operand a column (k, 1)."""
    a2 = (1,) + a_shape if len(a_shape) == 1 else a_shape
    b2 = b_shape + (1,) if len(b_shape) == 1 else b_shape
    batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    return a2, b2, batch + (a2[-2], b2[-1])


class _Matmul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _matmul_arrays(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a2_shape, b2_shape, out2_shape = _promoted_shapes(a.shape, b.shape)
        a2, b2, grad2 = reshape(a, a2_shape), reshape(b, b2_shape), reshape(grad, out2_shape)
        grad_a = grad_b = None
        if need_a:
            grad_a = reshape(sum_to(matmul(grad2, _transpose_last_two(b2)), a2_shape), a.shape)
        if need_b:
            if len(b2_shape) == 2 and len(out2_shape) > 2:
                # b was shared by every batch matrix: fold the batch into one (k, rows) @ (rows, m) GEMM.
                # (The output's batch dimensions are exactly a's, so the rows line up.)
                rows_a = reshape(a2, (-1, a2_shape[-1]))
                rows_grad = reshape(grad2, (-1, out2_shape[-1]))
                grad_b = matmul(_transpose_last_two(rows_a), rows_grad)
            else:
                grad_b = sum_to(matmul(_transpose_last_two(a2), grad2), b2_shape)
            grad_b = reshape(grad_b, b.shape)
        return grad_a, grad_b


def matmul(input, other):
    r"""Matrix product with NumPy/PyTorch semantics.

    - 1-D @ 1-D: the dot product, a 0-d tensor.
    - 2-D @ 2-D: the matrix product :math:`C_{ij} = \sum_k A_{ik} B_{kj}`.
    - 1-D @ N-D: the vector is a row :math:`(1, k)`, prepended then removed; N-D @ 1-D: a column.
    - N-D @ N-D: a batch of products over the last two dimensions; batch dimensions broadcast.

    Gradients have the shapes of the inputs: :math:`\partial L/\partial A = G B^\top` and
    :math:`\partial L/\partial B = A^\top G`, summed over broadcast batch dimensions.

    >>> gk.matmul(gk.ones(2, 3), gk.ones(3)).shape
    (2,)
    """
    input, other = _as_tensor(input), _as_tensor(other)
    a_shape, b_shape = input.shape, other.shape
    if not a_shape or not b_shape:
        raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes {a_shape} and {b_shape}")
    k_a, k_b = a_shape[-1], b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a_shape} and {b_shape} do not align ({k_a} != {k_b})")
    if len(a_shape) > 2 or len(b_shape) > 2:
        try:
            np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
        except ValueError:
            raise ValueError(f"matmul: batch dimensions {a_shape[:-2]} and {b_shape[:-2]} of shapes {a_shape} and "
                             f"{b_shape} cannot be broadcast together") from None
    _check_same_dtype("matmul", input, other)
    return _Matmul.apply(input, other)


def _require_ndim(op, name, x, ndim):
    if x.ndim != ndim:
        raise ValueError(f"{op}: {name} must be {ndim}-D, got shape {tuple(x.shape)}")


def mm(input, mat2):
    r"""Product of two matrices: :math:`(n, k) \times (k, m) \to (n, m)`, without broadcasting."""
    input, mat2 = _as_tensor(input), _as_tensor(mat2)
    _require_ndim("mm", "input", input, 2)
    _require_ndim("mm", "mat2", mat2, 2)
    return matmul(input, mat2)


def bmm(input, mat2):
    r"""Batched product :math:`(b, n, k) \times (b, k, m) \to (b, n, m)`; batch sizes must be equal."""
    input, mat2 = _as_tensor(input), _as_tensor(mat2)
    _require_ndim("bmm", "input", input, 3)
    _require_ndim("bmm", "mat2", mat2, 3)
    if input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: batch sizes of shapes {tuple(input.shape)} and {tuple(mat2.shape)} differ "
                         f"({input.shape[0]} != {mat2.shape[0]})")
    return matmul(input, mat2)


def dot(input, other):
    r"""Inner product of two 1-D tensors of equal length: :math:`\sum_i a_i b_i`, a 0-d tensor."""
    input, other = _as_tensor(input), _as_tensor(other)
    _require_ndim("dot", "input", input, 1)
    _require_ndim("dot", "other", other, 1)
    if input.shape != other.shape:
        raise ValueError(f"dot: shapes {tuple(input.shape)} and {tuple(other.shape)} differ in length")
    return matmul(input, other)


def outer(input, vec2):
    r"""Outer product of 1-D tensors: :math:`C_{ij} = a_i b_j`, shape :math:`(n, m)`."""
    input, vec2 = _as_tensor(input), _as_tensor(vec2)
    _require_ndim("outer", "input", input, 1)
    _require_ndim("outer", "vec2", vec2, 1)
    return matmul(reshape(input, (-1, 1)), reshape(vec2, (1, -1)))


# ----- einsum ----------------------------------------------------------------------------------------
_LETTERS = string.ascii_letters


def _parse_einsum(equation, shapes):
    """Return (terms, output): one subscript string per operand and the output's, ellipses spelled out
    as fresh letters, the implicit output made explicit, and every shape checked against its term."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: equation {equation!r} names {len(terms)} operands but {len(shapes)} were given")
    for part in terms + ([rhs] if arrow else []):
        bad = set(part.replace("...", "")) - set(_LETTERS)
        if bad or part.count("...") > 1:
            raise ValueError(f"einsum: invalid subscripts {part!r} in {equation!r}: use letters and at most one '...'")
    fresh = iter(c for c in _LETTERS if c not in eq)
    ellipsis_ndim = 0
    for term, shape in zip(terms, shapes):
        named = len(term.replace("...", ""))
        if ("..." in term and named > len(shape)) or ("..." not in term and named != len(shape)):
            raise ValueError(f"einsum: subscripts {term!r} do not match an operand of shape {tuple(shape)} "
                             f"in {equation!r}")
        if "..." in term:
            ellipsis_ndim = max(ellipsis_ndim, len(shape) - named)
    ellipsis = "".join(next(fresh) for _ in range(ellipsis_ndim))
    terms = [t.replace("...", ellipsis[ellipsis_ndim - (len(s) - len(t) + 3):] if "..." in t else "")
             for t, s in zip(terms, shapes)]
    if arrow:
        output = rhs.replace("...", ellipsis)
        for c in output:
            if output.count(c) > 1 or not any(c in t for t in terms):
                raise ValueError(f"einsum: output subscript {c!r} in {equation!r} must appear once in the output "
                                 "and at least once in an operand")
    else:
        counts = "".join(terms)
        output = ellipsis + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ellipsis))
    return terms, output


def _letter_sizes(equation, terms, shapes):
    sizes = {}
    for j, (term, shape) in enumerate(zip(terms, shapes)):
        for c, n in zip(term, shape):
            if sizes.get(c, 1) not in (1, n) and n != 1:
                raise ValueError(f"einsum: subscript {c!r} has size {sizes[c]} in one operand but {n} in operand "
                                 f"{j} (shape {tuple(shape)}) in {equation!r}")
            sizes[c] = max(sizes.get(c, 1), n)
    return sizes


class _Einsum(Function):
    @staticmethod
    def forward(ctx, *arrays, terms, output):
        ctx.terms, ctx.output = terms, output
        ctx.save_for_backward(*arrays)
        equation = ",".join(terms) + "->" + output
        return backend.array_module(*arrays).einsum(equation, *arrays, optimize=len(arrays) > 2)

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        return tuple(_einsum_operand_grad(grad, operands, ctx.terms, ctx.output, i) if need else None
                     for i, need in enumerate(ctx.needs_input_grad))


def _einsum_operand_grad(grad, operands, terms, output, i):
    r"""The gradient of operand ``i`` is itself an einsum: the output gradient contracted with the other
    operands, onto operand ``i``'s subscripts. A subscript only operand ``i`` has (summed away by it
    alone) comes back through a vector of ones; a repeated one (a diagonal) through an identity."""
    xp = backend.array_module(grad.data)
    used = set("".join(terms) + output)
    fresh = iter(c for c in _LETTERS if c not in used)
    sources = [output] + [t for j, t in enumerate(terms) if j != i]
    tensors = [grad] + [op for j, op in enumerate(operands) if j != i]
    available = set("".join(sources))
    target, seen = [], set()
    for c, n in zip(terms[i], operands[i].shape):
        if c not in available:
            sources.append(c)
            tensors.append(Tensor._make(xp.ones(n, dtype=grad.dtype)))
            available.add(c)
        if c in seen:
            diagonal = next(fresh)
            sources.append(c + diagonal)
            tensors.append(Tensor._make(xp.eye(n, dtype=grad.dtype)))
            target.append(diagonal)
        else:
            seen.add(c)
            target.append(c)
    return einsum(",".join(sources) + "->" + "".join(target), *tensors)


def einsum(equation, *operands):
    r"""Einstein summation: :math:`\text{out}[o] = \sum_{\text{other}} \prod_j \text{op}_j[t_j]`.

    ``equation`` is ``"ij,jk->ik"`` style: letters name dimensions, letters missing from the output
    are summed, ``...`` stands for broadcast batch dimensions, and without ``->`` the output is the
    letters that appear once, in alphabetical order (after the ``...`` dimensions). Size-1
    dimensions broadcast against the same letter elsewhere. Operands may also be given as one list.
    Contraction order is optimised (``numpy.einsum(optimize=True)``) for three or more operands.

    The gradient of each operand is the einsum of the output gradient with the other operands.

    >>> gk.einsum("ij,jk->ik", gk.ones(2, 3), gk.ones(3, 4)).shape
    (2, 4)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = [_as_tensor(op) for op in operands]
    if not operands:
        raise ValueError("einsum: at least one operand is required")
    for op in operands[1:]:
        _check_same_dtype("einsum", operands[0], op)
    shapes = [op.shape for op in operands]
    terms, output = _parse_einsum(equation, shapes)
    sizes = _letter_sizes(equation, terms, shapes)
    # A size-1 dimension broadcast against a larger one is dropped from its operand: the einsum kernel
    # and the gradient rule then never see broadcasting, and reshape's backward restores the shape.
    for j, (term, op) in enumerate(zip(terms, operands)):
        keep = [k for k, c in enumerate(term) if not (op.shape[k] == 1 and sizes[c] > 1)]
        if len(keep) < len(term):
            operands[j] = reshape(op, tuple(op.shape[k] for k in keep))
            terms[j] = "".join(term[k] for k in keep)
    return _Einsum.apply(*operands, terms=terms, output=output)


# ----- linear maps of the layers ---------------------------------------------------------------------
class _Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        # One GEMM for all leading dimensions; the bias is added by the threads to their blocks.
        out = parallel.matmul(x.reshape(-1, x.shape[-1]), weight.T, row=bias)
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_weight, need_bias = ctx.needs_input_grad
        if not _grad_state.grad_enabled:
            # Plain backward (no create_graph): the same three products straight on the arrays. This is
            # the hottest backward of every MLP, and the Tensor-op version below dispatches seven ops.
            # The input and weight gradients are independent products: they may run at once.
            rows, x_rows = grad.data.reshape(-1, weight.shape[0]), x.data.reshape(-1, x.shape[-1])
            pairs = ([(rows, weight.data)] if need_x else []) + ([(rows.T, x_rows)] if need_weight else [])
            products = parallel.matmuls(*pairs)
            grad_x = Tensor._make(products.pop(0).reshape(x.shape)) if need_x else None
            grad_weight = Tensor._make(products.pop(0)) if need_weight else None
            return grad_x, grad_weight, Tensor._make(rows.sum(axis=0)) if need_bias else None
        rows = reshape(grad, (-1, weight.shape[0]))
        grad_x = reshape(matmul(rows, weight), x.shape) if need_x else None
        grad_weight = matmul(_transpose_last_two(rows), reshape(x, (-1, x.shape[-1]))) if need_weight else None
        grad_bias = sum_to(rows, (weight.shape[0],)) if need_bias else None
        return grad_x, grad_weight, grad_bias


def linear(input, weight, bias=None):
    r"""Affine map :math:`y = x W^\top + b` over the last dimension.

    Shapes: input :math:`(*, \text{in})`, weight :math:`(\text{out}, \text{in})`, bias :math:`(\text{out})`,
    output :math:`(*, \text{out})`. All leading dimensions are folded into one matrix product.
    """
    input, weight = _as_tensor(input), _as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {tuple(input.shape)} does not match weight of shape "
                         f"{tuple(weight.shape)}: expected last dimension {weight.shape[1]}")
    _check_same_dtype("linear", input, weight)
    if bias is not None:
        bias = _as_tensor(bias)
        if bias.shape not in ((weight.shape[0],), (1,), ()):
            raise ValueError(f"linear: bias of shape {tuple(bias.shape)} does not match weight of shape "
                             f"{tuple(weight.shape)}: expected ({weight.shape[0]},)")
        _check_same_dtype("linear", input, bias)
    return _Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    r"""Bilinear map :math:`y_o = x_1^\top A_o x_2 + b_o = \sum_{ij} x_{1,i} A_{oij} x_{2,j} + b_o`.

    Shapes: input1 :math:`(*, \text{in1})`, input2 :math:`(*, \text{in2})` with the same leading
    dimensions, weight :math:`(\text{out}, \text{in1}, \text{in2})`, bias :math:`(\text{out})`; output
    :math:`(*, \text{out})`.
    """
    input1, input2, weight = _as_tensor(input1), _as_tensor(input2), _as_tensor(weight)
    if weight.ndim != 3:
        raise ValueError(f"bilinear: weight must be 3-D (out, in1, in2), got shape {tuple(weight.shape)}")
    if input1.ndim == 0 or input1.shape[:-1] != input2.shape[:-1] or input1.shape[-1] != weight.shape[1] \
            or input2.shape[-1] != weight.shape[2]:
        raise ValueError(f"bilinear: inputs of shapes {tuple(input1.shape)} and {tuple(input2.shape)} do not match "
                         f"weight of shape {tuple(weight.shape)}: expected (*, {weight.shape[1]}) and "
                         f"(*, {weight.shape[2]}) with the same leading dimensions")
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    if bias is not None:
        bias = _as_tensor(bias)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"bilinear: bias of shape {tuple(bias.shape)} does not match weight of shape "
                             f"{tuple(weight.shape)}: expected ({weight.shape[0]},)")
        out = out + bias
    return out
