"""Convolutions of any spatial rank (conv1d/2d/3d and their transposes) as im2col + GEMM in NumPy.

One implementation serves every rank: the spatial dimensions are handled as tuples, and the
window offsets are enumerated with ``itertools.product``. The derivative is an op of its own,
``convolution_backward`` (NumPy GEMMs on the forward's saved columns), whose own derivative is
written with the convolution and ``convolution_backward`` again: one derivative, any order.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._autocast import autocast_op
from .._tensor import Tensor, _new
from ..ops._core import _c, node_class, record, record_outputs, select_np
from ..ops._grad_math import also_reads

_ALL = slice(None)


def _dn(x: np.ndarray) -> str:
    from .. import _dtype
    from ..ops.reduction import _LEGACY_NAMES

    return _LEGACY_NAMES[_dtype._FROM_NP[x.dtype].name]


def _check_conv_dtypes(x: np.ndarray, w: np.ndarray, bias: Any) -> None:
    # torch checks the bias first, naming C++ types, then the weight, naming legacy ones
    if bias is not None and bias._data.dtype != x.dtype:
        raise RuntimeError(f"Input type ({_dn(x).lower()}) and bias type ({_dn(bias._data).lower()}) should be "
                           "the same")
    if x.dtype != w.dtype:
        raise RuntimeError(f"expected scalar type {_dn(x)} but found {_dn(w)}")


def _pair(v: Any, n: int = 2) -> tuple:
    """An int or a sequence -> a tuple of ``n`` (a one-element sequence is repeated)."""
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return tuple(v) * n
        return tuple(v)
    return (v,) * n


def _window_offsets(k: tuple, s: tuple, d: tuple, o: tuple) -> list:
    """(offset, spatial slices) for every window element: the strided slices that window element
    ``offset`` reads for every output position (built once per call: the loops over them are hot)."""
    per_dim = [[slice(i * dd, i * dd + ss * (oo - 1) + 1, ss) for i in range(kk)] for kk, ss, dd, oo in zip(k, s, d, o)]
    return list(zip(itertools.product(*map(range, k)), itertools.product(*per_dim)))


def _windows(xp: np.ndarray, k: tuple, s: tuple, d: tuple) -> np.ndarray:
    """(N, C, *spatial) -> a strided view (N, C, *k, *out) of the receptive fields."""
    sp = xp.shape[2:]
    o = tuple((sp[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(len(k)))
    st = xp.strides
    strides = st[:2] + tuple(st[2 + i] * d[i] for i in range(len(k))) + tuple(st[2 + i] * s[i] for i in range(len(k)))
    return as_strided(xp, xp.shape[:2] + tuple(k) + o, strides, writeable=False)


def _pad_nd(x: np.ndarray, pads: tuple, value: float = 0.0) -> np.ndarray:
    """Pad the spatial dims by ``pads`` = (lo0, hi0, lo1, hi1, ...)."""
    if not any(pads):
        return x
    return np.pad(x, ((0, 0), (0, 0)) + tuple(zip(pads[::2], pads[1::2])), constant_values=value)


def _interior(pads: tuple, sp: tuple) -> tuple:
    """The slices of a padded spatial shape ``sp`` that hold the unpadded input."""
    return tuple(slice(pads[2 * i], sp[i] - pads[2 * i + 1]) for i in range(len(sp)))


def _col2im(cols: np.ndarray, shape: tuple, s: tuple, d: tuple) -> np.ndarray:
    """Sum (N, C, *k, *out) window values back into a (N, C, *spatial) array."""
    nd = len(s)
    k, o = cols.shape[2:2 + nd], cols.shape[2 + nd:]
    out = np.zeros(shape, cols.dtype)
    for off, sl in _window_offsets(k, s, d, o):
        out[(_ALL, _ALL) + sl] += cols[(_ALL, _ALL) + off]
    return out


def _col2im_channel_major(cols: np.ndarray, shape: tuple, s: tuple, d: tuple) -> np.ndarray:
    """Sum (C, *k, N, *out) window values into a (N, C, *spatial) view, accumulating in the
    columns' own channel-major order so each strided add reads contiguous memory."""
    nd = len(s)
    k, N, o = cols.shape[1:1 + nd], cols.shape[1 + nd], cols.shape[2 + nd:]
    out = np.zeros((cols.shape[0], N) + tuple(shape[2:]), cols.dtype)
    for off, sl in _window_offsets(k, s, d, o):
        out[(_ALL, _ALL) + sl] += cols[(_ALL,) + off]
    return out.swapaxes(0, 1)


