"""Command line: ``python -m skglmnn demo [--out DIR] [--quick] [--seed N]``."""

import argparse
import sys


def main(argv=None):
    """Run the command line interface.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    status : int
        0 on success.
    """
    parser = argparse.ArgumentParser(prog="python -m skglmnn", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="show that a network of GLMs reduces to the GLM, and where it wins"
    )
    demo.add_argument("--quick", action="store_true", help="small data: runs in seconds")
    demo.add_argument(
        "--out", default="skglmnn-demo", help="directory for the PNG plots (default: %(default)s)"
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the simulated data")
    args = parser.parse_args(argv)
    from . import _demo

    worst = _demo.run(
        n=2_000 if args.quick else 100_000, seed=args.seed, plot_dir=args.out, quick=args.quick
    )
    return 0 if worst < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
