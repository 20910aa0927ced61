"""Pooling of any spatial rank (max, average, adaptive max/average, max-unpooling) in NumPy.

One implementation serves 1-d (through 2-d, as torch does), 2-d and 3-d: the window offsets are
enumerated once per call and each offset is one strided view of the padded input. Every
pooling's derivative is linear in the grad and is an op of its own (recorded under
``create_graph=True``), whose derivative is the pooling's adjoint: a gather at the argmax, or the
pooling again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._dtype import LEGACY_NAMES
from .._tensor import Tensor, _new
from ..ops import _grad_math as gm
from ..ops._core import node_class, record, where_np
from .convolution import _ALL, _col2im, _pair, _window_offsets


def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    num = size + 2 * p - d * (k - 1) - 1
    out = (-(-num // s) if ceil else num // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def _plane_offsets(shape: tuple, nd: int) -> np.ndarray:
    """The flat offset of each (n, c) plane of an (N, C, *spatial) array, shaped to broadcast."""
    lead = tuple(shape[:-nd])
    size = int(np.prod(shape[-nd:]))
    return (np.arange(int(np.prod(lead))) * size).reshape(lead + (1,) * nd)


# ============================================================================ scatter / gather
def _scatter_np(gd: np.ndarray, shape: tuple, flat_idx: np.ndarray) -> np.ndarray:
    idx, n = flat_idx.ravel(), int(np.prod(shape))
    if gd.dtype.kind == "c":  # bincount takes real weights only: sum the two parts apart
        w = gd.ravel()
        gx = np.bincount(idx, weights=w.real, minlength=n) + 1j * np.bincount(idx, weights=w.imag, minlength=n)
    else:
        gx = np.bincount(idx, weights=gd.ravel(), minlength=n)
    return gx.astype(gd.dtype).reshape(shape)


def _scatter_flat(g: Tensor, shape: tuple, flat_idx: np.ndarray, node: Any = None, x: Tensor | None = None) -> Tensor:
    """Sum ``g`` into zeros of ``shape`` at the flat positions ``flat_idx``; differentiable again
    (its derivative, ``node``, reads the same positions back). ``x``: the forward's input, which
    torch's backward kernel takes too (so the result requires grad when ``x`` does)."""
    return record(node or MaxPool2DWithIndicesBackwardBackward0, _scatter_np(g._data, shape, flat_idx),
                  (g,) if x is None else (g, x), attrs=(shape, flat_idx))


def _and_input_zeros(n: Any, gg: Any) -> Any:
    """The gradients of a backward op recorded with the forward's input as its second input:
    ``gg``'s for the grad, and 0 for the input (the backward is linear in grad alone)."""
    if len(n.needs) == 1:
        return gg
    return gg if n.needs[0] else None, _new(np.zeros(*n._in_meta[1])) if n.needs[1] else None


def _gather_flat(gg: Tensor, flat_idx: np.ndarray) -> Tensor:
    return gg.reshape(-1)[_new(flat_idx.ravel())].reshape(flat_idx.shape)


def _scatter_nodes(name: str) -> tuple:
    """(backward, backward-of-backward) node classes of a pooling whose gradient is a scatter."""
    bb = node_class(f"{name}_backward", lambda n, gg: _and_input_zeros(n, _gather_flat(gg, n.attrs[1])),
                    "grad read at the argmax")

    def grads(n: Any, g: Tensor) -> Tensor:
        shape, flat_idx = n.attrs
        return _scatter_flat(g, shape, flat_idx.reshape(g._data.shape), bb, n.saved[0] if n.saved else None)

    return node_class(name, grads, "grad scattered to the argmax", layout="suggested"), bb


MaxPool2DWithIndicesBackward0, MaxPool2DWithIndicesBackwardBackward0 = _scatter_nodes("max_pool2_d_with_indices")
_MAX_NODES = {2: MaxPool2DWithIndicesBackward0, 3: _scatter_nodes("max_pool3_d_with_indices")[0]}
_ADAPTIVE_MAX_NODES = {nd: _scatter_nodes(f"adaptive_max_pool{nd}_d")[0] for nd in (2, 3)}


