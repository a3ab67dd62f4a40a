"""MLP 784-512-256-10 with ReLU, batch 128: one training step (forward, cross-entropy, backward,
SGD update written by hand), gradkit vs PyTorch vs the hand-written NumPy floor.

The floor runs its products on OpenBLAS's own threads, which gradkit does not use (see
gradkit.kernels.parallel). A second floor, the same NumPy with its products split as gradkit
splits them (single-threaded BLAS on gradkit's threads), separates the two parts of the gap: the
framework's own overhead (gradkit against this floor) and the threading (this floor against the first)."""
import numpy as np

from bench.common import interleaved, row

SIZES = (784, 512, 256, 10)
BATCH = 128
LR = 0.01


def _weights(rng):
    return [((rng.standard_normal((o, i)) * np.sqrt(2 / i)).astype(np.float32), np.zeros(o, np.float32))
            for i, o in zip(SIZES[:-1], SIZES[1:])]


def numpy_step(params, x, y, affine=lambda a, b, row: a @ b + row,
               products=lambda *pairs: [a @ b for a, b in pairs]):
    """The floor: forward, backward and update written out with NumPy, no framework. ``affine`` (a
    product plus a row) and ``products`` (independent products) are the only matrix products."""
    activations = [x]
    h = x
    for k, (w, b) in enumerate(params):
        h = affine(h, w.T, b)
        if k < len(params) - 1:
            h = np.maximum(h, 0)
        activations.append(h)
    logits = activations[-1]
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= probs.sum(axis=1, keepdims=True)
    grad = probs
    grad[np.arange(len(y)), y] -= 1
    grad /= len(y)
    for k in range(len(params) - 1, -1, -1):
        w, b = params[k]
        inp = activations[k]
        gb = grad.sum(axis=0)
        if k:
            gw, grad_inp = products((grad.T, inp), (grad, w))
            grad = grad_inp * (inp > 0)
        else:
            gw, = products((grad.T, inp))
        w -= LR * gw
        b -= LR * gb


def numpy_step_gradkit_threads(params, x, y):
    """The floor with its products split as gradkit splits them, on gradkit's threads."""
    from gradkit.kernels import parallel
    numpy_step(params, x, y, affine=lambda a, b, row: parallel.matmul(a, b, row=row), products=parallel.matmuls)


def run(rounds=10):
    import torch
    import gradkit as gk
    import gradkit.nn.functional as F

    rng = np.random.default_rng(0)
    init = _weights(rng)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)

    def framework_step(lib, functional, params, inputs, targets):
        h = inputs
        for k, (w, b) in enumerate(params):
            h = functional.linear(h, w, b)
            if k < len(params) - 1:
                h = functional.relu(h)
        loss = functional.cross_entropy(h, targets)
        loss.backward()
        with lib.no_grad():
            for w, b in params:
                w.sub_(w.grad * LR)
                b.sub_(b.grad * LR)
                w.grad = None
                b.grad = None

    gk_params = [(gk.tensor(w, requires_grad=True), gk.tensor(b, requires_grad=True)) for w, b in init]
    torch_params = [(torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)) for w, b in init]
    np_params = [(w.copy(), b.copy()) for w, b in init]
    split_params = [(w.copy(), b.copy()) for w, b in init]
    gx, gy, tx, ty = gk.tensor(x), gk.tensor(y), torch.tensor(x), torch.tensor(y)
    medians = interleaved({
        "gradkit": lambda: framework_step(gk, F, gk_params, gx, gy),
        "torch": lambda: framework_step(torch, torch.nn.functional, torch_params, tx, ty),
        "numpy": lambda: numpy_step(np_params, x, y),
        "numpy_gradkit_threads": lambda: numpy_step_gradkit_threads(split_params, x, y),
    }, rounds=rounds)
    return [row("MLP step (manual SGD)", medians), row("MLP step vs NumPy floor", medians, reference="numpy"),
            row("MLP step vs NumPy floor on gradkit's threads", medians, reference="numpy_gradkit_threads")]
