"""Interleaved timing of gradkit against PyTorch in one process.

Each round runs every case once, in turn (gradkit, PyTorch, gradkit, ...), so slow drifts of a
noisy machine hit all cases alike; we report medians and the ratio of medians.
"""
import os
import statistics
import time

THREADS = int(os.environ.get("BENCH_THREADS", "2"))


def setup_threads():
    import torch
    torch.set_num_threads(THREADS)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(THREADS)
    except ImportError:
        pass


def interleaved(cases, rounds=30, warmup=3):
    """``cases``: name -> zero-argument callable. Returns name -> median seconds."""
    for _ in range(warmup):
        for fn in cases.values():
            fn()
    times = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
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