# ============================================================================ max pooling
def _max_pool_tiled_grads(n: Any, g: Tensor) -> Tensor:
    # each output's gradient goes to the first position in its window holding the maximum (torch's
    # tie rule), found now rather than tracked during the forward pass
    out, (kh, kw) = n.attrs
    x = n.saved[0]._data
    gd = g._data
    Ho, Wo = gd.shape[2], gd.shape[3]
    H, W = x.shape[2], x.shape[3]
    # every position is written below when the windows tile the input exactly
    gx = np.empty(x.shape, gd.dtype) if H == Ho * kh and W == Wo * kw else np.zeros(x.shape, gd.dtype)
    taken = None
    last = (kh - 1, kw - 1)
    finite = bool(np.isfinite(gd).all())
    for i in range(kh):
        for j in range(kw):
            hit = x[:, :, i:Ho * kh:kh, j:Wo * kw:kw] == out
            if taken is None:
                taken = hit  # (not changed before its use below)
            else:
                np.greater(hit, taken, out=hit)  # a hit, and no earlier hit in the window
                if (i, j) != last:
                    np.logical_or(taken, hit, out=taken)
            if finite:
                np.multiply(gd, hit, out=gx[:, :, i:Ho * kh:kh, j:Wo * kw:kw])
            else:  # selected: an inf gradient leaves 0 where it did not hit (0 * inf would be NaN)
                gx[:, :, i:Ho * kh:kh, j:Wo * kw:kw] = where_np(hit, gd, gd.dtype.type(0))
    # an op of its own: under create_graph its derivative reads the grad back at the argmax
    return record(MaxPool2DWithIndicesBackwardBackward0Tiled, gx, (g, n.saved[0]), attrs=(x, out, kh, kw))


def _tiled_argmax_gather(n: Any, gg: Tensor) -> Tensor:
    x, out, kh, kw = n.attrs
    Ho, Wo = out.shape[2], out.shape[3]
    W = x.shape[3]
    idx = np.zeros(out.shape, np.int64)
    taken = np.zeros(out.shape, bool)
    for i in range(kh):
        for j in range(kw):
            hit = (x[:, :, i:Ho * kh:kh, j:Wo * kw:kw] == out) & ~taken
            taken |= hit
            idx += hit * (i * W + j)
    base = (np.arange(Ho)[:, None] * kh * W + np.arange(Wo)[None, :] * kw)
    return _and_input_zeros(n, _gather_flat(gg, idx + base + _plane_offsets(x.shape, 2)))


MaxPool2DWithIndicesBackward0Tiled = node_class("MaxPool2DWithIndices", _max_pool_tiled_grads,
                                                "grad placed at each window's (first) maximum", layout="suggested")
MaxPool2DWithIndicesBackwardBackward0Tiled = node_class("max_pool2_d_with_indices_backward", _tiled_argmax_gather,
                                                        "grad read at each window's (first) maximum")


