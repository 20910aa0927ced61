"""``python -m ember``: the tour of the seed tutorial, and running PyTorch scripts on ember.

    python -m ember tour                      the PyTorch autograd tutorial, every cell run on ember
    python -m ember run SCRIPT.py [args...]   run an unmodified PyTorch script with ember as torch
    python -m ember run --report SCRIPT.py    ... and list every torch API it touched
    python -m ember compare SCRIPT.py [args]  run it under torch and under ember and compare the outputs
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
    cmp = sub.add_parser(
        "compare", help="run a script under torch and under ember and report where their outputs differ",
        description="Run SCRIPT under PyTorch and under ember (two subprocesses) and compare what they print: "
                    "text exactly (ember read as torch, runs of spaces as one), numbers within float32 "
                    "tolerance or one unit of the last printed digit. Prints PASS, or the first differing "
                    "line of each with the differing token and both tracebacks. Exit status 0 on PASS, "
                    "1 on a difference, 2 when torch is not installed.")
    cmp.add_argument("--rtol", type=float, default=1e-4, help="relative tolerance per number (default 1e-4)")
    cmp.add_argument("--atol", type=float, default=1e-5, help="absolute tolerance per number (default 1e-5)")
    cmp.add_argument("--timeout", type=float, default=600, help="seconds allowed to each run (default 600)")
    cmp.add_argument("--ignore", metavar="REGEX", help="skip output lines matching REGEX (timings, progress bars)")
    cmp.add_argument("script")
    cmp.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "tour":
        from ._tour import tour

        tour()
        return 0
    if args.command == "run":
        from ._compat import run_script

        return run_script(args.script, args.args, report=args.report)
    if args.command == "compare":
        from ._compare import main as compare_main

        return compare_main(args.script, args.args, args.rtol, args.atol, args.timeout, args.ignore)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