# Stride-1 convolutions use "flat shift" im2col: with the padded images laid end to end per
# channel, xf = (C, N*prod(padded)), window element (i, j, ...) of output position m is input
# position m + i*off0 + j*off1 + ..., so each im2col row is one contiguous slice of xf and col2im
# adds whole rows. Outputs are computed at every padded position and cropped after. The columns
# are built, used and dropped a block of positions at a time, so they stay in cache and only xf
# (the size of the input) is kept for backward. A dim's high padding is not stored when the next
# row's (or image's) low padding can stand in for it (``_flat_pads``): a 3x3 "same" convolution
# of 28x28 images computes 29x29 positions per image instead of 30x30.
_FLAT_BLOCK_BYTES = 4 << 20  # im2col block size: well inside the last-level cache


def _flat_pads(pads: tuple, k: tuple, dil: tuple) -> tuple:
    """The padding the flat layout stores: a window that runs past a row's (image's) end reads
    the next row's (image's) low padding, zeros too, so the high padding can be left out where it
    is no wider than the low one and no output starts inside it."""
    out: list = []
    for i in range(len(k)):
        lo, hi = pads[2 * i], pads[2 * i + 1]
        out += [lo, 0 if hi <= lo and hi <= dil[i] * (k[i] - 1) else hi]
    return tuple(out)


def _zero_outside(a: np.ndarray, keep: tuple) -> None:
    """Zero every element of ``a`` (C, N, *spatial) outside the spatial box ``keep`` (slices),
    touching only the border slabs, not the interior that is written next."""
    for i, sl in enumerate(keep):
        lead = (_ALL,) * (2 + i)
        if sl.start:
            a[lead + (slice(0, sl.start),)] = 0
        if sl.stop < a.shape[2 + i]:
            a[lead + (slice(sl.stop, None),)] = 0


def _flat_input(x: np.ndarray, pads: tuple, tail: int) -> np.ndarray:
    """(N, C, *spatial) -> (C, N*prod(padded) + tail): padded images end to end, zeros after."""
    N, C = x.shape[:2]
    sp = tuple(x.shape[2 + i] + pads[2 * i] + pads[2 * i + 1] for i in range(x.ndim - 2))
    P = N * math.prod(sp)
    xf = np.empty((C, P + tail), x.dtype)
    img = xf[:, :P].reshape((C, N) + sp)
    inner = _interior(pads, sp)
    _zero_outside(img, inner)
    img[(_ALL, _ALL) + inner] = x.swapaxes(0, 1)
    xf[:, P:] = 0
    return xf


