"""Independent checks for mismatches that known.py blames on torch.

Where torch cannot run a program (its backward fails on its own internal cast, an internal assert)
or gives a wrong answer (a kernel quirk, uninitialised memory), comparing with torch proves nothing
about ember. A mismatch matching such an entry counts as "torch-limited (verified)" only when one
of these checks passes; otherwise it stays a mismatch:

- ``fd``: ember's gradients (and second derivatives, when the program has them) against float64
  central finite differences of the program rerun in float64 (float inputs and float casts
  widened), the forward run by torch, or the first gradients by torch where torch can compute
  them, else by ember. At a kink (an input on a clamp bound, prelu at 0) the derivative is only
  one-sided, so an element may instead match the forward or the backward difference quotient.
  Where the sum is not finite (an infinite output), the differences are of its finite terms;
  ember's gradient must be its (so verified) gradient of those plus torch's gradient of the others,
  and not finite only where torch's is not finite either (``_finite_terms_check``).
- ``value``: the failing statement's result against torch's float64 rerun of that one statement on
  ember's inputs to it (contiguous float64 copies: no overlapping memory, no float32 kernel path).
"""

from __future__ import annotations

import contextlib
import copy
import re
import warnings
from typing import Any, Callable, Iterator

import numpy as np
import torch

import ember

from .program import Program

WIDEN = [(re.compile(r"\.(half|float|bfloat16)\(\)"), ".double()"), (re.compile(r"\bL\.(float16|float32|half|bfloat16)\b"), "L.float64")]
FD_RTOL, FD_ATOL = 1e-5, 1e-6  # floors on the tolerance of a float64 gradient against a difference quotient
MAX_FD_ELEMENTS = 300  # two program runs per element


@contextlib.contextmanager
def float64_default(L: Any, on: bool = True) -> Iterator[None]:
    """Run a widened program with float64 as L's default dtype (``exp(int_tensor)`` is float64)."""
    old = L.get_default_dtype()
    if on:
        L.set_default_dtype(L.float64)
    try:
        yield
    finally:
        L.set_default_dtype(old)


CAST = re.compile(r"^\w+ = (\w+)\.(?:to\(L\.\w+\)|float\(\)|double\(\)|half\(\)|bfloat16\(\))$")


def widened(prog: Program) -> Program:
    """The program in float64: float inputs widened, casts to a narrower float rewritten. A cast that
    made a new tensor keeps doing so (``.clone()``): in float64 it would return its input, which a
    later in-place op would then also change."""
    p64 = copy.deepcopy(prog)
    for i in p64.inputs:
        if i.dtype in ("float16", "float32", "bfloat16"):
            i.dtype = "float64"
    converting = _converting_casts(prog)
    for k, st in enumerate(p64.stmts):
        for pat, rep in WIDEN:
            st.src = pat.sub(rep, st.src)
        if k in converting:
            st.src += ".clone()"
    return p64


def _converting_casts(prog: Program) -> set[int]:
    """The statements casting a tensor to a new one (not returning it), in ember's run of ``prog``."""
    env: dict[str, Any] = {"L": ember, "F": ember.nn.functional}
    out: set[int] = set()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in prog.inputs:
                env[i.name] = i.make(ember)
            for k, st in enumerate(prog.stmts):
                m = CAST.match(st.src)
                src = env.get(m.group(1)) if m else None
                exec(st.src, env)
                if isinstance(src, ember.Tensor) and env[st.out] is not src:
                    out.add(k)
    except Exception:  # noqa: BLE001 - the statements before the failing one are known
        pass
    return out


ADDC = re.compile(r"^(\w+ = L\.addc(?:mul|div)\()(\w+), (\w+), (\w+)(, value=.*\))$")
PIECEWISE = re.compile(r"^(\w+ = )F\.(hardtanh|relu6|softshrink|hardshrink|elu|celu|selu)\((\w+)(.*)\)$")
PRELU = re.compile(r"^(\w+ = )F\.prelu\((\w+), (\w+)\)$")
CONV = re.compile(r"^(\w+ = )F\.(conv[123]d)\((\w+), (\w+)(.*)\)$")
CLAMP = re.compile(r"^(\w+ = )(?:L\.clamp\((\w+), min=(\w+), max=(\w+)\)|(\w+)\.clamp\((\w+), (\w+)\))$")


