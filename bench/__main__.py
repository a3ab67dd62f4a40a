"""``python -m bench [suite ...]``: run the benchmarks, print a table and write bench/results/latest.json."""
import argparse
import json
import os
import platform

# PyTorch's OpenMP threads spin for a while after each parallel region; on a 2-core machine that
# steals the cores from NumPy's BLAS threads in the next interleaved case (a 20x slowdown of both).
# Passive waiting keeps the comparison fair; it must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from bench import common  # noqa: E402

SUITES = ("overhead", "mlp", "cnn", "resnet", "memory", "data_loader")


def main():
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("suites", nargs="*", default=list(SUITES), help=f"any of {', '.join(SUITES)}")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    common.setup_threads()
    rows = []
    for name in args.suites:
        module = __import__(f"bench.{name}", fromlist=["run"])
        rows.extend(module.run(rounds=args.rounds) if name != "memory" else module.run())
    common.print_table(rows)
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    path = os.path.join(os.path.dirname(__file__), "results", "latest.json")
    with open(path + ".tmp", "w") as f:
        json.dump({"machine": platform.platform(), "threads": common.THREADS, "rows": rows}, f, indent=2)
    os.replace(path + ".tmp", path)
    print(f"written {path}")


if __name__ == "__main__":
    main()
