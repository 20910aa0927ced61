"""``python -m tests.fuzz --n 100000 --seed 0``: run seeded programs, count mismatches by category
(new, and known bugs listed in known.py), count apart the torch-limited programs whose independent
check proved ember right (verify.py), print a few shrunk reproducers per category (``--save DIR``
writes them as JSON)."""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

from .generate import generate
from .run import check
from .shrink import shrink


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--examples", type=int, default=3, help="shrunk reproducers printed per category")
    ap.add_argument("--save", type=Path, help="directory for the shrunk reproducers (JSON)")
    args = ap.parse_args(argv)
    counts: collections.Counter = collections.Counter()
    verified: collections.Counter = collections.Counter()
    examples: dict[str, list] = collections.defaultdict(list)
    start = time.perf_counter()
    for i in range(args.n):
        seed = args.seed + i
        try:
            prog = generate(seed)
            out = check(prog)
        except Exception as e:  # a harness crash is reported, never hidden
            counts["harness"] += 1
            print(f"seed {seed}: harness error {type(e).__name__}: {e}", file=sys.stderr)
            continue
        counts["programs"] += 1
        counts["excused"] += out.excused
        if out.verified:  # torch-limited: ember proven right where torch cannot say (verify.py)
            verified[f"{out.category}: {out.known.repro[:70]}"] += 1
        elif out.category:
            cat = out.category + (" (known)" if out.known else "")
            counts[cat] += 1
            if len(examples[cat]) < args.examples:
                examples[cat].append((seed, prog, out))
        if (i + 1) % 1000 == 0:
            print(f"... {i + 1} programs, {time.perf_counter() - start:.0f}s, {dict(counts)}, torch-limited (verified) "
                  f"{sum(verified.values())}", file=sys.stderr, flush=True)
    print(f"{counts['programs']} programs in {time.perf_counter() - start:.0f}s (seeds {args.seed}..{args.seed + args.n - 1})")
    print(f"excused (float noise before a discontinuous op): {counts['excused']}")
    print(f"torch-limited (verified): {sum(verified.values())} (torch fails or is wrong; ember proven right by an "
          "independent check, tests/fuzz/verify.py; not mismatches)")
    for reason, n in verified.most_common():
        print(f"  {n:5d}  {reason}")
    bad = sum(v for k, v in counts.items() if k not in ("programs", "excused"))
    known = sum(v for k, v in counts.items() if k.endswith("(known)"))
    print(f"mismatches: {bad} ({known} of them known bugs listed in tests/fuzz/known.py)")
    for cat, n in counts.most_common():
        if cat not in ("programs", "excused"):
            print(f"  {cat:14s} {n}")
    for cat, exs in examples.items():
        for seed, prog, out in exs:
            small = shrink(prog, out.category)
            detail = check(small).mismatches
            print(f"\n--- {cat} (seed {seed}, shrunk from {len(prog.stmts)} to {len(small.stmts)} statements)")
            print(small.source())
            print(f"# {detail[0].detail if detail else out.mismatches[0].detail}")
            if out.known:
                print(f"# known, owner {out.known.owner}: {out.known.repro}")
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"{cat}-{seed}.json").write_text(small.to_json())
    return 1 if bad > known else 0


if __name__ == "__main__":
    sys.exit(main())