def _max_pool_tiled(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """Non-overlapping 2-d windows (stride == kernel, no padding): the elementwise maximum of the
    kh*kw strided views of the input."""
    Ho, Wo = x.shape[2] // kh, x.shape[3] // kw
    out: Any = None
    for i in range(kh):
        for j in range(kw):
            v = x[:, :, i:Ho * kh:kh, j:Wo * kw:kw]
            out = v.copy() if out is None else np.maximum(out, v, out=out)
    return out


def _max_pool_np(x: np.ndarray, k: tuple, s: tuple, p: tuple, d: tuple, ceil: bool) -> tuple:
    """(pooled maxima, index of each window's maximum within the unpadded spatial volume).

    One strided pass per window offset: the running maximum, and the offset where it was found.
    A later element takes over only when strictly larger (the first maximum wins ties), or when
    it is NaN (torch's kernel lets every NaN take over, so the last NaN in the window wins)."""
    nd = len(k)
    sp = x.shape[2:]
    o = tuple(_pool_out(sp[i], k[i], s[i], p[i], d[i], ceil) for i in range(nd))
    need = tuple((o[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 for i in range(nd))
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((p[i], max(need[i] - sp[i] - p[i], 0)) for i in range(nd)),
                constant_values=fill)
    check_nan = x.dtype.kind == "f" and bool(np.isnan(x).any())
    out: Any = None
    best: Any = None
    for num, (_, sl) in enumerate(_window_offsets(k, s, d, o)):
        v = xp[(_ALL, _ALL) + sl]
        if out is None:
            out, best = v.copy(), np.zeros(v.shape, np.int16)  # (offset numbers: small ints are cheap)
            continue
        take = v > out
        if check_nan:
            take |= np.isnan(v)
        best = where_np(take, num, best)
        out = where_np(take, v, out)
    offs = np.unravel_index(best.astype(np.int64), k)
    idx = np.zeros(best.shape, np.int64)
    for i in range(nd):
        pos = np.arange(o[i]).reshape((o[i],) + (1,) * (nd - 1 - i)) * s[i] + offs[i] * d[i] - p[i]
        idx = idx * sp[i] + pos
    return out, idx


def _max_pool(input: Tensor, nd: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
              ceil_mode: bool, return_indices: bool) -> Any:
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input")
    k = _pair(kernel_size, nd)
    s = _pair(stride, nd) if stride is not None and stride != [] else k
    p, d = _pair(padding, nd), _pair(dilation, nd)
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    bad = [i for i in range(nd) if p[i] > k[i] // 2]
    if bad:
        i = bad[0]
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[i]}, "
                           f"kernel_size={k[i]} and dilation={d[i]}")
    x = input._data if input.dim() == nd + 2 else input._data[None]  # (unbatched: pooled as a batch of one)
    sp = x.shape[2:]
    o = [_pool_out(sp[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd)]
    if any(v < 1 for v in o):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated output size: "
                           f"({'x'.join(map(str, [x.shape[1]] + o))}). Output size is too small")
    if (nd == 2 and not return_indices and k == s and p == (0, 0) and d == (1, 1) and x.dtype.kind == "f"
            and k[0] * k[1] <= 64 and (not ceil_mode or (sp[0] % k[0] == 0 and sp[1] % k[1] == 0))):
        out = _max_pool_tiled(x, k[0], k[1])
        if not np.isnan(out).any():  # NaN windows take the general path (torch's NaN index rule)
            if input.dim() == nd + 2:
                # the backward finds each window's maximum again: it needs the input (saved, so an
                # in-place change is caught) and the maxima as computed (a copy: the output itself
                # may be changed in place, which torch allows since it keeps indices instead)
                return record(MaxPool2DWithIndicesBackward0Tiled, out, (input,), (input,), attrs=(out.copy(), k))
    out, idx = _max_pool_np(x, k, s, p, d, ceil_mode)
    if input.dim() == nd + 1:
        out, idx = out[0], idx[0]
    res = record(_MAX_NODES[nd], out, (input,), (input,),
                 attrs=(input._data.shape, idx + _plane_offsets(input._data.shape, nd)))
    if return_indices:
        return res, _new(idx)
    return res


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """2-d max pooling over (N, C, H, W) or (C, H, W) input."""
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """3-d max pooling over (N, C, D, H, W) or (C, D, H, W) input."""
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """1-d max pooling over (N, C, L) or (C, L) input (a 2-d pooling of height 1, as torch)."""
    if input._data.dtype.kind in "biu":  # (torch's 2-d and 3-d max pools take integers, its 1-d not)
        raise NotImplementedError(f"\"max_pool1d_impl\" not implemented for '{LEGACY_NAMES[input._data.dtype.name]}'")
    k = _pair(kernel_size, 1)[0]
    s = _pair(stride, 1)[0] if stride is not None and stride != [] else k
    # torch checks the 1-d sizes itself, in its own words
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    pd, dl = _pair(padding, 1)[0], _pair(dilation, 1)[0]
    if input.dim() in (2, 3) and pd <= k // 2:
        L = input.shape[-1]
        o = _pool_out(L, k, s, pd, dl, ceil_mode)
        if o < 1:
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {o}")
    if not return_indices:  # (torch's own 1-d kernel then, whose result is contiguous)
        input = input.contiguous()
    r = max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, _pair(padding, 1)[0]), (1, _pair(dilation, 1)[0]),
                   ceil_mode, return_indices)
    if return_indices:
        return r[0].squeeze(-2), r[1].squeeze(-2)
    return r.squeeze(-2)


