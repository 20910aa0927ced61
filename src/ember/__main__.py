"""``python -m ember tour``: run the seed tutorial on ember, cell by cell."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ember", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("tour", help="walk the PyTorch autograd tutorial, every cell run on ember")
    args = parser.parse_args(argv)
    if args.command == "tour":
        from ._tour import tour

        tour()
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
