"""The ``gradkit`` command.

    gradkit train [CONFIG.toml] [--out DIR] [--set key=value ...] [--resume RUN_DIR]
    gradkit evaluate RUN_DIR
    gradkit predict RUN_DIR INPUT.npy ...
    gradkit summary (CONFIG.toml | RUN_DIR)

Configuration problems are reported all at once, before anything runs, with exit status 2.
"""
import argparse
import sys

from gradkit.cli.config import ConfigError

EXIT_USAGE = 2


def _parser():
    parser = argparse.ArgumentParser(prog="gradkit", description="Train, evaluate and inspect gradkit models.")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model (default: a small CNN on the bundled digits)")
    train.add_argument("config", nargs="?", help="TOML configuration (default: built-in defaults)")
    train.add_argument("--out", help="run folder (default: runs/<timestamp>)")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a configuration key, e.g. --set optimizer.lr=1e-3 (repeatable)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its last checkpoint")
    evaluate = commands.add_parser("evaluate", help="evaluate a run's best model on its test split")
    evaluate.add_argument("run_dir")
    predict = commands.add_parser("predict", help="predict classes for inputs saved as .npy arrays")
    predict.add_argument("run_dir")
    predict.add_argument("inputs", nargs="+")
    summary = commands.add_parser("summary", help="layer-by-layer table of a configuration's or run's model")
    summary.add_argument("target", help="a TOML configuration or a run folder")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    from gradkit.cli import commands
    try:
        if args.command == "train":
            commands.train(args.config, args.out, args.set, args.resume)
        elif args.command == "evaluate":
            commands.evaluate(args.run_dir)
        elif args.command == "predict":
            commands.predict(args.run_dir, args.inputs)
        elif args.command == "summary":
            commands.summary(args.target)
    except ConfigError as error:
        print(f"gradkit {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (FileNotFoundError, ValueError) as error:
        print(f"gradkit {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gradkit {args.command}: interrupted; resume with --resume RUN_DIR", file=sys.stderr)
        return 130
    return 0
