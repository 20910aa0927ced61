"""Run a program under ember and torch and compare everything the user can see.

After every statement each variable is snapshotted (dtype, shape, values, requires_grad,
contiguity), so a view that stopped aliasing its base shows up at the statement that broke it.
Then a weighted sum of the float outputs is differentiated with respect to the inputs, and for
``program.second`` the first gradients are differentiated again (create_graph=True).

Documented exclusions (torch itself leaves these undefined or they are rounding, not bugs):
- values within float-aware tolerances (float16 1e-2, float32 1e-4, float64 1e-7 relative, plus
  an absolute term scaled by the tensor's largest finite magnitude); NaN payloads and signs of NaN;
- a value that torch, run on ember's own (noisy, within tolerance, or zeros of the other sign) inputs to that statement,
  also gives: float noise amplified by an ill-conditioned op (logit near 1, a - b cancelling);
- a ``disc``/``kink`` statement (floor, comparisons, argmax, relu, max...) whose inputs already
  differed from torch's by such noise: the program stops there and counts as ``excused``, and
  its gradients are not compared, since a last-bit difference may flip a branch.
- a float16/float32 gradient at least as close as torch's to torch's float64 rerun of the program;
- gradients' strides (each backward formula picks its own), and second derivatives torch does not
  implement ("derivative for ... is not implemented");
- "torch-limited (verified)": a mismatch matching a known.py entry owned by "torch" (torch's backward
  fails on its own internal cast or an internal assert, a kernel quirk gives NaN, uninitialised
  memory) whose independent check (verify.py) proves ember right without torch's answer: torch on
  an equivalent program it can run (bool operands as float64, clamp of a broadcast input, prelu as
  where, piecewise activations one element at a time; in the program's dtypes or in float64),
  else central finite differences of the float64 program (where its sum is infinite: of the finite
  terms, the others' gradient being torch's); torch's missing second derivatives are not compared;
  a value against torch's float64 rerun
  of the statement on contiguous copies of ember's inputs. The program is not compared past that
  point. A failed check leaves the mismatch to the other entries, or new: no pattern alone excuses one.
"""

from __future__ import annotations

import builtins
import copy
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import ember

from .known import Known, matches
from .program import Program
from .verify import fd_check, torch_check, value_check

RTOL = {"float16": 1e-2, "float32": 1e-4, "float64": 1e-7}
ATOL = {"float16": 1e-3, "float32": 1e-5, "float64": 1e-10}
GRAD_SLACK = 10.0  # gradients go through one more chain of roundings
CATEGORIES = ("value", "dtype", "shape", "layout", "grad", "grad2", "raise-missing", "raise-extra", "raise-type", "missing-op")


@dataclass
class Trace:
    snaps: list[dict[str, Any]] = field(default_factory=list)
    error: tuple[int, BaseException] | None = None  # (statement index; len(stmts) = backward, +1 = double backward)
    grads: list | None = None
    grads2: list | None = None


@dataclass
class Mismatch:
    category: str
    where: int
    detail: str


@dataclass
class Outcome:
    mismatches: list[Mismatch]
    excused: bool = False
    known: Known | None = None  # a reported, unfixed bug this mismatch matches (see known.py)
    verified: bool = False  # torch-limited: ``known.check`` proved ember right where torch cannot say (verify.py)

    @property
    def category(self) -> str | None:
        return self.mismatches[0].category if self.mismatches else None


def snap(x: Any) -> Any:
    if isinstance(x, (torch.Tensor, ember.Tensor)):
        a = x.detach()
        a = a.numpy(force=True) if isinstance(a, torch.Tensor) else a.numpy()
        return ("T", str(x.dtype).split(".")[-1], tuple(x.shape), np.array(a, copy=True), bool(x.requires_grad),
                bool(x.is_contiguous()))
    if isinstance(x, (tuple, list)):
        return ("S", [snap(y) for y in x])
    if isinstance(x, (bool, int, float, str, type(None))):
        return ("P", x)
    return ("P", str(x).replace("torch.", "").replace("ember.", ""))


def weights(prog: Program, k: int, shape: tuple) -> np.ndarray:
    return np.random.default_rng([prog.seed, k]).uniform(0.5, 1.5, shape)