def _flat_blocks(P: int, K: int, itemsize: int) -> list:
    step = max(1024, _FLAT_BLOCK_BYTES // (K * itemsize))
    return [(p0, min(P, p0 + step)) for p0 in range(0, P, step)]


def _flat_cols(xf: np.ndarray, p0: int, p1: int, k: tuple, offs: tuple) -> np.ndarray:
    """The im2col columns of positions p0..p1: (C*prod(k), p1-p0), one contiguous copy."""
    s0, s1 = xf.strides
    win = as_strided(xf[:, p0:], (xf.shape[0],) + tuple(k) + (p1 - p0,), (s0,) + tuple(o * s1 for o in offs) + (s1,),
                     writeable=False)
    return np.ascontiguousarray(win).reshape(-1, p1 - p0)


def _flat_offsets(sp: tuple, d: tuple) -> tuple:
    return tuple(d[i] * math.prod(sp[i + 1:]) for i in range(len(sp)))


def _to_batch_major(src: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """(O, N, *out)-ordered GEMM output -> contiguous (N, O, *out), plus the bias."""
    out = np.empty((src.shape[1], src.shape[0]) + src.shape[2:], src.dtype)
    np.copyto(out, src.swapaxes(0, 1))
    if b is not None:
        out += b.reshape((1, -1) + (1,) * (src.ndim - 2))  # (faster than adding during the transposing copy)
    return out


def _conv_columns(x: np.ndarray, k: tuple, stride: tuple, pads: tuple, dil: tuple, groups: int) -> tuple:
    """What the GEMMs read for a convolution of ``x`` by kernels of size ``k``: (the flat padded
    input or the im2col columns, the padded shape, flat). Flat (the window offsets as shifts of one
    flat copy) when the stride is 1, unless cropping would waste a third."""
    N, C = x.shape[:2]
    nd = len(k)
    lay = _flat_pads(pads, k, dil)
    sp = tuple(x.shape[2 + i] + lay[2 * i] + lay[2 * i + 1] for i in range(nd))
    o = tuple(x.shape[2 + i] + pads[2 * i] + pads[2 * i + 1] - dil[i] * (k[i] - 1) for i in range(nd))
    if all(s == 1 for s in stride) and math.prod(o) * 3 >= math.prod(sp) * 2:
        offs = _flat_offsets(sp, dil)
        return _flat_input(x, lay, sum(off * (kk - 1) for off, kk in zip(offs, k))), (N, C) + sp, True
    xp = _pad_nd(x, pads)
    win = _windows(xp, k, stride, dil)  # (N, C, *k, *out) view
    o = win.shape[2 + nd:]
    # im2col in one copy, laid out (G, Cg*prod(k), N*L) so that each group is a single large GEMM
    cols = win.transpose((1,) + tuple(range(2, 2 + nd)) + (0,) + tuple(range(2 + nd, 2 + 2 * nd)))
    return cols.reshape(groups, C // groups * math.prod(k), N * math.prod(o)), xp.shape, False


def _conv_forward(x: np.ndarray, w: np.ndarray, stride: tuple, pads: tuple, dil: tuple, groups: int,
                  bias: np.ndarray | None = None, relu: bool = False) -> tuple:
    """The convolution (plus ``bias``) as one GEMM per group over im2col columns; returns (out,
    saved columns or flat input, padded shape, flat). ``relu``: the result's relu instead (what
    ``ember.compile`` replays for a convolution whose output only a relu reads; the same
    ``maximum`` as ``pointwise._relu_np``, on each block while it is in cache)."""
    O, Cg = w.shape[:2]
    k = w.shape[2:]
    nd = len(k)
    G = groups
    K = Cg * math.prod(k)
    wm = w.reshape(G, O // G, K)
    data, xp_shape, flat = _conv_columns(x, k, stride, pads, dil, groups)
    N, C = xp_shape[:2]
    sp = xp_shape[2:]
    if flat:
        o = tuple(x.shape[2 + i] + pads[2 * i] + pads[2 * i + 1] - dil[i] * (k[i] - 1) for i in range(nd))
        img = math.prod(sp)
        offs = _flat_offsets(sp, dil)
        bias_col = None if bias is None else bias.reshape(G, O // G, 1)
        crop = (_ALL, _ALL) + tuple(slice(0, oo) for oo in o)
        per = _FLAT_BLOCK_BYTES // (C * K // Cg * x.itemsize * img)  # whole images per block
        if per:
            # blocks of whole images: each block's output is cropped into the (N, O, *out) result
            # while it is in cache (no pass over the whole output afterwards)
            out = np.empty((N, O) + o, x.dtype)
            buf = np.empty((G, O // G, min(N, per) * img), x.dtype)
            for n0 in range(0, N, per):
                n1 = min(N, n0 + per)
                blk = buf[:, :, :(n1 - n0) * img]
                np.matmul(wm, _flat_cols(data, n0 * img, n1 * img, k, offs).reshape(G, K, -1), out=blk)
                if bias_col is not None:
                    blk += bias_col
                if relu:
                    np.maximum(np.zeros_like(blk), blk, out=blk)
                np.copyto(out[n0:n1], blk.reshape((O, n1 - n0) + sp)[crop].swapaxes(0, 1))
            return out, data, xp_shape, True
        P = N * img
        full = np.empty((G, O // G, P), x.dtype)
        for p0, p1 in _flat_blocks(P, C * K // Cg, x.itemsize):
            blk = full[:, :, p0:p1]
            np.matmul(wm, _flat_cols(data, p0, p1, k, offs).reshape(G, K, p1 - p0), out=blk)
            if bias_col is not None:
                blk += bias_col  # while the block is in cache
            if relu:
                np.maximum(np.zeros_like(blk), blk, out=blk)
        return _to_batch_major(full.reshape((O, N) + sp)[crop], None), data, xp_shape, True
    o = tuple((sp[i] - dil[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd))
    out = np.matmul(wm, data)  # (G, O/G, N*L): channel o = g*(O/G) + j, as in torch's weight layout
    res = _to_batch_major(out.reshape((O, N) + o), bias)
    if relu:
        np.maximum(np.zeros_like(res), res, out=res)
    return res, data, xp_shape, False


def _conv_grads_images(gd: np.ndarray, w: np.ndarray, xf: np.ndarray, xp_shape: tuple, pads: tuple, dil: tuple,
                       G: int, needs: tuple, per: int, relu_out: np.ndarray | None = None) -> tuple:
    """``_conv_grads_flat`` a block of ``per`` whole images at a time: the block's output gradient
    is laid out channel-major (zero at the cropped positions) in a buffer reused by every block,
    read by both GEMMs while in cache, and its input gradient is cropped into the batch-major
    result as soon as it is complete. (Window element ``off`` of position p adds to input position
    p + off, so once a block is done every position before its end is final; the ``halo`` of
    positions after it is carried into the next block's buffer.) ``relu_out``: ``gd`` is the
    gradient of the relu of the output, whose backward (``threshold_backward``, the same
    ``select_np``) is applied to each block on the way in."""
    N, O = gd.shape[:2]
    o = gd.shape[2:]
    Cg, k = w.shape[1], w.shape[2:]
    C, sp = xp_shape[1], xp_shape[2:]
    img, K = math.prod(sp), Cg * math.prod(k)
    offs = _flat_offsets(sp, dil)
    halo = sum(off * (kk - 1) for off, kk in zip(offs, k))
    starts = [sum(i * s for i, s in zip(off, offs)) for off in itertools.product(*map(range, k))]
    keep = (_ALL, _ALL) + tuple(slice(0, oo) for oo in o)
    inner = (_ALL, _ALL) + _interior(pads, sp)
    per = min(per, max(N, 1))  # (an empty batch: no block)
    gbuf = np.empty((O, per) + sp, gd.dtype)
    _zero_outside(gbuf, keep[2:])  # (the interior is written by every block)
    wt = w.reshape(G, O // G, K).transpose(0, 2, 1)
    gwm: Any = np.zeros((G, Cg, len(starts), O // G), gd.dtype) if needs[1] else None
    gb: Any = np.zeros(O, gd.dtype) if len(needs) > 2 and needs[2] else None
    gx: Any = None
    if needs[0]:
        gx = np.empty((N, C) + tuple(xp_shape[2 + i] - pads[2 * i] - pads[2 * i + 1] for i in range(len(sp))), gd.dtype)
        dbuf = np.zeros((C, per * img + halo), gd.dtype)
    for n0 in range(0, N, per):
        n1 = min(N, n0 + per)
        L = (n1 - n0) * img
        gblk = gbuf[:, :n1 - n0]
        g_in = gd[n0:n1] if relu_out is None else select_np(gd[n0:n1], ~(relu_out[n0:n1] <= 0))
        gblk[keep] = g_in.swapaxes(0, 1)
        g2 = gblk.reshape(G, O // G, L)
        if gb is not None:
            gb += gblk.reshape(O, L).sum(1)
        if needs[1]:
            # columns @ g^T (K x O), one GEMM per image summed: a single GEMM over the block's long
            # inner dimension is up to 5x slower when K and O are small (OpenBLAS splits no sum).
            # With 8 or more channels per group, one GEMM per window element reads xf itself (its
            # rows shifted: no im2col copy); below that BLAS does better on the copied columns.
            gT = g2.reshape(G, O // G, n1 - n0, img).transpose(0, 2, 3, 1)
            if Cg >= 8:
                for j, start in enumerate(starts):
                    xv = xf[:, n0 * img + start:n0 * img + start + L].reshape(G, Cg, n1 - n0, img)
                    gwm[:, :, j] += np.matmul(xv.transpose(0, 2, 1, 3), gT).sum(1)
            else:
                cols = _flat_cols(xf, n0 * img, n1 * img, k, offs).reshape(G, K, n1 - n0, img).transpose(0, 2, 1, 3)
                gwm.reshape(G, K, O // G)[...] += np.matmul(cols, gT).sum(1)
        if needs[0]:
            dcols = np.matmul(wt, g2).reshape(C, -1, L)
            for j, start in enumerate(starts):
                dbuf[:, start:start + L] += dcols[:, j]
            np.copyto(gx[n0:n1], dbuf[:, :L].reshape((C, n1 - n0) + sp)[inner].swapaxes(0, 1))
            dbuf[:, :halo] = dbuf[:, L:L + halo]
            dbuf[:, halo:] = 0
    gw = np.ascontiguousarray(gwm.reshape(G, K, O // G).transpose(0, 2, 1)).reshape(w.shape) if needs[1] else None
    return gx, gw, gb


def _conv_grads_flat(gd: np.ndarray, w: np.ndarray, xf: np.ndarray, xp_shape: tuple, pads: tuple, dil: tuple,
                     G: int, needs: tuple, relu_out: np.ndarray | None = None) -> tuple:
    N, O = gd.shape[:2]
    o = gd.shape[2:]
    Cg, k = w.shape[1], w.shape[2:]
    C, sp = xp_shape[1], xp_shape[2:]
    P, K = N * math.prod(sp), Cg * math.prod(k)
    pads = _flat_pads(pads, k, dil)  # (as the forward laid out xf)
    per = _FLAT_BLOCK_BYTES // (C * K // Cg * gd.itemsize * math.prod(sp))
    if per:
        return _conv_grads_images(gd, w, xf, xp_shape, pads, dil, G, needs, per, relu_out)
    if relu_out is not None:
        gd = select_np(gd, ~(relu_out <= 0))
    offs = _flat_offsets(sp, dil)
    # the output gradient at every padded position, zero where outputs were cropped away
    gf = np.empty((O, N) + sp, gd.dtype)
    keep = tuple(slice(0, oo) for oo in o)
    _zero_outside(gf, keep)
    gf[(_ALL, _ALL) + keep] = gd.swapaxes(0, 1)
    g2 = gf.reshape(G, O // G, P)
    wt = w.reshape(G, O // G, K).transpose(0, 2, 1)
    dxf: Any = np.zeros_like(xf) if needs[0] else None  # (used only where needs says it exists)
    gwm: Any = np.zeros((G, K, O // G), gd.dtype) if needs[1] else None
    for p0, p1 in _flat_blocks(P, C * K // Cg, gd.itemsize):
        g_blk = g2[:, :, p0:p1]
        if needs[1]:
            # cols @ g^T (K x O): the orientation OpenBLAS splits well across threads
            gwm += np.matmul(_flat_cols(xf, p0, p1, k, offs).reshape(G, K, p1 - p0), g_blk.transpose(0, 2, 1))
        if needs[0]:
            dcols = np.matmul(wt, g_blk).reshape((C,) + tuple(k) + (p1 - p0,))
            for off in itertools.product(*map(range, k)):
                start = p0 + sum(i * s for i, s in zip(off, offs))
                dxf[:, start:start + p1 - p0] += dcols[(_ALL,) + off]
    gx = gw = gb = None
    if len(needs) > 2 and needs[2]:
        gb = gf.reshape(O, P).sum(1)  # rows of gf are contiguous: faster than summing gd over N and space
    if needs[0]:
        dxp = dxf[:, :P].reshape((C, N) + sp)[(_ALL, _ALL) + _interior(pads, sp)]
        gx = np.ascontiguousarray(dxp.swapaxes(0, 1))
    if needs[1]:
        gw = np.ascontiguousarray(gwm.transpose(0, 2, 1)).reshape(w.shape)
    return gx, gw, gb


def _conv_grads_windows(gd: np.ndarray, w: np.ndarray, cols: np.ndarray, xp_shape: tuple, stride: tuple,
                        pads: tuple, dil: tuple, G: int, needs: tuple) -> tuple:
    N, O = gd.shape[:2]
    o = gd.shape[2:]
    Cg, k = w.shape[1], w.shape[2:]
    g2 = gd.swapaxes(0, 1).reshape(G, O // G, N * math.prod(o))  # the GEMM layout (G, O/G, N*L)
    gx = gw = gb = None
    if needs[0]:
        wm = w.reshape(G, O // G, -1)
        dcols = np.matmul(wm.transpose(0, 2, 1), g2)  # (G, K, N*L)
        dxp = _col2im_channel_major(dcols.reshape((G * Cg,) + tuple(k) + (N,) + o), xp_shape, stride, dil)
        gx = np.ascontiguousarray(dxp[(_ALL, _ALL) + _interior(pads, xp_shape[2:])])
    if needs[1]:
        # summed over the batch; computed as cols @ g2^T (K x O), the orientation OpenBLAS splits
        # well across threads (g2 @ cols^T, with its long inner dimension, can be 100x slower)
        gw = np.ascontiguousarray(np.matmul(cols, g2.transpose(0, 2, 1)).transpose(0, 2, 1)).reshape(w.shape)
    if len(needs) > 2 and needs[2]:
        gb = gd.sum(axis=(0,) + tuple(range(2, gd.ndim)))
    return gx, gw, gb


# ---------------------------------------------------------------------------- the derivative, once
def convolution_backward(g: Tensor, x: Tensor, w: Tensor, conf: tuple, needs: tuple,
                         columns: tuple | None = None) -> tuple:
    """(grad_input, grad_weight, grad_bias) of the convolution of ``x`` by ``w`` for the output
    gradient ``g`` (None where ``needs`` is False): an op of its own, as torch's
    convolution_backward, computed with NumPy GEMMs (on the forward's saved ``columns`` when given).
    Recorded when a graph is being built: its derivative, ConvolutionBackwardBackward0, is written
    with the convolution and this op again, so every order of derivative comes from these two."""
    stride, pads, dil, groups = conf
    if x._data.shape[1] == 0:  # no input channels: nothing reaches the output, every gradient is zeros
        z = (x._data.shape, w._data.shape, w._data.shape[:1])
        outs = tuple(_new(np.zeros(s, g._data.dtype)) if k < len(needs) and needs[k] else None for k, s in enumerate(z))
        record_outputs(ConvolutionBackwardBackward0, outs, (g, x, w), (g, x, w), attrs=conf)
        return outs
    if columns is None:
        columns = _conv_columns(x._data, tuple(w.shape[2:]), stride, pads, dil, groups)
    data, xp_shape, flat = columns
    gd, wd, data = g._data, _c(w._data), _c(data)  # (complex: the adjoint conjugates the other operand)
    if flat:
        grads = _conv_grads_flat(gd, wd, data, xp_shape, pads, dil, groups, needs)
    else:
        grads = _conv_grads_windows(gd, wd, data, xp_shape, stride, pads, dil, groups, needs)
    outs = tuple(None if a is None else _new(a) for a in grads)
    record_outputs(ConvolutionBackwardBackward0, outs, (g, x, w), (g, x, w), attrs=conf)
    return outs


def _conv_grads(n: Any, g: Tensor) -> tuple:
    stride, pads, dil, groups, cols, xp_shape, flat = n.attrs
    return convolution_backward(g, n.saved[0], n.saved[1], (stride, pads, dil, groups), n.needs,
                                (cols, xp_shape, flat))


def _conv_double_backward(n: Any, gs: list) -> tuple:
    # grad_input = J_x^H g and grad_weight = J_w^H g are linear in g, and each in the other operand:
    # their adjoints are the convolution itself (for g) and convolution_backward (for x and w)
    ggx, ggw, ggb = gs
    g, x, w = n.saved
    stride, pads, dil, groups = conf = n.attrs
    dg = dx = dw = None
    if x._data.size == 0:  # no input elements (so no output elements): torch's gradients here are None
        return None, None, None
    if n.needs[0]:
        terms = []
        if ggx is not None:
            terms.append(_conv_op(ggx, w, None, stride, pads, dil, groups))
        if ggw is not None:
            terms.append(_conv_op(x, ggw, None, stride, pads, dil, groups))
        if ggb is not None:
            terms.append(ggb.reshape((1, -1) + (1,) * (g.dim() - 2)).expand(tuple(g.shape)))
        for t in terms:
            dg = t if dg is None else dg + t
    if n.needs[1] and ggw is not None:
        dx = convolution_backward(g, x, ggw, conf, (True, False))[0]
    if n.needs[2] and ggx is not None:
        dw = convolution_backward(g, ggx, w, conf, (False, True))[1]
    return dg, dx, dw


ConvolutionBackward0 = node_class("convolution", _conv_grads,
                                  "grad_input, grad_weight, grad_bias of the convolution", layout="suggested")
ConvolutionBackwardBackward0 = node_class(
    "convolution_backward", _conv_double_backward,
    "conv(gg_input, weight) + conv(input, gg_weight) + gg_bias, input and weight grads by gg", n_outputs=3)


def _conv_pads(padding: Any, k: tuple, dil: tuple, nd: int) -> tuple:
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0) * nd
        if padding == "same":
            out = []
            for kk, dd in zip(k, dil):
                total = dd * (kk - 1)
                out += [total // 2, total - total // 2]
            return tuple(out)
        raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
    p = _pair(padding, nd)
    return tuple(v for pp in p for v in (pp, pp))


def _check_arg(name: str, v: tuple, nd: int) -> None:
    if len(v) != nd:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} values to match the "
                           f"convolution dimensions, but got {name}={list(v)}")
    # torch's value checks (a zero stride would otherwise divide by zero in the output size)
    if name == "stride" and any(x <= 0 for x in v):
        raise RuntimeError("non-positive stride is not supported")
    if name == "dilation" and any(x <= 0 for x in v):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(v)}")
    if name == "padding" and any(x < 0 for x in v):
        raise RuntimeError("negative padding is not supported")


def _unbatched(input: Tensor, nd: int, fname: str) -> bool:
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fname}, but got input "
                           f"of size: {list(input.shape)}")
    return input.dim() == nd + 1


def _convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any, dilation: Any,
                 groups: int, fname: str | None = None) -> Tensor:
    """The N-d convolution, N taken from the weight (``fname``: the public name, for input checks)."""
    nd = weight.dim() - 2
    if fname is not None and _unbatched(input, nd, fname):
        return _convolution(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    x, w = input._data, weight._data
    if x.ndim != nd + 2:
        raise RuntimeError(f"Expected {nd + 2}-dimensional input for {nd + 2}-dimensional weight {list(w.shape)}, "
                           f"but got {x.ndim}-dimensional input of size {list(x.shape)} instead")
    stride, dil = _pair(stride, nd), _pair(dilation, nd)
    _check_arg("stride", stride, nd)
    _check_arg("dilation", dil, nd)
    if isinstance(padding, str) and padding == "same" and any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    if not isinstance(padding, str):
        _check_arg("padding", _pair(padding, nd), nd)
    pads = _conv_pads(padding, w.shape[2:], dil, nd)
    if w.shape[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {list(w.shape)} instead")
    if w.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{list(w.shape)}] instead")
    if x.shape[1] != w.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(w.shape)}, expected input{list(x.shape)} to have "
            f"{w.shape[1] * groups} channels, but got {x.shape[1]} channels instead")
    _check_conv_dtypes(x, w, bias)
    if x.dtype == np.bool_:
        raise NotImplementedError(f"\"{'compute_columns3d' if nd == 3 else 'slow_conv2d_cpu'}\" not implemented for 'Bool'")
    if bias is not None and bias._data.shape != (w.shape[0],):
        raise RuntimeError(f"Given weight of size {list(w.shape)}, expected bias to be 1-dimensional with "
                           f"{w.shape[0]} elements, but got bias of size {list(bias._data.shape)} instead")
    k_eff = [dil[i] * (w.shape[2 + i] - 1) + 1 for i in range(nd)]
    padded = [x.shape[2 + i] + pads[2 * i] + pads[2 * i + 1] for i in range(nd)]
    if any(p < kk for p, kk in zip(padded, k_eff)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
            f"({' x '.join(map(str, k_eff))}). Kernel size can't be greater than actual input size")
    if x.size == 0 and x.shape[0] and x.shape[1]:  # an empty spatial dim (torch shows conv1d's input as 2-d)
        shape = list(x.shape) if nd != 1 else [x.shape[0], x.shape[1], 1, x.shape[2]]
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got input shape: {shape}")
    if x.shape[1] == 0:  # no input channels: torch's kernel gives an (N, 0, ...) result whatever the weight
        sp = tuple((padded[i] - k_eff[i]) // stride[i] + 1 for i in range(nd))
        out = np.zeros((x.shape[0], 0) + sp, x.dtype)
        inputs = (input, weight, bias) if bias is not None else (input, weight)
        return record(ConvolutionBackward0, out, inputs, (input, weight), attrs=(stride, pads, dil, groups, None, None, None))
    return _conv_op(input, weight, bias, stride, pads, dil, groups)


def _conv_op(input: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple, pads: tuple, dil: tuple,
             groups: int) -> Tensor:
    """The recorded convolution, its arguments checked and normalised (``pads``: lo, hi per dim)."""
    b = None if bias is None else bias._data
    out, cols, xp_shape, flat = _conv_forward(input._data, weight._data, stride, pads, dil, groups, b)
    inputs = (input, weight, bias) if bias is not None else (input, weight)
    return record(ConvolutionBackward0, out, inputs, (input, weight),
                  attrs=(stride, pads, dil, groups, cols, xp_shape, flat))


@autocast_op("lower")
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-d convolution over (N, C, L) or (C, L) input."""
    return _convolution(input, weight, bias, stride, padding, dilation, groups, "conv1d")


@autocast_op("lower")
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-d convolution over (N, C, H, W) or (C, H, W) input."""
    return _convolution(input, weight, bias, stride, padding, dilation, groups, "conv2d")


@autocast_op("lower")
def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-d convolution over (N, C, D, H, W) or (C, D, H, W) input."""
    return _convolution(input, weight, bias, stride, padding, dilation, groups, "conv3d")


# ============================================================================ transposed
def _convt_grads(n: Any, g: Tensor) -> tuple:
    # the transposed convolution is the convolution's input adjoint: <g, convT(x, w)> = <conv(g, w), x>
    x, w = n.saved
    stride, pads, dil, groups, _ = n.attrs
    sp_in = x.shape[2:]
    gx = gw = gb = None
    if n.needs[0]:
        gx = _conv_op(g, _c(w), None, stride, pads, dil, groups)[(_ALL, _ALL) + tuple(slice(0, s) for s in sp_in)]
    if n.needs[1]:
        gw = _c(convolution_backward(x, g, w, (stride, pads, dil, groups), (False, True))[1])
    if len(n.needs) > 2 and n.needs[2]:
        # (torch's convolution_backward takes x and w; its double backward leaves them no gradient from gb)
        gb = also_reads(g.sum((0,) + tuple(range(2, g.dim()))), x, w, zeros=False)
    return gx, gw, gb


ConvolutionBackward0T = node_class("convolution", _convt_grads, "grad of the transposed convolution", layout="suggested")


def _conv_transpose(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
                    output_padding: Any, groups: int, dilation: Any, fname: str | None = None) -> Tensor:
    """The N-d transposed convolution (the adjoint of the convolution, scattered by col2im)."""
    nd = weight.dim() - 2
    if fname is not None and _unbatched(input, nd, fname):
        return _conv_transpose(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                               dilation).squeeze(0)
    if isinstance(padding, str):
        raise TypeError(f"{fname}(): argument 'padding' must be tuple of ints, not str")
    x, w = input._data, weight._data
    stride, dil, opad, p = (_pair(v, nd) for v in (stride, dilation, output_padding, padding))
    for name, v in (("stride", stride), ("padding", p), ("dilation", dil), ("output_padding", opad)):
        _check_arg(name, v, nd)
    N, Cin = x.shape[:2]
    sp_in = x.shape[2:]
    if w.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{list(w.shape)}] instead")
    if Cin != w.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(w.shape)}, expected input{list(x.shape)} to have "
            f"{w.shape[0]} channels, but got {Cin} channels instead")
    _check_conv_dtypes(x, w, bias)
    if any(op >= s and op >= d for op, s, d in zip(opad, stride, dil)):
        o_, s_, d_ = (((0,) + v if nd == 1 else v) for v in (opad, stride, dil))  # (1-d: torch's 2-d text)
        names = ("depth", "height", "width")[-len(o_):]
        text = " ".join(f"{what}_{n}: {v}" for what, vals in (("output_padding", o_), ("stride", s_),
                                                                ("dilation", d_)) for n, v in zip(names, vals))
        if nd == 1:
            text = text.replace("stride_height: 0", "stride_height: 1").replace("dilation_height: 0",
                                                                                "dilation_height: 1")
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got {text}")
    Og, k = w.shape[1], w.shape[2:]
    G = groups
    Cg = Cin // G
    sp = tuple((sp_in[i] - 1) * stride[i] + dil[i] * (k[i] - 1) + 1 + opad[i] for i in range(nd))
    out_sp = tuple(sp[i] - 2 * p[i] for i in range(nd))
    if any(s < 1 for s in out_sp):
        lead = "1 x " if nd == 1 else ""  # (torch computes 1-d transposed convolutions as 2-d ones)
        raise RuntimeError(f"Given input size per channel: ({lead}{' x '.join(map(str, sp_in))}). Calculated output "
                           f"size per channel: ({lead}{' x '.join(map(str, out_sp))}). Output size is too small")
    wm = w.reshape(G, Cg, -1)
    cols = np.matmul(wm.transpose(0, 2, 1), x.reshape(N, G, Cg, -1))  # (N, G, Og*K, L)
    cols = cols.reshape((N, G * Og) + tuple(k) + tuple(sp_in))
    outp = _col2im(cols, (N, G * Og) + sp, stride, dil)
    out = np.ascontiguousarray(outp[(_ALL, _ALL) + tuple(slice(p[i], sp[i] - p[i]) for i in range(nd))])
    if bias is not None:
        out += bias._data.reshape((1, -1) + (1,) * nd)
    pads = tuple(v for pp in p for v in (pp, pp))
    inputs = (input, weight, bias) if bias is not None else (input, weight)
    return record(ConvolutionBackward0T, out, inputs, (input, weight), attrs=(stride, pads, dil, groups, opad))


@autocast_op("lower")
def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """1-d transposed convolution ("deconvolution") over (N, C, L) or (C, L) input."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                           "conv_transpose1d")


@autocast_op("lower")
def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """2-d transposed convolution over (N, C, H, W) or (C, H, W) input."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                           "conv_transpose2d")


@autocast_op("lower")
def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """3-d transposed convolution over (N, C, D, H, W) or (C, D, H, W) input."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                           "conv_transpose3d")
