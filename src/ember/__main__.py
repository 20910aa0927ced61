"""``python -m ember``: the tour of the seed tutorial, and running PyTorch scripts on ember.

    python -m ember tour                      the PyTorch autograd tutorial, every cell run on ember
    python -m ember run SCRIPT.py [args...]   run an unmodified PyTorch script with ember as torch
    python -m ember run --report SCRIPT.py    ... and list every torch API it touched
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ember", description="ember: PyTorch's autograd on NumPy")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("tour", help="walk the PyTorch autograd tutorial, every cell run on ember")
    run = sub.add_parser("run", help="run an unmodified PyTorch script with `import torch` resolved to ember")
    run.add_argument("--report", action="store_true", help="list every torch API the script touched")
    run.add_argument("script")
    run.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "tour":
        from ._tour import tour

        tour()
        return 0
    if args.command == "run":
        from ._compat import run_script

        return run_script(args.script, args.args, report=args.report)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
