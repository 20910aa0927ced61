"""affine_grid and grid_sample (2-d and 3-d): sampling an input at the normalised coordinates of a grid.

grid_sample is written once, as a composition of ember ops (coordinate unnormalisation, the
padding mode's clipping or reflection, corner gathers weighted by the interpolation weights). The
forward evaluates it without a graph and records torch's node (``GridSampler2DBackward0``); the
node's derivative differentiates the same composition, with a graph under ``create_graph=True``,
so second derivatives come for free and no second statement of the calculus exists.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._tensor import Tensor, _new
from ..autograd import grad_mode as _grad_mode
from ..ops._core import node_class, record
from ..ops.indexing import where as _where

_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
_PADS = {"zeros": 0, "border": 1, "reflection": 2}


def _align_default(align_corners: bool | None) -> bool:
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                      "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                      "grid_sample for details.", stacklevel=3)
        return False
    return bool(align_corners)


# ============================================================================ affine_grid
def _base_coords(n: int, align: bool) -> np.ndarray:
    if n <= 1:
        return np.zeros(n)
    c = np.linspace(-1.0, 1.0, n)
    return c if align else c * (n - 1) / n


def _base_grid(size: tuple, align: bool, dtype: Any) -> np.ndarray:
    """(prod(spatial), nd + 1) rows [x, y(, z), 1] in the grid's (last spatial dim first) order."""
    sp = size[2:]
    axes = np.meshgrid(*[_base_coords(s, align) for s in sp], indexing="ij")  # (D,) H, W
    cols = [a.reshape(-1) for a in reversed(axes)] + [np.ones(int(np.prod(sp)))]
    return np.stack(cols, 1).astype(dtype)


def _affine_grid_grads(n: Any, g: Tensor) -> Tensor:
    base, = n.attrs  # grid = base @ theta^T per batch: d theta = g^T @ base (linear in g)
    N, nd = g.shape[0], g.shape[-1]
    return g.reshape(N, -1, nd).transpose(1, 2).matmul(_new(base))


AffineGridGeneratorBackward0 = node_class("affine_grid_generator", _affine_grid_grads, "grad^T @ base grid")


def affine_grid(theta: Tensor, size: Any, align_corners: bool | None = None) -> Tensor:
    """The sampling grid (N, *spatial, nd) of the affine maps ``theta`` (N, nd, nd + 1) for an
    output of ``size`` (N, C, H, W) or (N, C, D, H, W), in [-1, 1] normalised coordinates."""
    align = _align_default(align_corners)
    given, size = size, tuple(size)
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {given}. "
                             f"Got {_size_repr(tuple(theta.shape))}.")
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {given}. "
                             f"Got {_size_repr(tuple(theta.shape))}.")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {given}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {given}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"Expected theta and size to have the same batch size, but got {theta.shape[0]} and "
                           f"{size[0]}")
    t = theta._data
    base = _base_grid(size, align, t.dtype)
    out = np.matmul(base, t.transpose(0, 2, 1)).reshape((size[0],) + size[2:] + (len(size) - 2,))
    return record(AffineGridGeneratorBackward0, out, (theta,), attrs=(base,))


def _size_repr(size: tuple) -> str:
    from .._tensor import Size

    return repr(Size(size))


# ============================================================================ grid_sample
def _unnormalize(c: Tensor, size: int, align: bool) -> Tensor:
    return (c + 1) / 2 * (size - 1) if align else ((c + 1) * size - 1) / 2


