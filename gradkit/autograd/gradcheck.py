"""Finite-difference checks of analytic gradients (use float64 inputs)."""
import numpy as np

from gradkit.autograd.functional import grad as _grad
from gradkit.tensor import Tensor


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _numerical_jacobian(fn, inputs, index, eps):
    """Columns d out / d inputs[index][j] by central differences, one per element j."""
    x = inputs[index]
    flat = x.data.reshape(-1)  # a view: perturbing it perturbs the input
    columns = []
    # Not under no_grad: gradgradcheck's function itself calls autograd.grad.
    for j in range(flat.size):
        original = flat[j]
        flat[j] = original + eps
        plus = [o.data.astype(np.float64).ravel().copy() for o in _as_tuple(fn(*inputs))]
        flat[j] = original - eps
        minus = [o.data.astype(np.float64).ravel().copy() for o in _as_tuple(fn(*inputs))]
        flat[j] = original
        columns.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)]))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def _analytic_jacobian(outputs, inputs, index):
    """Rows d outputs[k] / d inputs[index], one backward per output element."""
    x = inputs[index]
    rows = []
    for out in outputs:
        if not out.requires_grad:
            rows.extend(np.zeros(x.data.size) for _ in range(out.data.size))
            continue
        for k in range(out.data.size):
            seed = np.zeros(out.data.size, dtype=out.data.dtype)
            seed[k] = 1
            g, = _grad(out, x, Tensor(seed.reshape(out.shape)), retain_graph=True, allow_unused=True)
            rows.append(np.zeros(x.data.size) if g is None else g.data.astype(np.float64).ravel())
    return np.stack(rows) if rows else np.zeros((0, x.data.size))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare the gradients autograd computes for ``fn(*inputs)`` with central differences.

    Every floating input that ``requires_grad`` is checked against every output element. Inputs
    should be float64: in float32 the differences are dominated by rounding.
    """
    inputs = _as_tuple(inputs)
    outputs = _as_tuple(fn(*inputs))
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        analytic = _analytic_jacobian(outputs, inputs, i)
        numerical = _numerical_jacobian(fn, inputs, i, eps)
        if not np.allclose(analytic, numerical, atol=atol, rtol=rtol):
            where = np.unravel_index(np.argmax(np.abs(analytic - numerical)), analytic.shape)
            message = (f"gradcheck: Jacobian mismatch for input {i}: output element {where[0]}, input element "
                       f"{where[1]}: analytic {analytic[where]:.8g} vs numerical {numerical[where]:.8g}")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check second derivatives: gradcheck the map (inputs, v) -> v^T J, built with ``create_graph=True``."""
    inputs = _as_tuple(inputs)
    outputs = _as_tuple(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    differentiable = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    n = len(inputs)

    def first_derivatives(*args):
        xs, vs = args[:n], args[n:]
        outs = _as_tuple(fn(*xs))
        grads = _grad(outs, [xs[i] for i in differentiable], vs, create_graph=True, allow_unused=True,
                      materialize_grads=True)
        return grads

    return gradcheck(first_derivatives, inputs + grad_outputs, eps, atol, rtol, raise_exception)