# ============================================================================ average pooling
def _avg_divisor(size: int, out: int, k: int, s: int, p: int, include_pad: bool) -> np.ndarray:
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    pool = end - start
    start_c = np.maximum(start, 0)
    end_c = np.minimum(end, size)
    return pool if include_pad else (end_c - start_c)


def _window_sums(xp: np.ndarray, k: tuple, s: tuple, o: tuple) -> np.ndarray:
    """Sum of each pooling window: one strided add per window offset (NumPy's sum over the short
    window axes of a strided view is several times slower)."""
    out: Any = None
    for _, sl in _window_offsets(k, s, (1,) * len(k), o):
        v = xp[(_ALL, _ALL) + sl]
        if out is None:
            out = v.copy()
        else:
            out += v
    return out


def _pad_to(x: np.ndarray, p: tuple, padded: tuple) -> np.ndarray:
    nd = len(p)
    sp = x.shape[-nd:]
    return np.pad(x, ((0, 0), (0, 0)) + tuple((p[i], padded[i] - sp[i] - p[i]) for i in range(nd)))


def _avg_pool_grads(n: Any, g: Tensor) -> Tensor:
    xshape, k, s, p, div, padded = n.attrs
    nd = len(k)
    gd = g._data.reshape((-1,) + g._data.shape[-nd - 1:]) / div  # (unbatched grads as a batch of one)
    o = gd.shape[2:]
    cols = np.broadcast_to(gd[(_ALL, _ALL) + (None,) * nd], gd.shape[:2] + tuple(k) + o)
    gp = _col2im(cols, gd.shape[:2] + tuple(padded), s, (1,) * nd)
    inner = tuple(slice(p[i], p[i] + xshape[2 + i]) for i in range(nd))
    res = np.ascontiguousarray(gp[(_ALL, _ALL) + inner]).astype(g._data.dtype).reshape(n._in_meta[0][0])
    # an op of its own, linear in grad: under create_graph its derivative is the pooling again
    return record(_AVG_NODES[nd][1], res, (g, n.saved[0]) if n.saved else (g,), attrs=n.attrs + (g._data.shape,))


def _avg_pool_apply(n: Any, gg: Tensor) -> Tensor:
    """The pooling itself with the saved divisor: the derivative of the average pooling's backward."""
    xshape, k, s, p, div, padded, gshape = n.attrs  # (gshape: this node's input, the pooled-shape grad)
    x = gg._data.reshape(xshape)
    o = gshape[-len(k):]
    out = (_window_sums(_pad_to(x, p, padded), k, s, o) / div).astype(x.dtype).reshape(gshape)
    return _and_input_zeros(n, record(_AVG_NODES[len(k)][0], out, (gg,), attrs=n.attrs[:6]))


_AVG_NODES = {nd: (node_class(f"avg_pool{nd}_d", _avg_pool_grads, "grad / divisor spread over each window",
                              layout="suggested"),
                   node_class(f"avg_pool{nd}_d_backward", _avg_pool_apply, "the pooling of grad"))
              for nd in (2, 3)}
AvgPool2DBackward0, AvgPool2DBackwardBackward0 = _AVG_NODES[2]


