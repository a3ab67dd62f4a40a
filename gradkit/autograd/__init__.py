"""Reverse-mode automatic differentiation: Function, the engine, grad modes, grad and gradcheck."""
from gradkit.autograd.grad_mode import (detect_anomaly, enable_grad, inference_mode, is_grad_enabled, no_grad,
                                        set_detect_anomaly, set_grad_enabled)
from gradkit.autograd.function import Function, Node, once_differentiable
from gradkit.autograd.engine import backward
from gradkit.autograd.functional import grad
from gradkit.autograd.gradcheck import gradcheck, gradgradcheck

__all__ = ["Function", "Node", "once_differentiable", "backward", "grad", "gradcheck", "gradgradcheck",
           "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled", "detect_anomaly",
           "set_detect_anomaly"]