def execute(prog: Program, L: Any) -> Trace:
    tr = Trace()
    env: dict[str, Any] = {"L": L, "F": L.nn.functional}
    names = [i.name for i in prog.inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in prog.inputs:
            env[i.name] = i.make(L)
        for k, st in enumerate(prog.stmts):
            try:
                exec(st.src, env)
            except Exception as e:
                tr.error = (k, e)
                return tr
            if st.out not in names:
                names.append(st.out)
            tr.snaps.append({n: snap(env[n]) for n in names})
        _backward(prog, L, env, tr)
    return tr


def _backward(prog: Program, L: Any, env: dict, tr: Trace) -> None:
    n = len(prog.stmts)
    leaves = [env[i.name] for i in prog.inputs if i.requires_grad]
    outs = [(k, v) for k, v in enumerate(env[s.out] for s in prog.stmts)
            if isinstance(v, (torch.Tensor, ember.Tensor)) and v.requires_grad and v.is_floating_point()]
    outs = list({id(v): (k, v) for k, v in outs}.values())
    if not leaves or not outs:
        return
    try:
        loss = sum((v.to(L.float64) * L.tensor(weights(prog, k, tuple(v.shape)))).sum() for k, v in outs)
        grads = L.autograd.grad(loss, leaves, allow_unused=True, create_graph=prog.second)
    except Exception as e:
        tr.error = (n, e)
        return
    tr.grads = [None if g is None else _grad_snap(g) for g in grads]
    if not prog.second:
        return
    gs = [(k, g) for k, g in enumerate(grads) if g is not None and g.requires_grad]
    if not gs:
        return
    try:
        loss2 = sum((g.to(L.float64) * L.tensor(weights(prog, 100 + k, tuple(g.shape)))).sum() for k, g in gs)
        tr.grads2 = [None if g is None else _grad_snap(g) for g in L.autograd.grad(loss2, leaves, allow_unused=True)]
    except Exception as e:
        tr.error = (n + 1, e)


def _grad_snap(g: Any) -> Any:
    # a gradient's strides are whatever its backward formula produced, in torch as in ember
    return snap(g)[:5] + (None,)


def close(t: np.ndarray, e: np.ndarray, dtype: str, slack: float = 1.0) -> bool:
    if dtype not in RTOL:
        return np.array_equal(t, e)
    t, e = t.astype(np.float64), e.astype(np.float64)
    if not np.array_equal(np.isnan(t), np.isnan(e)):
        return False
    fin = np.isfinite(t)
    if not np.array_equal(t[~fin & ~np.isnan(t)], e[~fin & ~np.isnan(t)]) or not np.isfinite(e[fin]).all():
        return False
    scale = max(1.0, float(np.abs(t[fin]).max())) if fin.any() else 1.0
    return bool(np.all(np.abs(t[fin] - e[fin]) <= slack * (ATOL[dtype] * scale + RTOL[dtype] * np.abs(t[fin]))))


def _worst(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Up to 8 values of ``a``, starting a little before the largest difference from ``b``."""
    a, b = a.ravel(), b.ravel()
    with np.errstate(all="ignore"):
        d = np.abs(a.astype(np.float64) - b.astype(np.float64))
        d[np.isnan(d)] = np.inf
        d[np.isnan(a.astype(np.float64)) & np.isnan(b.astype(np.float64))] = 0
    start = max(0, int(np.argmax(d)) - 3) if d.size else 0
    return a[start:start + 8]


def diff(t: Any, e: Any, grad_cat: str | None = None, slack: float = 1.0, tol: str | None = None) -> tuple[str, str] | None:
    """The first difference between two snapshots, as (category, detail)."""
    if t[0] != e[0]:
        return "value", f"kind {e[0]} != torch {t[0]}"
    if t[0] == "S":
        if len(t[1]) != len(e[1]):
            return "shape", f"{len(e[1])} results != torch {len(t[1])}"
        for a, b in zip(t[1], e[1]):
            d = diff(a, b, grad_cat, slack, tol)
            if d:
                return d
        return None
    if t[0] == "P":
        return None if t[1] == e[1] or (t[1] != t[1] and e[1] != e[1]) else ("value", f"{e[1]!r} != torch {t[1]!r}")
    _, tdt, tsh, ta, trg, tcont = t
    _, edt, esh, ea, erg, econt = e
    if tsh != esh:
        return "shape", f"shape {list(esh)} != torch {list(tsh)}"
    if tdt != edt:
        return "dtype", f"dtype {edt} != torch {tdt}"
    if not close(ta, ea, tol if tol and tdt in RTOL else tdt, slack):
        return grad_cat or "value", f"values\n  ember {_worst(ea, ta)}\n  torch {_worst(ta, ea)}"
    if trg != erg:
        return grad_cat or "grad", f"requires_grad {erg} != torch {trg}"
    if tcont != econt:
        return "layout", f"is_contiguous() {econt} != torch {tcont}"
    return None


def exact(t: Any, e: Any) -> bool:
    if t[0] == "T":  # (signed zeros count: 3 / -0. is -inf)
        return (t[1] == e[1] and t[3].shape == e[3].shape and np.array_equal(t[3], e[3], equal_nan=t[1] in RTOL)
                and (t[1] not in RTOL or np.array_equal(np.signbit(t[3]), np.signbit(e[3]))))
    if t[0] == "S":
        return len(t[1]) == len(e[1]) and all(exact(a, b) for a, b in zip(t[1], e[1]))
    return True


def _builtin_base(e: BaseException) -> type:
    return next(c for c in type(e).__mro__ if c.__module__ == "builtins")


def _raises(k: int, te: BaseException | None, ee: BaseException | None) -> Mismatch | None:
    if te is not None and ee is None:
        return Mismatch("raise-missing", k, f"torch raises {type(te).__name__}: {str(te)[:200]}")
    if ee is not None and te is None:
        cat = "missing-op" if "does not implement" in str(ee) else "raise-extra"
        return Mismatch(cat, k, f"ember raises {type(ee).__name__}: {str(ee)[:200]}")
    base = _builtin_base(te)
    if base is not builtins.Exception and not isinstance(ee, base):
        return Mismatch("raise-type", k, f"ember {type(ee).__name__}: {str(ee)[:150]} / torch {type(te).__name__}: {str(te)[:150]}")
    return None


def _amplified(st: Any, before: dict, tsnap: Any, esnap: Any, noisy: set) -> bool:
    """Whether torch, run on ember's (noisy but within tolerance) inputs to this statement, gives
    ember's result: then the difference is the inputs' float noise amplified, not this op's bug."""
    if not noisy or tsnap[0] != "T":
        return False
    env: dict[str, Any] = {"L": torch, "F": torch.nn.functional}
    for name in st.uses():
        sn = before.get(name)
        if sn is None or sn[0] != "T":
            return False
        env[name] = torch.tensor(sn[3], dtype=getattr(torch, sn[1]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(st.src, env)
    except Exception:
        return False
    again = snap(env[st.out])
    return again[2] == esnap[2] and close(again[3], esnap[3], again[1])


def _no_worse(prog: Program, cat: str, k: int, tsnap: Any, esnap: Any) -> bool:
    """Whether ember's gradient is as close as torch's to torch's float64 rerun of the program: in
    low precision both are approximations (cancelling terms, a float16 step), and ember's may differ
    from torch's by more than a tolerance while being no less accurate."""
    if tsnap[1] not in ("float16", "float32"):
        return False
    p64 = copy.deepcopy(prog)
    for i in p64.inputs:
        i.dtype = "float64" if i.dtype in ("float16", "float32") else i.dtype
    try:
        ref = execute(p64, torch)
        r = (ref.grads if cat == "grad" else ref.grads2)[k]
    except Exception:
        return False
    if r is None or r[2] != tsnap[2]:
        return False
    ref64, t64, e64 = (a.astype(np.float64) for a in (r[3], tsnap[3], esnap[3]))
    with np.errstate(all="ignore"):
        err_t, err_e = np.abs(t64 - ref64), np.abs(e64 - ref64)
    ok = (err_e <= 10 * err_t + ATOL[tsnap[1]] * GRAD_SLACK * np.maximum(1.0, np.abs(ref64))) | (np.isnan(e64) & np.isnan(t64))
    return bool(ok.all())


def _lowest_float(tr: Trace) -> str | None:
    """The least precise float dtype among the program's values: gradients pass through it."""
    seen = {sn[1] for snaps in tr.snaps for sn in snaps.values() if sn[0] == "T"}
    return next((d for d in ("float16", "float32", "float64") if d in seen), None)


def compare(prog: Program, tt: Trace, et: Trace) -> Outcome:
    n = len(prog.stmts)
    inexact: set[str] = set()
    fragile = False
    for k in range(n + 2):
        te = tt.error[1] if tt.error and tt.error[0] == k else None
        ee = et.error[1] if et.error and et.error[0] == k else None
        if te is not None or ee is not None:
            if k == n + 1 and te is not None and "is not implemented" in str(te):
                return Outcome([], excused=True)  # torch does not differentiate this op twice
            m = _raises(k, te, ee)
            return Outcome([m] if m else [], excused=False)
        if k >= n:
            continue
        st = prog.stmts[k]
        risky = bool(st.flags) and bool(st.uses() & inexact)
        fragile |= risky
        for name, tsnap in tt.snaps[k].items():
            esnap = et.snaps[k][name]
            d = diff(tsnap, esnap)
            if d:
                if d[0] == "value" and (risky or _amplified(st, et.snaps[k - 1] if k else {}, tt.snaps[k][st.out],
                                                                et.snaps[k][st.out], st.uses() & inexact)):
                    return Outcome([], excused=True)
                return Outcome([Mismatch(d[0], k, f"{name}: {d[1]}")])
            if not exact(tsnap, esnap):
                inexact.add(name)
    if fragile:
        return Outcome([], excused=True)
    for cat, tg, eg in (("grad", tt.grads, et.grads), ("grad2", tt.grads2, et.grads2)):
        if (tg is None) != (eg is None):
            return Outcome([Mismatch(cat, n, f"gradients {'computed' if eg else 'absent'} in ember, not torch" if tg is None else
                                     "ember has no differentiable path where torch has")])
        for j, (inp, a, b) in enumerate(zip([i for i in prog.inputs if i.requires_grad], tg or [], eg or [])):
            if (a is None) != (b is None):
                return Outcome([Mismatch(cat, n, f"{inp.name}.grad is {'None' if b is None else 'a tensor'} in ember, torch: {a is not None}")])
            d = a and diff(a, b, cat, GRAD_SLACK, _lowest_float(tt))
            if d and d[1].startswith("values") and _no_worse(prog, cat, j, a, b):
                continue
            if d:
                return Outcome([Mismatch(d[0], n, f"{inp.name}.grad: {d[1]}")])
    return Outcome([])


def check(prog: Program) -> Outcome:
    et = execute(prog, ember)
    out = compare(prog, execute(prog, torch), et)
    if out.mismatches:
        m = out.mismatches[0]
        for k in matches(prog, m.category, m.where, m.detail):
            why = k.check and _independent_check(prog, k.check, m, et)
            if not why:
                out.known, out.verified = k, bool(k.check)
                break
            # the recorded reason is not proven: the mismatch is whatever it is without that entry
            m.detail += f"\n  (known.py blames torch here, but the independent check fails: {why})"
    return out


def _independent_check(prog: Program, how: str, m: Mismatch, et: Trace) -> str | None:
    """None when ember's result is proven right without torch's (see verify.py), else why not."""
    n = len(prog.stmts)
    if how == "value":
        if m.category != "value":
            return "not a value mismatch"
        before = et.snaps[m.where - 1] if m.where else {i.name: snap(i.make(ember)) for i in prog.inputs}
        name = m.detail.split(":", 1)[0]
        return value_check(prog.stmts[m.where], before, name, et.snaps[m.where][name])
    if m.where < n:
        return "torch differs in the forward pass"
    if et.error is not None:
        return f"ember raises later: {et.error[1]}"
    first = m.category == "grad" or (m.category == "raise-missing" and m.where == n)
    why = torch_check(prog, et, first)
    return why and fd_check(prog, et.grads if first else None, et.grads2, _lowest_float(et), et)
