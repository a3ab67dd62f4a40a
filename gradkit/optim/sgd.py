"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""
import numpy as np

from gradkit.autograd.grad_mode import no_grad
from gradkit.optim._inplace import effective_grad
from gradkit.optim.optimizer import Optimizer
from gradkit.tensor import Tensor


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum).

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} \\
        b_t &= \begin{cases} g_t & t = 1 \\ \mu\, b_{t-1} + (1-\tau)\, g_t & t > 1 \end{cases} \\
        g_t &\leftarrow g_t + \mu\, b_t \ \text{(nesterov)} \quad\text{or}\quad g_t \leftarrow b_t \\
        \theta_t &= \theta_{t-1} - \gamma\, g_t

    with learning rate :math:`\gamma` (``lr``), momentum :math:`\mu`, dampening :math:`\tau` and weight
    decay :math:`\lambda`; the sign is minus when ``maximize``.

    Convention (PyTorch's, not Sutskever et al.'s): the learning rate multiplies the whole buffer,
    :math:`\theta \leftarrow \theta - \gamma b`, instead of entering it, :math:`v = \mu v + \gamma g`.
    Both agree at a constant learning rate, but here a change of ``lr`` takes effect at once. The first
    buffer is the gradient itself (not :math:`(1-\tau)g`).

    Plain SGD over the full data set at every step is batch gradient descent; the optimizer does not
    know the difference, only the size of the batch the gradient was computed on.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        if lr < 0.0:
            raise ValueError(f"SGD: invalid learning rate lr={lr}")
        if momentum < 0.0:
            raise ValueError(f"SGD: invalid momentum={momentum}, expected a value >= 0")
        if weight_decay < 0.0:
            raise ValueError(f"SGD: invalid weight_decay={weight_decay}, expected a value >= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: nesterov=True requires a momentum > 0 and zero dampening, got "
                             f"momentum={momentum}, dampening={dampening}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            momentum = float(group["momentum"])
            for p in self._params_with_grad(group):
                state = self.state.setdefault(p, {})
                buffer = state.get("momentum_buffer")
                new_buffer = sgd_update(p.data, p.grad.data, None if buffer is None else buffer.data,
                                        lr=float(group["lr"]), momentum=momentum,
                                        dampening=float(group["dampening"]),
                                        weight_decay=float(group["weight_decay"]), nesterov=group["nesterov"],
                                        maximize=group["maximize"])
                if momentum != 0 and buffer is None:
                    state["momentum_buffer"] = Tensor._make(new_buffer)
        return loss


def sgd_update(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One SGD step on the arrays ``param`` (updated in place) and ``momentum_buffer`` (updated in place,
    or None before the first step with momentum). Returns the momentum buffer (None without momentum)."""
    d_p, owned = effective_grad(grad, param, weight_decay, maximize)
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = d_p.copy()
        else:
            np.multiply(momentum_buffer, momentum, out=momentum_buffer)
            np.add(momentum_buffer, d_p if dampening == 0 else np.multiply(d_p, 1 - dampening), out=momentum_buffer)
        if nesterov:
            # d_p + momentum * buf; the result is a temporary we own.
            update = np.multiply(momentum_buffer, momentum)
            np.add(d_p, update, out=update)
            d_p, owned = update, True
        else:
            d_p, owned = momentum_buffer, False
    step = np.multiply(d_p, lr, out=d_p if owned else None)
    np.subtract(param, step, out=param)
    return momentum_buffer