def _reflect(c: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """Reflect coordinates into [low, high] (given doubled, so that half-pixel bounds are ints)."""
    if twice_low == twice_high:
        return c * 0
    lo, span = twice_low / 2, (twice_high - twice_low) / 2
    c = (c - lo).abs()
    extra = c.fmod(span)
    flips = np.floor(c._data / span)  # (piecewise constant: no gradient)
    return _where(_new(flips % 2 == 0), extra + lo, span - extra + lo)


def _source_coord(c: Tensor, size: int, pad: int, align: bool) -> Tensor:
    c = _unnormalize(c, size, align)
    if pad == 1:
        c = c.clamp(0, size - 1)
    elif pad == 2:
        c = _reflect(c, 0, 2 * (size - 1)) if align else _reflect(c, -1, 2 * size - 1)
        c = c.clamp(0, size - 1)
    return c


def _gather(flat: Tensor, idx: list, valid: np.ndarray | None, sp: tuple) -> Tensor:
    """Values of ``flat`` (N, C, prod(sp)) at integer coordinates ``idx`` (per dim, (N, L)),
    zero where not ``valid``: (N, C, L)."""
    lin = np.zeros(idx[0].shape, np.int64)
    for i, s in zip(idx, sp):
        lin = lin * s + np.clip(i, 0, s - 1)
    N, C = flat.shape[0], flat.shape[1]
    vals = flat.gather(2, _new(np.broadcast_to(lin[:, None, :], (N, C, lin.shape[1]))))
    if valid is not None:
        vals = vals * _new(valid[:, None, :].astype(flat._data.dtype))
    return vals


def _in_bounds(idx: list, sp: tuple) -> np.ndarray:
    ok = np.ones(idx[0].shape, bool)
    for i, s in zip(idx, sp):
        ok &= (i >= 0) & (i < s)
    return ok


def _bounded_int(i: np.ndarray, size: int, pad: int, align: bool) -> np.ndarray:
    """bicubic's neighbour coordinates under the padding mode (border: clamped, reflection: mirrored)."""
    if pad == 1:
        return np.clip(i, 0, size - 1)
    if pad == 2:
        lo, hi = (0, 2 * (size - 1)) if align else (-1, 2 * size - 1)
        if lo == hi:
            return np.zeros_like(i)
        m, span = lo / 2, (hi - lo) / 2
        a = np.abs(i - m)
        extra, flips = np.fmod(a, span), np.floor(a / span)
        r = np.where(flips % 2 == 0, extra + m, span - extra + m)
        return np.clip(r, 0, size - 1).astype(np.int64)
    return i


def _sample(x: Tensor, grid: Tensor, mode: int, pad: int, align: bool) -> Tensor:
    """grid_sample as ember ops: (N, C, *sp) sampled at grid (N, *out, nd) -> (N, C, *out)."""
    N, C = x.shape[0], x.shape[1]
    sp = tuple(x.shape[2:])
    nd = len(sp)
    out_sp = tuple(grid.shape[1:-1])
    g = grid.reshape(N, -1, nd)
    flat = x.reshape(N, C, -1)
    # grid's last dim lists x (width) first: coordinate k addresses spatial dim nd - 1 - k
    if mode == 2:  # bicubic: unnormalised only; the padding applies to each neighbour's index
        coords = [_unnormalize(g[:, :, nd - 1 - d], sp[d], align) for d in range(nd)]
    else:
        coords = [_source_coord(g[:, :, nd - 1 - d], sp[d], pad, align) for d in range(nd)]
    if mode == 1:  # nearest (ties to even, as torch's nearbyint)
        idx = [np.rint(c._data).astype(np.int64) for c in coords]
        out: Any = _gather(flat, idx, _in_bounds(idx, sp), sp)
    elif mode == 0:
        base = [np.floor(c._data).astype(np.int64) for c in coords]
        frac = [c - _new(b.astype(c._data.dtype)) for c, b in zip(coords, base)]
        out = None
        for corner in np.ndindex(*(2,) * nd):
            idx = [b + k for b, k in zip(base, corner)]
            w: Any = None
            for f, k in zip(frac, corner):
                wk = f if k else 1 - f
                w = wk if w is None else w * wk
            term = _gather(flat, idx, _in_bounds(idx, sp), sp) * w.unsqueeze(1)
            out = term if out is None else out + term
    else:
        from ._interpolation import _cubic_weights

        iy, ix = coords
        by, bx = (np.floor(c._data).astype(np.int64) for c in coords)
        # _cubic_weights is plain arithmetic: on tensors it builds differentiable weights
        wy = _cubic_weights(iy - _new(by.astype(iy._data.dtype)))  # type: ignore[arg-type]
        wx = _cubic_weights(ix - _new(bx.astype(ix._data.dtype)))  # type: ignore[arg-type]
        out = None
        for a in range(4):
            for b in range(4):
                idx = [_bounded_int(by + a - 1, sp[0], pad, align), _bounded_int(bx + b - 1, sp[1], pad, align)]
                term = _gather(flat, idx, _in_bounds(idx, sp), sp) * (wy[a] * wx[b]).unsqueeze(1)
                out = term if out is None else out + term
    return out.reshape((N, C) + out_sp)


def _grid_sample_grads(n: Any, g: Tensor) -> tuple:
    from ..autograd import grad as autograd_grad

    mode, pad, align = n.attrs
    x, grid = n.saved
    outer = _grad_mode._state.enabled  # create_graph: the gradients keep their graph
    if not outer:  # plain backward: differentiate the composition on fresh leaves
        x, grid = x.detach().requires_grad_(n.needs[0]), grid.detach().requires_grad_(n.needs[1])
    wanted = [t for t, need in zip((x, grid), n.needs) if need]
    with _grad_mode.enable_grad():
        out = _sample(x, grid, mode, pad, align)
        got = list(autograd_grad(out, wanted, g, create_graph=outer, allow_unused=True))
    res: list[Any] = []
    for t, need in zip((x, grid), n.needs):
        if not need:
            res.append(None)
            continue
        r = got.pop(0)
        res.append(r if r is not None else t.new_zeros(tuple(t.shape)))  # (nearest: no grid gradient)
    return tuple(res)


GridSampler2DBackward0 = node_class("grid_sampler_2d", _grid_sample_grads, "the sampling composition, differentiated")
GridSampler3DBackward0 = node_class("grid_sampler_3d", _grid_sample_grads, "the sampling composition, differentiated")


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` (N, C, H, W) or (N, C, D, H, W) at the [-1, 1] coordinates of ``grid``
    (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3), interpolating by ``mode``."""
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in _PADS:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    align = _align_default(align_corners)
    xs, gs = list(input.shape), list(grid.shape)
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    if xs[0] != gs[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {xs} and grid with sizes {gs}")
    nd = input.dim() - 2
    if gs[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last dimension, but got grid with "
                           f"sizes {gs}")
    if input.dim() not in (4, 5) or grid.dim() != input.dim():
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {xs} and grid with sizes {gs}")
    if any(s <= 0 for s in xs[2:]):
        raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has sizes "
                           f"{xs} with dimension {next(i for i, s in enumerate(xs) if s <= 0 and i >= 2)} being empty")
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    attrs = (_MODES[mode], _PADS[padding_mode], align)
    with _grad_mode.no_grad():
        out = _sample(input, grid, *attrs)._data
    node = GridSampler2DBackward0 if nd == 2 else GridSampler3DBackward0
    return record(node, out, (input, grid), (input, grid), attrs=attrs)
