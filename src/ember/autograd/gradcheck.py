"""gradcheck / gradgradcheck: analytical gradients against central finite differences.

Float inputs are checked in float64 (float32 inputs are promoted, with a note, rather than failing on
rounding). Complex inputs and outputs are checked as pairs of real numbers: the real and imaginary parts
are perturbed separately, and the analytical side follows torch's convention (for a real function L of
z = x + iy, the gradient is dL/dx + i dL/dy), so a derivative that forgets a conjugate is caught.
A failure names the worst entry: which input, which element, which output, and the
analytical and numerical values, instead of printing whole Jacobians.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np


class GradcheckError(RuntimeError):
    """Raised by gradcheck when an analytical gradient disagrees with finite differences."""


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _tensor():
    from .._tensor import Tensor

    return Tensor


def _promote(inputs: tuple) -> tuple:
    Tensor = _tensor()
    out, noted = [], False
    for x in inputs:
        if isinstance(x, Tensor) and x._rg and x._data.dtype.kind == "c" and x._data.dtype != np.complex128:
            out.append(_new_leaf(x._data.astype(np.complex128)))
        elif isinstance(x, Tensor) and x._rg and x._data.dtype != np.float64 and x._data.dtype.kind == "f":
            if not noted:
                warnings.warn("gradcheck: float32/float16 inputs are checked in float64 (finite differences in "
                              "single precision are dominated by rounding)", UserWarning, stacklevel=3)
                noted = True
            y = x.detach().double().requires_grad_(True)
            out.append(y)
        else:
            out.append(x)
    return tuple(out)


def _new_leaf(a: np.ndarray) -> Any:
    from .._tensor import _new

    return _new(a).requires_grad_(True)


def _real_view(a: np.ndarray) -> np.ndarray:
    """A value as real numbers: complex elements become (real, imag) pairs, side by side."""
    if a.dtype.kind == "c":
        return np.stack([a.real, a.imag], -1).astype(np.float64).ravel()
    return a.astype(np.float64).ravel()


def _n_real(a: np.ndarray) -> int:
    return a.size * (2 if a.dtype.kind == "c" else 1)


def _outputs(fn: Callable, inputs: tuple) -> list:
    Tensor = _tensor()
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


def _numerical(fn: Callable, inputs: tuple, diff_idx: list, eps: float) -> list:
    """J[o][i] with shape (out.numel, in.numel), by central differences (inputs perturbed in place)."""
    jac = None
    if True:  # grad mode stays as it is: gradgradcheck's function itself calls autograd.grad
        base = _outputs(fn, inputs)
        jac = [[np.zeros((_n_real(o._data), _n_real(inputs[i]._data))) for i in diff_idx] for o in base]
        for k, i in enumerate(diff_idx):
            x = inputs[i]._data
            flat = x.reshape(-1)
            if x.size and not np.shares_memory(flat, x):  # (an empty input has nothing to perturb)
                raise GradcheckError("gradcheck: inputs must be contiguous to be perturbed")
            steps = (1, 1j) if x.dtype.kind == "c" else (1,)  # real and imaginary parts separately
            for j in range(flat.size):
                orig = flat[j]
                for si, step in enumerate(steps):
                    flat[j] = orig + eps * step
                    plus = [_real_view(o._data) for o in _outputs(fn, inputs)]
                    flat[j] = orig - eps * step
                    minus = [_real_view(o._data) for o in _outputs(fn, inputs)]
                    flat[j] = orig
                    for oi in range(len(base)):
                        jac[oi][k][:, j * len(steps) + si] = (plus[oi] - minus[oi]) / (2 * eps)
    return jac


def _analytical(outs: list, inputs: tuple, diff_idx: list) -> list:
    from .. import autograd
    from .._tensor import _new

    jac = []
    for o in outs:
        rows = [np.zeros((_n_real(o._data), _n_real(inputs[i]._data))) for i in diff_idx]
        if o._rg and o._data.dtype.kind in "fc":
            # upstream 1 differentiates the real part of an output element, 1j its imaginary part;
            # the gradient g of an input then holds d/d(real part) in g.real and d/d(imag part) in g.imag
            ups = (1, 1j) if o._data.dtype.kind == "c" else (1,)
            for r in range(o._data.size):
                for p, u in enumerate(ups):
                    up = np.zeros(o._data.size, o._data.dtype)
                    up[r] = u
                    gs = autograd.grad([o], [inputs[i] for i in diff_idx], [_new(up.reshape(o._data.shape))],
                                       retain_graph=True, allow_unused=True)
                    for k, g in enumerate(gs):
                        if g is not None:
                            gd = g._data
                            if inputs[diff_idx[k]]._data.dtype.kind != "c":
                                gd = gd.real  # (a real input's gradient is real)
                            rows[k][r * len(ups) + p] = _real_view(gd)
        jac.append(rows)
    return jac


def _forward_analytical(fn: Callable, inputs: tuple, diff_idx: list, outs: list) -> list:
    """J[o][i] by forward mode: one pass per input element with a one-hot tangent (per real part of a
    complex element), at a dual level of its own."""
    from .._tensor import _new
    from . import _forward_levels as _lv

    jac = [[np.zeros((_n_real(o._data), _n_real(inputs[i]._data))) for i in diff_idx] for o in outs]
    for k, i in enumerate(diff_idx):
        x = inputs[i]._data
        steps = (1, 1j) if x.dtype.kind == "c" else (1,)
        for j in range(x.size):
            for si, step in enumerate(steps):
                t = np.zeros(x.shape, x.dtype)
                t.reshape(-1)[j] = step
                lv = _lv.push(public=False)
                try:
                    args = list(inputs)
                    args[i] = _new(x)  # (the input's values, carrying the tangent t)
                    _lv.put(args[i], lv, _new(t))
                    for oi, o in enumerate(_outputs(fn, tuple(args))):
                        tangent = _lv.get(o, lv)
                        if tangent is not None:
                            jac[oi][k][:, j * len(steps) + si] = _real_view(tangent._data)
                finally:
                    _lv.pop(lv)
    return jac


def gradcheck(func: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True, fast_mode: bool = False,
              masked: Any = None) -> bool:
    """True when ``func``'s analytical Jacobian matches central differences within ``atol + rtol * |numerical|``
    (reverse mode's with ``check_backward_ad``, forward mode's with ``check_forward_ad``)."""
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    Tensor = _tensor()
    inputs = _promote(_as_tuple(inputs))
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._rg]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them "
                         "have requires_grad=True.")
    outs = _outputs(func, inputs)
    num = _numerical(func, inputs, diff_idx, eps)
    checks = ([("", _analytical(outs, inputs, diff_idx))] if check_backward_ad else []) + \
        ([("computed with forward mode ", _forward_analytical(func, inputs, diff_idx, outs))] if check_forward_ad else [])
    for mode, ana in checks:
        if not _compare(mode, ana, num, outs, inputs, diff_idx, atol, rtol, raise_exception):
            return False
    return True


def _compare(mode: str, ana: list, num: list, outs: list, inputs: tuple, diff_idx: list, atol: float, rtol: float,
             raise_exception: bool) -> bool:
    """Whether ``ana`` matches ``num``; else torch's error naming the worst entry (or False)."""
    worst = None
    for oi in range(len(outs)):
        for k, i in enumerate(diff_idx):
            a, n = ana[oi][k], num[oi][k]
            if a.size == 0:
                continue
            err = np.abs(a - n) - (atol + rtol * np.abs(n))
            j = np.unravel_index(int(np.argmax(err)), err.shape)
            if err[j] > 0 and (worst is None or err[j] > worst[0]):
                worst = (err[j], oi, i, j, a[j], n[j], inputs[i]._data.shape, outs[oi]._data.shape)
    if worst is None:
        return True
    _, oi, i, (r, c), a, n, ishape, oshape = worst
    if inputs[i]._data.dtype.kind == "c":
        ishape = tuple(ishape) + (2,)  # (element..., 0 for the real part or 1 for the imaginary part)
    if outs[oi]._data.dtype.kind == "c":
        oshape = tuple(oshape) + (2,)
    in_el = tuple(int(v) for v in np.unravel_index(c, ishape)) if ishape else ()
    out_el = tuple(int(v) for v in np.unravel_index(r, oshape)) if oshape else ()
    msg = (f"Jacobian {mode}mismatch for output {oi} with respect to input {i},\n"
           f"worst entry: d output{list(out_el)} / d input{list(in_el)}: analytical {float(a)!r} vs numerical {float(n)!r} "
           f"(atol={atol}, rtol={rtol})")
    if raise_exception:
        raise GradcheckError(msg)
    return False