def equivalent(prog: Program, widen: bool) -> Program:
    """The program as torch can differentiate it, in its own dtypes or widened to float64:
    addcmul/addcdiv's operands as float64 (torch's backward fails casting a float gradient to a
    bool or integer operand's dtype), ``x.clamp(lo, hi)`` of tensor bounds broadcast beyond x
    clamping x broadcast first (torch's backward cannot write the gradient into x's shape), and the
    a bool base of ``**`` as a float (``True ** x`` fails an internal assert in torch's backward), and
    prelu as the ``where`` it is (torch's prelu double backward takes x = 0 as positive where its
    first derivative takes it as negative, so its second derivative in the weight is 0 at x = 0
    where the first derivative, the weight itself, has derivative 1), and
    the piecewise activations applied one element at a time (torch's vectorised backward loop and its
    scalar loop disagree at NaN: one element takes the scalar loop), and convolutions one sample at a
    time (for a batch, torch's kernel multiplies a NaN weight by the zero gradient of an input position
    the stride skips; for one sample it does not). Whether it computes the same
    values as ``prog`` is checked by whoever runs it."""
    eq = widened(prog) if widen else copy.deepcopy(prog)
    for st in eq.stmts:
        m = ADDC.match(st.src)
        if m:
            st.src = m.group(1) + ", ".join(f"{x}.double()" for x in m.groups()[1:4]) + m.group(5)
        st.src = re.sub(r"\b(True|False) \*\* ", lambda b: f"{float(b.group(1) == 'True')} ** ", st.src)
        m = PRELU.match(st.src)
        if m:
            out, x, w = m.groups()
            st.src = f"{out}L.where({x} > 0, {x}, ({w} if {w}.numel() == 1 else {w}.reshape([-1] + [1] * ({x}.dim() - 2))) * {x})"
        m = PIECEWISE.match(st.src)
        if m:
            out, op, x, rest = m.groups()
            st.src = f"{out}L.stack([F.{op}(e{rest}) for e in {x}.reshape(-1).unbind()]).reshape({x}.shape)"
        m = CONV.match(st.src)
        if m:
            out, op, x, w, rest = m.groups()
            st.src = (f"{out}L.cat([F.{op}({x}[j:j + 1], {w}{rest}) for j in range({x}.shape[0])]) "
                      f"if {x}.shape[0] else F.{op}({x}, {w}{rest})")
        m = CLAMP.match(st.src)
        if m:
            g = [x for x in m.groups()[1:] if x is not None]
            if all(re.fullmatch(r"[iv]\d+", x) for x in g):
                st.src = f"{m.group(1)}L.clamp(L.broadcast_tensors({g[0]}, {g[1]}, {g[2]})[0], min={g[1]}, max={g[2]})"
    return eq


def _no_second(ref: Any, n: int) -> bool:
    """Whether torch ran the program but does not implement its second derivative (run.py excuses those)."""
    return ref.error is not None and ref.error[0] == n + 1 and "is not implemented" in str(ref.error[1])


def _same_values(ref: Any, ours: Any, dtype: str) -> bool:
    """Whether torch's run of the equivalent program saw ember's values at every statement, within
    the tolerance of the program's least precise float dtype."""
    from .run import close

    if (ref.error is not None and not _no_second(ref, len(ours.snaps))) or len(ref.snaps) != len(ours.snaps):
        return False
    for a, b in zip(ref.snaps, ours.snaps):
        for name, e in b.items():
            t = a.get(name)
            if t is None or t[0] != e[0] or (t[0] == "T" and (t[2] != e[2] or not close(
                    t[3].astype(np.float64), e[3].astype(np.float64), dtype))):
                return False
    return True


def _same_grads(ref: list | None, ours: list | None, dtype: str) -> bool:
    from .run import GRAD_SLACK, close

    if ref is None or ours is None:
        return ref is None and ours is None
    for t, e in zip(ref, ours):
        if t is None or e is None:
            if not all(x is None or not x[3].any() for x in (t, e)):
                return False
        elif t[2] != e[2] or not close(t[3], e[3].astype(np.float64), dtype, GRAD_SLACK):
            return False
    return True