def _avg_pool(input: Tensor, nd: int, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
              count_include_pad: bool, divisor_override: int | None) -> Tensor:
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input")
    k = _pair(kernel_size, nd)
    s = _pair(stride, nd) if stride is not None and stride != [] else k
    p = _pair(padding, nd)
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    if nd == 3 and any(input.shape[-3 + i] < k[i] for i in range(3)):
        T, H, W = input.shape[-3:]
        raise RuntimeError(f"input image (T: {T} H: {H} W: {W}) smaller than kernel size "
                           f"(kT: {k[0]} kH: {k[1]} kW: {k[2]})")
    if any(p[i] > k[i] // 2 for i in range(nd)):
        if nd < 3:
            bad = next(i for i in range(nd) if p[i] > k[i] // 2)
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[bad]}, "
                               f"kernel_size={k[bad]} and dilation=1")
        raise RuntimeError("pad should be smaller than or equal to half of kernel size, but got "
                           f"kT: {k[0]} kW: {k[2]} kH: {k[1]} padT: {p[0]} padW: {p[2]} padH: {p[1]}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    x = input._data if input.dim() == nd + 2 else input._data[None]  # (unbatched: pooled as a batch of one)
    sp = x.shape[2:]
    o = tuple(_pool_out(sp[i], k[i], s[i], p[i], 1, ceil_mode) for i in range(nd))
    if any(v < 1 for v in o):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated output size: "
                           f"({'x'.join(map(str, (x.shape[1],) + o))}). Output size is too small")
    padded = tuple(max((o[i] - 1) * s[i] + k[i], sp[i] + 2 * p[i]) for i in range(nd))
    sums = _window_sums(_pad_to(x, p, padded), k, s, o)
    if divisor_override:
        div = np.asarray(divisor_override, dtype=x.dtype)
    else:
        div = np.ones((), np.int64)
        for i in range(nd):
            div = np.multiply.outer(div, _avg_divisor(sp[i], o[i], k[i], s[i], p[i], count_include_pad))
        div = div.astype(x.dtype)
    out = (sums / div).astype(x.dtype).reshape(sums.shape[input.dim() == nd + 1:])
    return record(_AVG_NODES[nd][0], out, (input,), (input,), attrs=(x.shape, k, s, p, div, padded))


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-d average pooling over (N, C, H, W) or (C, H, W) input."""
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """3-d average pooling over (N, C, D, H, W) or (C, D, H, W) input."""
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-d average pooling over (N, C, L) or (C, L) input (a 2-d pooling of height 1, as torch)."""
    k = _pair(kernel_size, 1)[0]
    s = _pair(stride, 1)[0] if stride is not None and stride != [] else k
    return avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, _pair(padding, 1)[0]), ceil_mode,
                      count_include_pad).squeeze(-2)