def _random_grad_output(o: Any, noncontiguous: bool) -> Any:
    from .._tensor import _new

    dt = o._data.dtype if o._data.dtype.kind in "fc" else np.dtype(np.float64)
    shape = o._data.shape
    noncontiguous = noncontiguous and int(np.prod(shape)) > 1
    if noncontiguous:  # (torch draws twice the last dimension and keeps every other element)
        shape = shape[:-1] + (2 * shape[-1],)
    g = _new(np.empty(shape, dt)).uniform_(-1, 1)
    if noncontiguous:
        g = g[..., 1::2]
    return g.requires_grad_(True)


def gradgradcheck(func: Callable, inputs: Any, grad_outputs: Any = None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
                  nondet_tol: float = 0.0, check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
                  fast_mode: bool = False, masked: bool = False) -> bool:
    """gradcheck of the first derivative: checks second derivatives (create_graph=True) against differences."""
    from .. import autograd

    Tensor = _tensor()
    inputs = _promote(_as_tuple(inputs))
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._rg]
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        # one per differentiable output, drawn as torch draws them (torch.testing.make_tensor(low=-1, high=1)),
        # so the generator is left where torch's is and a script's later random numbers match torch's
        grad_outputs = [_random_grad_output(o, gen_non_contig_grad_outputs) for o in outs if o._rg]
    else:
        grad_outputs = [g if g._rg else _new_leaf(g._data.astype(np.complex128 if g._data.dtype.kind == "c" else np.float64))
                        for g in _as_tuple(grad_outputs)]
    n_in = len(inputs)

    def first(*args: Any) -> tuple:
        xs, gos = args[:n_in], args[n_in:]
        os_ = _outputs(func, xs)
        pairs = list(zip([o for o in os_ if o._rg], gos))  # (grad_outputs pair with the differentiable outputs)
        ins = [xs[i] for i in diff_idx]
        gs = autograd.grad([o for o, _ in pairs], ins, [g for _, g in pairs], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else (x * 0) for g, x in zip(gs, ins))

    return gradcheck(first, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)


__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]
