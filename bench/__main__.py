"""``python -m bench [suite ...]``: run the benchmarks, print a table and write bench/results/latest.json."""
import argparse
import json
import os
import platform

from bench import common

SUITES = ("overhead", "mlp", "cnn", "resnet", "digits", "memory", "data_loader")


def main():
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("suites", nargs="*", default=list(SUITES), help=f"any of {', '.join(SUITES)}")
    parser.add_argument("--rounds", type=int, default=10)
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