# ============================================================================ adaptive pooling
def _adaptive_matrix(size: int, out: int, dtype: Any) -> np.ndarray:
    m = np.zeros((out, size), dtype)
    for i in range(out):
        a = (i * size) // out
        b = -(-((i + 1) * size) // out)
        m[i, a:b] = 1.0 / (b - a)
    return m


def _along_axes(x: Any, mats: list) -> Any:
    """Apply matrix ``mats[i]`` along the i-th of the last len(mats) axes of ``x`` (NumPy array or
    ember Tensor: the same matmuls, differentiable in the latter)."""
    nd = len(mats)
    for i, m in enumerate(mats):
        ax = x.ndim - nd + i
        if ax == x.ndim - 1:
            x = x @ m.T
        elif ax == x.ndim - 2:
            x = m @ x
        else:
            x = (x.swapaxes(ax, -1) @ m.T).swapaxes(ax, -1) if isinstance(x, np.ndarray) else \
                (x.transpose(ax, -1) @ m.t()).transpose(ax, -1)
    return x


def _adaptive_avg_grads(n: Any, g: Any) -> Any:
    gx = _along_axes(g._data if isinstance(g, Tensor) else g, [np.ascontiguousarray(m.T) for m in n.attrs])
    if not isinstance(g, Tensor):
        return gx
    # under a graph an op of its own taking the input too (as torch's _adaptive_avg_pool_backward):
    # its derivative is the pooling of gg, and 0 in the input
    return record(_ADAPTIVE_AVG_BACKWARD[len(n.attrs)], np.ascontiguousarray(gx), (g, n.saved[0]), attrs=n.attrs)


_ADAPTIVE_AVG_NODES = {nd: node_class(f"adaptive_avg_pool{nd}_d", _adaptive_avg_grads, "A^T applied along each axis",
                                      on_arrays=True, layout="suggested") for nd in (2, 3)}
_ADAPTIVE_AVG_BACKWARD = {nd: node_class(f"adaptive_avg_pool{nd}_d_backward",
                                         lambda n, gg: _and_input_zeros(n, _along_axes(gg, [gm.const(m, gg) for m in n.attrs])),
                                         "the pooling of grad") for nd in (2, 3)}
AdaptiveAvgPool2DBackward0 = _ADAPTIVE_AVG_NODES[2]


def _adaptive_sizes(x: np.ndarray, output_size: Any, nd: int, fname: str) -> tuple:
    if x.ndim not in (nd + 1, nd + 2) or any(v == 0 for v in x.shape[-nd:]):
        raise RuntimeError(f"{fname}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(x.shape)}")
    os_ = _pair(output_size, nd)
    if len(os_) != nd:  # torch words it three ways
        if nd == 1:
            raise RuntimeError(f"{fname}() argument 'output_size' should contain one int (got {len(os_)})")
        if fname.startswith("adaptive_avg"):
            raise RuntimeError(f"{fname}: output_size must be {nd}")
        raise RuntimeError(f"{fname}(): internal error: output_size.size() must be {nd}")
    return tuple(x.shape[x.ndim - nd + i] if os_[i] is None else os_[i] for i in range(nd))


def _adaptive_avg(input: Tensor, output_size: Any, nd: int) -> Tensor:
    x = input._data
    o = _adaptive_sizes(x, output_size, nd, f"adaptive_avg_pool{nd}d")
    mats = [_adaptive_matrix(x.shape[x.ndim - nd + i], o[i], x.dtype) for i in range(nd)]
    if all(v == 1 for v in o):  # global average pooling: a mean, as torch computes it (MeanBackward1)
        return input.mean(tuple(range(-nd, 0)), keepdim=True)
    out = np.ascontiguousarray(_along_axes(x, mats))
    return record(_ADAPTIVE_AVG_NODES[nd], out, (input,), (input,), attrs=tuple(mats))


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed (H, W) output size (None keeps that input size)."""
    return _adaptive_avg(input, output_size, 2)


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed (D, H, W) output size (None keeps that input size)."""
    return _adaptive_avg(input, output_size, 3)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed length (a 2-d pooling of height 1, as torch)."""
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, _pair(output_size, 1)[0])).squeeze(-2)


def _adaptive_max(input: Tensor, output_size: Any, return_indices: bool, nd: int) -> Any:
    x = input._data
    o = _adaptive_sizes(x, output_size, nd, f"adaptive_max_pool{nd}d")
    lead, sp = x.shape[:-nd], x.shape[-nd:]
    xb = x.reshape((-1,) + sp)
    B = xb.shape[0]
    out = np.empty((B,) + o, x.dtype)
    idx = np.empty((B,) + o, np.int64)
    bounds = [[((i * sp[a]) // o[a], -(-((i + 1) * sp[a]) // o[a])) for i in range(o[a])] for a in range(nd)]
    rows = np.arange(B)
    for cell in np.ndindex(*o):
        box = [bounds[a][cell[a]] for a in range(nd)]
        blk = xb[(_ALL,) + tuple(slice(lo, hi) for lo, hi in box)].reshape(B, -1)
        am = blk.argmax(-1)
        out[(_ALL,) + cell] = blk[rows, am]
        pos = np.unravel_index(am, tuple(hi - lo for lo, hi in box))
        flat = np.zeros(B, np.int64)
        for a in range(nd):
            flat = flat * sp[a] + pos[a] + box[a][0]
        idx[(_ALL,) + cell] = flat
    plane = (np.arange(B) * int(np.prod(sp))).reshape((B,) + (1,) * nd)
    res = record(_ADAPTIVE_MAX_NODES[nd], out.reshape(lead + o), (input,), (input,), attrs=(x.shape, idx + plane))
    if return_indices:
        return res, _new(idx.reshape(lead + o))
    return res


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to a fixed (H, W) output size (None keeps that input size)."""
    return _adaptive_max(input, output_size, return_indices, 2)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to a fixed (D, H, W) output size (None keeps that input size)."""
    return _adaptive_max(input, output_size, return_indices, 3)


# ============================================================================ max unpooling
def _unpool_grads(n: Any, g: Tensor) -> Tensor:
    # the unpooling wrote input element i at flat position idx[i] of its plane: read it back there
    # (a gather in ember ops, so that it differentiates again)
    idx, in_shape, nd = n.attrs
    B = int(np.prod(in_shape[:-nd]))
    return g.reshape(B, -1).gather(1, _new(idx.reshape(B, -1))).reshape(in_shape)


_UNPOOL_NODES = {nd: node_class(f"max_unpool{nd}_d", _unpool_grads, "grad read at the indices") for nd in (2, 3)}


def _max_unpool(input: Tensor, indices: Tensor, nd: int, kernel_size: Any, stride: Any, padding: Any,
                output_size: Any) -> Tensor:
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Input to max_unpooling{nd}d should be a {nd + 1}d or {nd + 2}d Tensor, but got a tensor "
                           f"with {input.dim()} dimensions.")
    k = _pair(kernel_size, nd)
    s = _pair(stride, nd) if stride is not None and stride != [] else k
    p = _pair(padding, nd)
    x, ind = input._data, indices._data
    sp_in, lead = x.shape[-nd:], x.shape[:-nd]
    default = tuple((sp_in[i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd))
    if output_size is None:
        out_sp = default
    else:
        out_sp = tuple(output_size)[-nd:]
        if len(tuple(output_size)) not in (nd, nd + 2):
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has "
                             f"a length of '{len(tuple(output_size))}'")
        for i in range(nd):
            lo, hi = default[i] - s[i], default[i] + s[i]
            if not lo < out_sp[i] < hi:
                raise ValueError(f'invalid output_size "{list(out_sp)}" (dim {i} must be between {lo} and {hi})')
    if ind.shape != x.shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({list(x.shape)}) but "
                           f"got indices tensor with shape: {list(ind.shape)}")
    B, size = int(np.prod(lead)), int(np.prod(out_sp))
    flat = ind.reshape(B, -1)
    if flat.size and (flat.min() < 0 or flat.max() >= size):
        bad = int(flat.max() if flat.max() >= size else flat.min())
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(map(str, out_sp))})")
    out = np.zeros((B, size), x.dtype)
    out[np.arange(B)[:, None], flat] = x.reshape(B, -1)
    return record(_UNPOOL_NODES[nd], out.reshape(lead + out_sp), (input,), attrs=(ind, x.shape, nd))


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """The partial inverse of max_pool1d: each value put back at its index, zeros elsewhere."""
    k = _pair(kernel_size, 1)[0]
    s = _pair(stride, 1)[0] if stride is not None and stride != [] else k
    osz = None if output_size is None else (1,) + tuple(output_size)[-1:]
    return max_unpool2d(input.unsqueeze(-2), indices.unsqueeze(-2), (1, k), (1, s), (0, _pair(padding, 1)[0]),
                        osz).squeeze(-2)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """The partial inverse of max_pool2d: each value put back at its index, zeros elsewhere."""
    return _max_unpool(input, indices, 2, kernel_size, stride, padding, output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """The partial inverse of max_pool3d: each value put back at its index, zeros elsewhere."""
    return _max_unpool(input, indices, 3, kernel_size, stride, padding, output_size)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to a fixed length (a 2-d pooling of height 1, as torch)."""
    r = adaptive_max_pool2d(input.unsqueeze(-2), (1, _pair(output_size, 1)[0]), return_indices)
    if return_indices:
        return r[0].squeeze(-2), r[1].squeeze(-2)
    return r.squeeze(-2)
