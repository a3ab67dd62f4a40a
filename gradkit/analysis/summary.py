"""``summary(model, input_shape)``: a per-layer table of output shapes, parameters and compute, like
torchinfo's; and ``count_parameters``.

Compute is counted in multiply-accumulates (MACs) per forward pass of the given input (batch
included), by the standard formulas; FLOPs are 2 x MACs. Conventions: a convolution costs
``Kh*Kw*Cin/groups * Cout * Hout*Wout`` MACs per sample, a linear layer ``in*out`` per row; bias
additions, activations, normalisation and pooling are not counted (they are memory-bound, and
most published FLOP counts leave them out too).
"""
import numpy as np

from gradkit.autograd.grad_mode import no_grad
from gradkit.ops import creation

__all__ = ["summary", "count_parameters", "ModelSummary"]


def count_parameters(model, trainable_only=False):
    """Number of parameter elements (shared parameters counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _macs(module, inputs, output):
    kind = type(module).__name__
    out_shape = output.shape
    if kind in ("Conv1d", "Conv2d", "Conv3d"):
        kernel = int(np.prod(module.weight.shape[2:]))
        return kernel * module.in_channels // module.groups * int(np.prod(out_shape))
    if kind in ("ConvTranspose1d", "ConvTranspose2d"):
        kernel = int(np.prod(module.weight.shape[2:]))
        x = inputs[0]
        return kernel * module.out_channels // module.groups * int(np.prod(x.shape))
    if kind == "Linear":
        return module.in_features * int(np.prod(out_shape))
    if kind == "Bilinear":
        return module.in1_features * module.in2_features * int(np.prod(out_shape))
    return 0


class ModelSummary:
    """The rows of a summary (``rows``: dicts) and the totals; ``str()`` gives the table."""

    def __init__(self, rows, input_shape, total, trainable):
        self.rows, self.input_shape = rows, input_shape
        self.total_params, self.trainable_params = total, trainable
        self.total_macs = sum(r["macs"] for r in rows)

    @property
    def total_flops(self):
        return 2 * self.total_macs

    def __str__(self):
        header = ("Layer (type)", "Output shape", "Param #", "Trainable", "MACs")
        lines = [(f"{'  ' * r['depth']}{r['name']} ({r['type']})", str(list(r["output_shape"])), f"{r['params']:,}",
                  r["trainable"], f"{r['macs']:,}") for r in self.rows]
        widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]
        rule = "=" * (sum(widths) + 2 * (len(widths) - 1))
        fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                      for i, (c, w) in enumerate(zip(cells, widths)))
        out = [rule, fmt(header), rule] + [fmt(line) for line in lines] + [rule]
        out += [f"Input shape: {list(self.input_shape)}",
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.total_params - self.trainable_params:,}",
                f"Total MACs: {self.total_macs:,} (FLOPs = 2 x MACs = {self.total_flops:,})", rule]
        return "\n".join(out)

    __repr__ = __str__


def summary(model, input_shape, dtype=None):
    """Run ``model`` once on zeros of ``input_shape`` (batch included) and tabulate every leaf layer."""
    rows, handles = [], []
    names = {id(m): n for n, m in model.named_modules()}

    def record(module, inputs, output):
        own = list(module.parameters(recurse=False))
        out = output[0] if isinstance(output, tuple) else output
        rows.append({"name": names.get(id(module), ""), "type": type(module).__name__,
                     "depth": names.get(id(module), "").count("."),
                     "output_shape": tuple(out.shape), "params": sum(p.numel() for p in own),
                     "trainable": ("yes" if all(p.requires_grad for p in own) else "partly"
                                   if any(p.requires_grad for p in own) else "frozen") if own else "--",
                     "macs": _macs(module, inputs, out)})

    for module in model.modules():
        if module is not model and not list(module.children()):
            handles.append(module.register_forward_hook(record))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(creation.zeros(*input_shape, dtype=dtype))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return ModelSummary(rows, tuple(input_shape), count_parameters(model), count_parameters(model, True))
