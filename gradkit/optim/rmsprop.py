"""RMSprop: divide the gradient by a running root mean square of recent gradients (Hinton, 2012)."""
import numpy as np

from gradkit.autograd.grad_mode import no_grad
from gradkit.optim._inplace import addcdiv_, addcmul_, effective_grad, lerp_
from gradkit.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    r"""RMSprop.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad
        v_t = \alpha v_{t-1} + (1-\alpha) g_t^2 \\
        \bar g_t &= \alpha \bar g_{t-1} + (1-\alpha) g_t, \qquad
        \sigma_t = \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{(centered)}, \ \text{else } \sqrt{v_t} + \epsilon \\
        b_t &= \mu b_{t-1} + g_t / \sigma_t, \qquad \theta_t = \theta_{t-1} - \gamma b_t \quad (\mu > 0) \\
        \theta_t &= \theta_{t-1} - \gamma\, g_t / \sigma_t \quad (\mu = 0)

    Conventions (PyTorch's): :math:`\epsilon` is added outside the root (TensorFlow adds it inside),
    the buffers start at zero (no bias correction, so early steps are large), and momentum accumulates the
    normalised gradient, with the learning rate applied outside the buffer. ``centered`` is Graves's
    (2013) variant, which normalises by an estimate of the variance instead of the second moment.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"RMSprop: invalid learning rate lr={lr}")
        if not 0.0 <= eps:
            raise ValueError(f"RMSprop: invalid epsilon eps={eps}, expected a value >= 0")
        if not 0.0 <= momentum:
            raise ValueError(f"RMSprop: invalid momentum={momentum}, expected a value >= 0")
        if not 0.0 <= weight_decay:
            raise ValueError(f"RMSprop: invalid weight_decay={weight_decay}, expected a value >= 0")
        if not 0.0 <= alpha:
            raise ValueError(f"RMSprop: invalid alpha={alpha}, expected a value >= 0")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            momentum = float(group["momentum"])
            for p in self._params_with_grad(group):
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = self._new_step()
                    state["square_avg"] = self._zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = self._zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = self._zeros_like(p)
                self._advance(state["step"])
                rmsprop_update(p.data, p.grad.data, state["square_avg"].data,
                               state["grad_avg"].data if group["centered"] else None,
                               state["momentum_buffer"].data if momentum > 0 else None,
                               lr=float(group["lr"]), alpha=float(group["alpha"]), eps=float(group["eps"]),
                               weight_decay=float(group["weight_decay"]), momentum=momentum,
                               centered=group["centered"], maximize=group["maximize"])
        return loss


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps, weight_decay, momentum,
                   centered, maximize):
    """One RMSprop step on arrays updated in place (``grad_avg`` only when centered, ``momentum_buffer``
    only with momentum)."""
    grad, _ = effective_grad(grad, param, weight_decay, maximize)
    scratch = np.empty_like(param)
    np.multiply(square_avg, alpha, out=square_avg)
    addcmul_(square_avg, grad, grad, 1 - alpha, scratch)
    if centered:
        lerp_(grad_avg, grad, 1 - alpha, scratch)
        avg = square_avg.copy()
        addcmul_(avg, grad_avg, grad_avg, -1, scratch)
        np.sqrt(avg, out=avg)
    else:
        avg = np.sqrt(square_avg)
    np.add(avg, eps, out=avg)
    if momentum > 0:
        np.multiply(momentum_buffer, momentum, out=momentum_buffer)
        addcdiv_(momentum_buffer, grad, avg, 1, scratch)
        np.multiply(momentum_buffer, lr, out=scratch)
        np.subtract(param, scratch, out=param)
    else:
        addcdiv_(param, grad, avg, -lr, scratch)
