"""Interleaved timing of gradkit against PyTorch in one process.

Each round runs every case once, in turn (gradkit, PyTorch, gradkit, ...), so slow drifts of a
noisy machine hit all cases alike; we report medians and the ratio of medians.

Each round gives every case a quiet start and then a warm, steady run: the runner sleeps ``PAUSE``
seconds, calls the case untimed for ``WARM`` seconds, then times ``block`` calls in a row.

- The pause: thread pools keep spinning after their work is done (PyTorch's OpenMP threads for about
  10 ms; OpenBLAS, as NumPy bundles it, for about 0.1 s after every multi-threaded product, which is
  why gradkit runs its BLAS calls single-threaded, see gradkit.kernels.parallel), and a pool left
  spinning by one case takes a core from the next: without the pause PyTorch's CNN step took 105 ms
  after a NumPy case instead of its 46 ms alone.
- The warm-up: after an idle pause this VM runs the next tens of milliseconds slowly (threads woken
  from deep idle; measured: gradkit's MLP step 9 ms for its first five steps after a pause, 6 ms in a
  loop; PyTorch's batch-1 inference 12 ms instead of 0.7 ms for its first call). A training loop or a
  model serving a stream of requests runs warm, so that is what is timed.

Passive OpenMP waiting would hide PyTorch's spinning but slows PyTorch itself by 10-15%, so neither
framework is tuned for the other: each runs with its defaults.
"""
import os
import statistics
import time

THREADS = int(os.environ.get("BENCH_THREADS", "2"))


def setup_threads():
    import torch
    import gradkit
    torch.set_num_threads(THREADS)
    gradkit.set_num_threads(THREADS)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(THREADS)
    except ImportError:
        pass


PAUSE = float(os.environ.get("BENCH_PAUSE", "0.15"))
WARM = float(os.environ.get("BENCH_WARM", "0.1"))


def interleaved(cases, rounds=10, warmup=3, pause=None, block=5):
    """``cases``: name -> zero-argument callable. Returns name -> median seconds."""
    pause = PAUSE if pause is None else pause
    for _ in range(warmup):
        for fn in cases.values():
            fn()
    times = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            time.sleep(pause)
            warm_until = time.perf_counter() + WARM
            fn()
            while time.perf_counter() < warm_until:
                fn()
            for _ in range(block):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def row(benchmark, medians, ours="gradkit", reference="torch"):
    """One result row: both medians in ms and their ratio."""
    g, t = medians[ours], medians[reference]
    return {"benchmark": benchmark, f"{ours}_ms": round(g * 1e3, 3), f"{reference}_ms": round(t * 1e3, 3),
            "ratio": round(g / t, 3)}


def print_table(rows):
    if not rows:
        return
    keys = list(dict.fromkeys(k for r in rows for k in r))
    widths = {k: max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for r in rows:
        print("  ".join(str(r.get(k, "")).ljust(widths[k]) for k in keys))


def _sgd_momentum(lib, parameters):
    return lib.optim.SGD(parameters, lr=0.01, momentum=0.9)


def compare_model(name, build, input_shape, batch, rounds, optimizer=_sgd_momentum):
    """Training step (``optimizer``, by default SGD with momentum; cross-entropy) and batch-1 inference
    of the same architecture in both frameworks, with identical weights: two result rows."""
    import numpy as np
    import torch
    import gradkit as gk

    torch.manual_seed(0)
    theirs, ours = build(torch), build(gk)
    ours.load_state_dict(theirs.state_dict())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch,) + tuple(input_shape)).astype(np.float32)
    y = rng.integers(0, 10, batch)

    def step(lib, model, opt, inputs, targets):
        loss = lib.nn.functional.cross_entropy(model(inputs), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def infer(lib, model, inputs):
        with lib.no_grad():
            model(inputs)

    g_opt, t_opt = optimizer(gk, ours.parameters()), optimizer(torch, theirs.parameters())
    gx, gy, tx, ty = gk.tensor(x), gk.tensor(y), torch.tensor(x), torch.tensor(y)
    train = interleaved({"gradkit": lambda: step(gk, ours, g_opt, gx, gy),
                         "torch": lambda: step(torch, theirs, t_opt, tx, ty)}, rounds=rounds)
    ours.eval()
    theirs.eval()
    g1, t1 = gk.tensor(x[:1]), torch.tensor(x[:1])
    latency = interleaved({"gradkit": lambda: infer(gk, ours, g1), "torch": lambda: infer(torch, theirs, t1)},
                          rounds=rounds, block=20)
    return [row(f"{name} training step (batch {batch})", train), row(f"{name} inference (batch 1)", latency)]