def torch_check(prog: Program, ours: Any, first: bool) -> str | None:
    """None when torch, running ``equivalent(prog)`` in the program's dtypes or in float64, computes
    ember's values and ember's gradients (and second derivatives, where torch implements them), else why not."""
    from .run import _lowest_float, execute

    dtype = _lowest_float(ours) or "float64"
    why = ""
    for widen in (False, True):
        with float64_default(torch, widen):
            ref = execute(equivalent(prog, widen), torch)
        if not _same_values(ref, ours, dtype):
            why = "torch's equivalent program does not run or computes other values"
        elif first and not _same_grads(ref.grads, ours.grads, dtype):
            why = "torch's equivalent program has other gradients"
        elif prog.second and not _no_second(ref, len(prog.stmts)) and not _same_grads(ref.grads2, ours.grads2, dtype):
            why = "torch's equivalent program has other second derivatives"
        else:
            return None
    return why


def _terms(prog: Program, L: Any, order: int, data: list[np.ndarray], graph: bool = False) -> tuple[list, list]:
    """The float64 tensors the fuzzer's sums weigh, keyed as ``weights`` keys them: the program's
    float outputs (order 1) or the first gradients of their weighted sum (order 2, differentiable
    with ``graph``); run.py's ``_backward`` differentiates the same sums. Also the leaves."""
    from .run import weights

    env: dict[str, Any] = {"L": L, "F": L.nn.functional}
    for i, a in zip(prog.inputs, data):
        env[i.name] = L.tensor(a, dtype=getattr(L, i.dtype), requires_grad=i.requires_grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for st in prog.stmts:
            exec(st.src, env)
        leaves = [env[i.name] for i in prog.inputs if i.requires_grad]
        outs = [(k, v) for k, v in enumerate(env[s.out] for s in prog.stmts)
                if isinstance(v, (torch.Tensor, ember.Tensor)) and v.requires_grad and v.is_floating_point()]
        terms = [(k, v.to(L.float64)) for k, v in {id(v): (k, v) for k, v in outs}.values()]
        if order == 2:
            loss = sum((v * L.tensor(weights(prog, k, tuple(v.shape)))).sum() for k, v in terms)
            gs = L.autograd.grad(loss, leaves, allow_unused=True, create_graph=graph)
            terms = [(100 + k, g.to(L.float64)) for k, g in enumerate(gs) if g is not None]
    return terms, leaves


def _weighed(prog: Program, L: Any, terms: list, keep: dict | None) -> Any:
    """The weighted sum of ``terms``; with ``keep`` (bool arrays by term), of the kept elements only."""
    from .run import weights

    total = L.zeros((), dtype=L.float64)
    for k, v in terms:
        if keep is not None:
            v = L.where(L.tensor(keep[k]), v, L.zeros_like(v))
        total = total + (v * L.tensor(weights(prog, k, tuple(v.shape)))).sum()
    return total


def _objective(prog: Program, L: Any, order: int, data: list[np.ndarray], keep: dict | None = None) -> float:
    """The fuzzer's weighted loss (order 1) or the weighted sum of its first gradients (order 2), for
    the given input values; with ``keep``, of the kept elements only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(_weighed(prog, L, _terms(prog, L, order, data)[0], keep).detach())


def _array(v: Any) -> np.ndarray:
    v = v.detach()
    return np.asarray(v.numpy(force=True) if isinstance(v, torch.Tensor) else v.numpy(), dtype=np.float64)


def _finite_parts(prog: Program, L: Any, order: int, data: list[np.ndarray]) -> dict:
    """Which elements of each term of the sum are finite at ``data``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {k: np.isfinite(_array(v)) for k, v in _terms(prog, L, order, data)[0]}


def _gradients(prog: Program, L: Any, order: int, data: list[np.ndarray], keep: dict | None) -> list[np.ndarray]:
    """L's gradient of the sum (``keep``: of its kept elements), in float64, one array per leaf."""
    with float64_default(L), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        terms, leaves = _terms(prog, L, order, data, graph=True)
        gs = L.autograd.grad(_weighed(prog, L, terms, keep), leaves, allow_unused=True)
    return [np.zeros(tuple(x.shape)) if g is None else _array(g) for g, x in zip(gs, leaves)]


def _quotients(f: Callable[[list[np.ndarray]], float], data: list[np.ndarray], which: list[int],
               skip: list | None = None) -> list[np.ndarray]:
    """For each input in ``which``: central, forward and backward difference quotients per element
    (0 where ``skip``, a bool array per input, holds)."""
    f0 = f(data)
    out = []
    for k, j in enumerate(which):
        q = np.empty((3,) + data[j].shape)
        for idx in np.ndindex(data[j].shape):
            x = data[j][idx]
            if not np.isfinite(x) or (skip is not None and skip[k][idx]):  # (no finite step moves x)
                q[(slice(None),) + idx] = 0.0
                continue
            h = 1e-6 * max(1.0, abs(x))
            fp, fm = (f([a if n != j else _with(a, idx, x + s) for n, a in enumerate(data)]) for s in (h, -h))
            q[(slice(None),) + idx] = ((fp - fm) / (2 * h), (fp - f0) / h, (f0 - fm) / h)
        out.append(q)
    return out


def _with(a: np.ndarray, idx: tuple, v: float) -> np.ndarray:
    b = a.copy()
    b[idx] = v
    return b


def _matches(g: np.ndarray | None, q: np.ndarray, dtype: str, rest: np.ndarray | None = None,
             whole: np.ndarray | None = None, agreed: Any = False) -> bool:
    """Whether an ember gradient (None: zero) equals, element by element, one of the quotients, or
    torch's gradient where ``agreed`` (those elements need no proof). With ``rest`` (the quotients
    are then of the sum's finite terms only): one of the quotients plus ``rest`` (torch's gradient
    of the other terms) where ember's gradient is finite; where it is not, ``whole`` (torch's whole
    gradient) is not finite either, nor an infinity of the other sign."""
    from .run import ATOL, GRAD_SLACK, RTOL

    rtol, atol = max(RTOL.get(dtype, 0.0), FD_RTOL), max(ATOL.get(dtype, 0.0), FD_ATOL)
    e = np.zeros(q.shape[1:]) if g is None else g.astype(np.float64)
    if e.shape != q.shape[1:]:
        return False
    if rest is not None:
        q = q + rest
    scale = max(1.0, float(np.abs(q[0][np.isfinite(q[0])]).max(initial=0.0)))
    with np.errstate(invalid="ignore"):
        ok = (np.abs(e - q) <= GRAD_SLACK * (atol * scale + rtol * np.abs(q))).any(axis=0)
        if whole is not None:
            ok |= ~np.isfinite(e) & ~np.isfinite(whole) & ~(np.isinf(e) & np.isinf(whole) & (np.sign(e) != np.sign(whole)))
    return bool((ok | agreed).all())  # (a quotient that is not finite matches nothing)


def fd_check(prog: Program, grads: list | None, grads2: list | None, lowest: str | None, et: Any = None) -> str | None:
    """None when ember's gradients (and second derivatives) agree with finite differences of the
    float64 program, else why not. ``grads``/``grads2`` are ember's gradient snapshots (run.py).
    With ember's trace ``et``, a leaf whose gradient torch computes as ember does (on the
    ``equivalent`` program, with ember's values) needs no differences: only the disputed ones do.
    Where neither library's sum is finite (an infinite or NaN output or first gradient), the
    differences are of its finite terms, and what they cannot see is torch's gradient of the others:
    ember's gradient must be the sum of the two where it is finite, and not finite only where torch's
    is not finite either (no finite derivative exists there: ember's NaN may be torch's inf times
    rounding noise, or its inf the limit where torch's order of operations makes inf - inf)."""
    p64 = widened(prog)
    leaves = [n for n, i in enumerate(p64.inputs) if i.requires_grad]
    data = [i.array().astype(np.float64) if i.dtype == "float64" else i.array() for i in p64.inputs]
    dtype = lowest or "float64"
    for order, ours in ((1, grads), (2, grads2)):
        if ours is None:
            continue
        agreed = _agreed(prog, et, order, ours, [data[n].shape for n in leaves], dtype)
        disputed = [j for j, ok in enumerate(agreed) if not ok.all()]
        which, skip = [leaves[j] for j in disputed], [agreed[j] for j in disputed]
        if sum(int((~a).sum()) for a in skip) > MAX_FD_ELEMENTS:
            return "too many elements to difference"
        qs, L, why = _fd_quotients(p64, order, data, which, None, skip)
        rests: list = [None] * len(leaves)
        wholes: list = [None] * len(leaves)
        if qs is None and why.endswith("sum is not finite"):  # (the finite terms, and torch's word on the others)
            keep = _finite_parts(p64, ember, order, data)
            qs, L, why = _fd_quotients(p64, order, data, which, keep, skip)
            if qs is not None:
                t64 = equivalent(prog, True)
                try:
                    wholes = _gradients(t64, torch, order, data, None)
                    rests = [a - b for a, b in zip(wholes, _gradients(t64, torch, order, data, keep))]
                except Exception as e:
                    return f"order {order}: the sum is not finite and torch computes no gradients ({type(e).__name__})"
                why = "(finite terms) "
        if qs is None:
            return f"order {order}: no finite differences ({why[:120]})"
        for j, n, q in zip(disputed, which, qs):
            g = ours[j]
            if not _matches(None if g is None else g[3], q, dtype, rests[j], wholes[j], agreed[j]):
                return (f"order {order}: {why if rests[j] is not None else ''}{p64.inputs[n].name}'s gradient differs "
                        f"from finite differences ({L.__name__})")
    return None


def _agreed(prog: Program, et: Any, order: int, ours: list, shapes: list, dtype: str) -> list[np.ndarray]:
    """Per leaf, per element: whether torch, running ``equivalent(prog)`` (in its dtypes or in float64)
    to ember's values, computes ember's gradient (order 1) or second derivative there, within the
    fuzzer's tolerance. All False without ``et``."""
    from .run import execute

    out = [np.zeros(s, bool) for s in shapes]
    for widen in (False, True) if et is not None else ():
        with float64_default(torch, widen):
            ref = execute(equivalent(prog, widen), torch)
        gs = ref.grads if order == 1 else ref.grads2
        if gs is not None and _same_values(ref, et, dtype):
            out = [a | _close_elements(t, e, a.shape, dtype) for a, t, e in zip(out, gs, ours)]
    return out


def _close_elements(t: Any, e: Any, shape: tuple, dtype: str) -> np.ndarray:
    """Where two gradient snapshots (None: zero) agree as run.py's ``close`` has them agree."""
    from .run import ATOL, GRAD_SLACK, RTOL

    a, b = (np.zeros(shape) if x is None else x[3].astype(np.float64) for x in (t, e))
    if a.shape != shape or b.shape != shape:
        return np.zeros(shape, bool)
    fin = np.isfinite(a)
    scale = max(1.0, float(np.abs(a[fin]).max(initial=0.0)))
    tol = GRAD_SLACK * (ATOL.get(dtype, 0.0) * scale + RTOL.get(dtype, 0.0) * np.abs(a))
    with np.errstate(invalid="ignore"):
        return (np.isnan(a) & np.isnan(b)) | (~fin & ~np.isnan(a) & (a == b)) | (fin & (np.abs(a - b) <= tol))


def _fd_quotients(p64: Program, order: int, data: list, which: list, keep: dict | None, skip: list | None = None) -> tuple:
    """(quotients, the library that ran the program, "") or (None, None, why not)."""
    err = ""
    for L in (torch, ember):  # torch where it can run the float64 program to a finite sum, else ember's rerun
        def f(d: list, L: Any = L) -> float:
            with float64_default(L):
                return _objective(p64, L, order, d, keep)

        try:
            if not np.isfinite(f(data)):
                err = f"{L.__name__}'s sum is not finite"
                continue
            return _quotients(f, data, which, skip), L, ""
        except Exception as e:  # noqa: PERF203 - a library that cannot run it hands over to the next
            err = f"{type(e).__name__}: {e}"
    return None, None, err


def value_check(st: Any, before: dict, name: str, esnap: Any) -> str | None:
    """None when torch, rerunning statement ``st`` in float64 on contiguous copies of ember's inputs
    to it, gives ember's value of ``name`` (within ember's dtype's tolerance), else why not."""
    from .run import close, snap

    if name != st.out or esnap[0] != "T":
        return "the mismatch is not the statement's result"
    env: dict[str, Any] = {"L": torch, "F": torch.nn.functional}
    for v in st.uses():
        sn = before.get(v)
        if sn is None or sn[0] != "T":
            return f"{v} is not a tensor"
        dt = "float64" if sn[1] in ("float16", "float32", "bfloat16") else sn[1]
        env[v] = torch.tensor(np.ascontiguousarray(sn[3]), dtype=getattr(torch, dt))
    src = st.src
    for pat, rep in WIDEN:
        src = pat.sub(rep, src)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(src, env)
    except Exception as e:
        return f"torch's float64 rerun raises {type(e).__name__}: {e}"
    ref = snap(env[st.out])
    if ref[2] != esnap[2]:
        return f"torch's float64 rerun has shape {ref[2]}"
    return None if close(ref[3], esnap[3], esnap[1]) else "torch's float64 rerun differs from ember"
