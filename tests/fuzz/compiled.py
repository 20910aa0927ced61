"""Compiled against eager: each fuzz program as one ``ember.compile``d function, bit for bit.

The program's statements become the body of ``step(i0, i1, ...)``, which also sums its float
outputs that require grad (each times its own Python constant), calls ``backward()`` and returns
every output. The function runs eagerly, then compiled: the first call traces, the later ones
replay, on fresh inputs (the first replay's floats with other values) and the same random seed. Every returned value
and every input's ``.grad`` must equal eager's bytes: a replay is the eager call's arithmetic,
so there is no tolerance (but for the gradients of several outputs differentiated after the call:
their contributions meet in the compiled backward's order). A call that breaks the graph runs
eagerly and is counted, not compared.

    python -m tests.fuzz.compiled --n 2000 --seed 0
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections import Counter
from typing import Any

import numpy as np

import ember

from .generate import generate
from .program import Program


def step_source(prog: Program, inside: bool = True) -> str:
    """The program as ``step``; ``inside``: the step calls backward() itself, else the caller does
    (``backward_outside``: the compiled function's outputs then carry its backward as one node)."""
    outs = list(dict.fromkeys(s.out for s in prog.stmts))
    lines = [f"def step({', '.join(i.name for i in prog.inputs)}):"]
    lines += [f"    {s.src}" for s in prog.stmts]
    lines.append(f"    outs = ({', '.join(outs)},)" if outs else "    outs = ()")
    if not inside:
        lines.append("    return outs")
        return "\n".join(lines)
    lines.append("    loss = None")
    for k, o in enumerate(outs):
        lines.append(f"    if isinstance({o}, L.Tensor) and {o}.requires_grad and {o}.is_floating_point():")
        lines.append(f"        term = {o}.sum() * {1.0 + 0.25 * k}")
        lines.append("        loss = term if loss is None else loss + term")
    lines.append("    if loss is not None:")
    lines.append("        loss.backward()")
    lines.append("    return outs")
    return "\n".join(lines)


def _snap(v: Any) -> Any:
    if isinstance(v, ember.Tensor):
        a = v._data
        return ("T", a.dtype.str, a.shape, a.tobytes(), v.requires_grad)
    return ("py", repr(v))


def backward_outside(outs: tuple) -> None:
    loss = None
    for k, o in enumerate(outs):
        if isinstance(o, ember.Tensor) and o.requires_grad and o.is_floating_point():
            term = o.sum() * (1.0 + 0.25 * k)
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()


def _inputs(prog: Program, other: bool) -> list:
    """The program's inputs; ``other``: float ones with other values (a replay must not have kept
    the traced call's numbers), integer and bool ones as they are (indices stay in range)."""
    ins = [i.make(ember) for i in prog.inputs]
    if other:
        for t in ins:
            if t._data.dtype.kind == "f":
                t._data[...] = t._data * 0.75 + 0.125
    return ins


def _run(fn: Any, prog: Program, inside: bool = True, other: bool = False) -> tuple:
    ins = _inputs(prog, other)
    ember.manual_seed(0)
    outs = fn(*ins)
    if not inside:
        backward_outside(outs)
    grads = [None if t.grad is None else _snap(t.grad) for t in ins]
    return [_snap(v) for v in outs], grads


def check(seed: int, inside: bool = True) -> str:
    """One program: "raises", "breaks" (the compiled call ran eagerly), "same", or a difference.
    ``inside``: backward() in the compiled step, else after it on its outputs."""
    prog = generate(seed)
    env: dict = {"L": ember, "F": ember.nn.functional}
    exec(step_source(prog, inside), env)
    step = env["step"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            eager = _run(step, prog, inside)
            eager_other = _run(step, prog, inside, other=True)
        except Exception:  # noqa: BLE001  (the program is bad input for eager too: nothing to compare)
            return "raises"
        compiled = ember.compile(step)
        machinery = compiled.__closure__  # (to ask, after the calls, whether they replayed)
        try:
            first = _run(compiled, prog, inside)
            second = _run(compiled, prog, inside, other=True)
            third = _run(compiled, prog, inside)
        except Exception as e:  # noqa: BLE001
            return f"compiled raises {type(e).__name__}: {str(e)[:200]}"
    if "replayed" not in compiled.explain() or "graph break" in compiled.explain():
        del machinery
        return "breaks"
    # backward outside through several outputs: the compiled backward sums what meets at a leaf in
    # its own order (as torch's AOTAutograd does), not the caller's graph's: gradients within rounding
    several = not inside and sum(1 for o in eager[0] if o[0] == "T" and o[4]) > 1
    for name, got, want in (("traced call", first, eager), ("replay on other values", second, eager_other),
                            ("second replay", third, eager)):
        for what, a, b in (("output", got[0], want[0]), ("input grad", got[1], want[1])):
            for k, (x, y) in enumerate(zip(a, b)):
                if x != y and not (several and what == "input grad" and _rounding(x, y)):
                    return f"{name}: {what} {k} differs: eager {_show(y)}, compiled {_show(x)}"
    return "same"


def _rounding(x: Any, y: Any) -> bool:
    if x is None or y is None or x[:3] != y[:3] or np.dtype(x[1]).kind != "f":
        return False
    a, b = (np.frombuffer(v[3], np.dtype(v[1])).astype(np.float64) for v in (x, y))
    eps = float(np.finfo(np.dtype(x[1])).eps)
    return bool(np.array_equal(np.isnan(a), np.isnan(b)) and
                np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=16 * eps, atol=16 * eps * max(1.0, np.abs(b[np.isfinite(b)]).max(initial=0.0))))


def _show(s: Any) -> str:
    if s is None or s[0] != "T":
        return repr(s)
    a = np.frombuffer(s[3], np.dtype(s[1])).reshape(s[2]) if s[2] else np.frombuffer(s[3], np.dtype(s[1]))[0]
    return f"{s[1]} {s[2]} rg={s[4]} {np.array2string(np.asarray(a).ravel()[:6], precision=6)}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--outside", action="store_true", help="backward() after the compiled call, on its outputs")
    args = ap.parse_args()
    t0 = time.perf_counter()
    counts: Counter = Counter()
    bad = []
    for seed in range(args.seed, args.seed + args.n):
        r = check(seed, not args.outside)
        kind = r if r in ("raises", "breaks", "same") else "DIFFERS"
        counts[kind] += 1
        if kind == "DIFFERS":
            bad.append((seed, r))
    print(f"{args.n} programs in {time.perf_counter() - t0:.0f}s: " + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    for seed, r in bad[:40]:
        print(f"  seed {seed}: {r}")


if __name__ == "__main__":
    main()
