"""``python -m bench.profile_cnn``: where the CNN benchmark's training step spends its time in gradkit.

Prints the median step time, CPU time over wall time (above 1: more than one core busy; 2 on two cores
means a thread spins or both cores work all the time) and, from cProfile, the wall time per step of
each stage of the step. cProfile sees the calling thread only, so a stage split over the threads
shows its wall time, including the wait for the other threads. Not a timing test: for comparisons
with PyTorch use ``python -m bench cnn``.
"""
import cProfile
import pstats
import statistics
import time

import numpy as np


def _stages():
    from gradkit.ops import conv, elementwise, linalg, pool
    from gradkit.optim import sgd
    return [("conv forward", conv._Conv.forward), ("conv backward (all)", conv._Conv.backward),
            ("max pool forward", pool._MaxPool.forward),
            ("max pool backward", pool._ScatterAdd.forward), ("linear forward", linalg._Linear.forward),
            ("linear backward", linalg._Linear.backward), ("relu forward", elementwise._relu_array),
            ("relu backward", elementwise._relu_backward), ("SGD updates", sgd.sgd_update)]


def main(steps=30):
    import gradkit as gk
    from bench.cnn import _model

    model = _model(gk)
    opt = gk.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = gk.tensor(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
    y = gk.tensor(rng.integers(0, 10, 64))

    def step():
        loss = gk.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(10):
        step()
    times, cpu = [], time.process_time()
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    print(f"median step {statistics.median(times) * 1e3:.1f} ms, CPU/wall {(time.process_time() - cpu) / sum(times):.2f}")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(steps):
        step()
    profile.disable()
    stats = pstats.Stats(profile).stats
    for title, function in _stages():
        code = function.__code__
        for (filename, line, name), (_, calls, _, cumulative, _) in stats.items():
            if filename == code.co_filename and line == code.co_firstlineno and name == code.co_name:
                print(f"  {title:22s} {cumulative / steps * 1e3:7.2f} ms  ({calls // steps} calls/step)")
    whole = sum(v[3] for (f, _, name), v in stats.items() if name == "step" and f == __file__)
    print(f"  {'whole step (profiled)':22s} {whole / steps * 1e3:7.2f} ms")


if __name__ == "__main__":
    main()
