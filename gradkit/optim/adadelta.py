"""Adadelta: step sizes from the ratio of running RMS of updates and of gradients (Zeiler, 2012)."""
import numpy as np

from gradkit.autograd.grad_mode import no_grad
from gradkit.optim._inplace import addcmul_, effective_grad
from gradkit.optim.optimizer import Optimizer


class Adadelta(Optimizer):
    r"""Adadelta.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad
        v_t = \rho v_{t-1} + (1-\rho) g_t^2 \\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t, \qquad
        u_t = \rho u_{t-1} + (1-\rho) \Delta_t^2 \\
        \theta_t &= \theta_{t-1} - \gamma \Delta_t

    Convention (PyTorch's): the paper has no learning rate (:math:`\gamma = 1`, the default here);
    :math:`\gamma` scales the update after :math:`u_t` is accumulated, so it does not enter the
    running average of updates. :math:`\epsilon` is inside both roots, as in the paper.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Adadelta: invalid learning rate lr={lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: invalid rho={rho}, expected 0 <= rho <= 1")
        if not 0.0 <= eps:
            raise ValueError(f"Adadelta: invalid epsilon eps={eps}, expected a value >= 0")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Adadelta: invalid weight_decay={weight_decay}, expected a value >= 0")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            for p in self._params_with_grad(group):
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = self._new_step()
                    state["square_avg"] = self._zeros_like(p)
                    state["acc_delta"] = self._zeros_like(p)
                self._advance(state["step"])
                adadelta_update(p.data, p.grad.data, state["square_avg"].data, state["acc_delta"].data,
                                lr=float(group["lr"]), rho=float(group["rho"]), eps=float(group["eps"]),
                                weight_decay=float(group["weight_decay"]), maximize=group["maximize"])
        return loss


def adadelta_update(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize):
    """One Adadelta step on arrays updated in place."""
    grad, _ = effective_grad(grad, param, weight_decay, maximize)
    scratch = np.empty_like(param)
    np.multiply(square_avg, rho, out=square_avg)
    addcmul_(square_avg, grad, grad, 1 - rho, scratch)
    std = np.add(square_avg, eps)
    np.sqrt(std, out=std)
    delta = np.add(acc_delta, eps)
    np.sqrt(delta, out=delta)
    np.divide(delta, std, out=delta)
    np.multiply(delta, grad, out=delta)
    np.multiply(acc_delta, rho, out=acc_delta)
    addcmul_(acc_delta, delta, delta, 1 - rho, scratch)
    np.multiply(delta, lr, out=delta)
    np.subtract(param, delta, out=param)
