"""In-place array steps shared by the update functions, in PyTorch's operation order.

They work on raw NumPy or CuPy arrays (ufuncs with ``out=`` dispatch to either) and keep the
parameter's dtype: hyperparameters arrive as Python floats, which NumPy casts to the array's dtype.
"""
import numpy as np


def effective_grad(grad, param, weight_decay, maximize):
    """``-grad if maximize else grad``, plus ``weight_decay * param`` (L2 penalty folded into the gradient).

    Returns ``(array, owned)``: ``owned`` is True when the array is a fresh temporary that the caller
    may overwrite; otherwise it is the parameter's ``.grad`` itself, which must not be changed.
    """
    if weight_decay != 0:
        out = np.multiply(param, weight_decay)
        if maximize:
            np.subtract(out, grad, out=out)
        else:
            np.add(out, grad, out=out)
        return out, True
    if maximize:
        return np.negative(grad), True
    return grad, False


def decayed_grad(grad, param, lr, weight_decay, decoupled, maximize):
    """The gradient an Adam-family step uses. Decoupled weight decay (AdamW's) shrinks the parameter
    itself by ``1 - lr * weight_decay``; coupled decay is folded into the gradient (:func:`effective_grad`)."""
    if weight_decay != 0 and decoupled:
        np.multiply(param, 1 - lr * weight_decay, out=param)
        weight_decay = 0
    return effective_grad(grad, param, weight_decay, maximize)[0]


def lerp_(start, end, weight, scratch):
    """``start += weight * (end - start)`` in place, as PyTorch's ``lerp_``: for weights of 0.5 or more it
    computes ``end - (1 - weight) * (end - start)`` instead, which is exact at weight 1."""
    np.subtract(end, start, out=scratch)
    if abs(weight) < 0.5:
        np.multiply(scratch, weight, out=scratch)
        np.add(start, scratch, out=start)
    else:
        dtype = start.dtype.type
        np.multiply(scratch, dtype(1) - dtype(weight), out=scratch)
        np.subtract(end, scratch, out=start)


def addcmul_(target, a, b, value, scratch):
    """``target += value * a * b`` in place, multiplying in PyTorch's order ``(value * a) * b``."""
    np.multiply(a, value, out=scratch)
    np.multiply(scratch, b, out=scratch)
    np.add(target, scratch, out=target)


def addcdiv_(target, a, b, value, scratch):
    """``target += value * a / b`` in place, in PyTorch's order ``(value * a) / b``."""
    np.multiply(a, value, out=scratch)
    np.divide(scratch, b, out=scratch)
    np.add(target, scratch, out=target)
