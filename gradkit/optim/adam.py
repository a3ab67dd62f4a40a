"""Adam: adaptive moment estimation, with AMSGrad and optional decoupled weight decay."""
import numpy as np

from gradkit.autograd.grad_mode import no_grad
from gradkit.optim._inplace import addcdiv_, addcmul_, decayed_grad, lerp_
from gradkit.optim.optimizer import Optimizer


def check_betas(name, betas):
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"{name}: invalid beta parameter at index 0: betas[0]={betas[0]}, expected 0 <= beta < 1")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"{name}: invalid beta parameter at index 1: betas[1]={betas[1]}, expected 0 <= beta < 1")


def check_common(name, lr, eps, weight_decay):
    if not 0.0 <= lr:
        raise ValueError(f"{name}: invalid learning rate lr={lr}")
    if not 0.0 <= eps:
        raise ValueError(f"{name}: invalid epsilon eps={eps}, expected a value >= 0")
    if not 0.0 <= weight_decay:
        raise ValueError(f"{name}: invalid weight_decay={weight_decay}, expected a value >= 0")


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015).

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}
            \quad (\text{or } \theta_{t-1} \leftarrow (1-\gamma\lambda)\theta_{t-1} \text{ if decoupled}) \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \text{ with amsgrad, else } v_t \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,
            \frac{m_t}{\sqrt{\hat v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    Convention (PyTorch's): :math:`\epsilon` is added to :math:`\sqrt{\hat v_t / (1-\beta_2^t)}`, the
    bias-corrected root, as in the paper's Algorithm 1 (not to :math:`\sqrt{v_t}` before correction, as in
    the paper's "efficient" variant and TensorFlow's ``epsilon_hat``). AMSGrad keeps the maximum of the
    uncorrected :math:`v_t`, and ``weight_decay`` is an L2 penalty added to the gradient unless
    ``decoupled_weight_decay`` (then it is AdamW).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        name = type(self).__name__
        check_common(name, lr, eps, weight_decay)
        check_betas(name, betas)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            beta1, beta2 = (float(b) for b in group["betas"])
            for p in self._params_with_grad(group):
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = self._new_step()
                    state["exp_avg"] = self._zeros_like(p)
                    state["exp_avg_sq"] = self._zeros_like(p)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = self._zeros_like(p)
                max_exp_avg_sq = state["max_exp_avg_sq"].data if group["amsgrad"] else None
                adam_update(p.data, p.grad.data, state["exp_avg"].data, state["exp_avg_sq"].data, max_exp_avg_sq,
                            step=self._advance(state["step"]), lr=float(group["lr"]), beta1=beta1, beta2=beta2,
                            eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                            amsgrad=group["amsgrad"], maximize=group["maximize"],
                            decoupled_weight_decay=group["decoupled_weight_decay"])
        return loss


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay,
                amsgrad, maximize, decoupled_weight_decay=False):
    """One Adam step (``step`` counts from 1) on arrays updated in place."""
    grad = decayed_grad(grad, param, lr, weight_decay, decoupled_weight_decay, maximize)
    scratch = np.empty_like(param)
    lerp_(exp_avg, grad, 1 - beta1, scratch)
    np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    addcmul_(exp_avg_sq, grad, grad, 1 - beta2, scratch)

    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    denom = np.sqrt(max_exp_avg_sq if amsgrad else exp_avg_sq)
    np.divide(denom, bias_correction2 ** 0.5, out=denom)
    np.add(denom, eps, out=denom)
    addcdiv_(param, exp_avg, denom, -step_size, scratch)
