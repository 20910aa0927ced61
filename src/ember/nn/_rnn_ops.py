"""One direction of an LSTM layer over a whole sequence as a single op.

Written as ember ops, a sequence of T steps records about 15 nodes a step, and Python overhead
dominates. Here the forward runs the steps on NumPy arrays, keeping the activated gates and the
cell states, and one node runs backpropagation through time with NumPy: per step a handful of
array ops and one small GEMM, and a single GEMM for the recurrent weight's gradient.

Under ``create_graph=True`` the node recomputes the sequence with ember ops (the same arithmetic)
and differentiates that, so gradients of gradients still work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._blas import one_thread
from .._tensor import Tensor, _new
from ..autograd import grad_mode
from ..ops._core import attach, node_class


def lstm_cell(xp_t: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> tuple:
    """One LSTM step in ember ops (the recorded form; the fused forward computes the same)."""
    from . import functional as F

    gates = xp_t + F.linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, -1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c2 = f * c + i * g
    return o * c2.tanh(), c2


def lstm_sequence_ops(xp: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None, reverse: bool) -> tuple:
    """The sequence as recorded ember ops: (hs (T, N, H), h_T, c_T)."""
    from ..ops.shape import stack

    T = xp.shape[0]
    seq: list = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        h, c = lstm_cell(xp[t], h, c, w_hh, b_hh)
        seq[t] = h
    return stack(seq, 0), h, c


def _previous(seq: np.ndarray, initial: np.ndarray, reverse: bool) -> np.ndarray:
    """The state each step started from: ``seq`` shifted one step against the processing order,
    ``initial`` at the first step."""
    out = np.empty_like(seq)
    if reverse:
        out[-1] = initial
        out[:-1] = seq[1:]
    else:
        out[0] = initial
        out[1:] = seq[:-1]
    return out


def _bptt(n: Any, gs: list) -> tuple:
    xp, h0, c0, w_hh, b_hh = n.saved
    if grad_mode._state.enabled:  # create_graph: differentiate the recorded form instead
        return _bptt_recorded(n, gs)
    acts, cs, tcs, hs, reverse = n.attrs  # gates on rows (see lstm_sequence): (T, 4H, N), (T, H, N)
    T, G, N = acts.shape
    H = G // 4
    dt = acts.dtype
    # everything that does not depend on the incoming gradient, for all steps at once:
    # d gates = [dc * g * i(1-i), dc * c_prev * f(1-f), dc * i * (1-g^2), dh * tanh(c) * o(1-o)]
    i, f, g, o = acts[:, :H], acts[:, H:2 * H], acts[:, 2 * H:3 * H], acts[:, 3 * H:]
    c_prev = _previous(cs, c0._data.T, reverse)
    k = np.empty((T, G, N), dt)  # dc's coefficients for the i, f, g gates, dh's for the o gate
    np.multiply(g, i * (1 - i), out=k[:, :H])
    np.multiply(c_prev, f * (1 - f), out=k[:, H:2 * H])
    np.multiply(i, 1 - g * g, out=k[:, 2 * H:3 * H])
    np.multiply(tcs, o * (1 - o), out=k[:, 3 * H:])
    k3 = k[:, :3 * H].reshape(T, 3, H, N)
    dc_dh = o * (1 - tcs * tcs)  # how the step's h moves its cell state
    g_hs = np.ascontiguousarray(gs[0]._data.transpose(0, 2, 1)) if gs[0] is not None else None
    dh_next = gs[1]._data.T.copy() if gs[1] is not None else np.zeros((H, N), dt)
    dc_next = gs[2]._data.T.copy() if gs[2] is not None else np.zeros((H, N), dt)
    WT = np.ascontiguousarray(w_hh._data.T)
    da = np.empty((T, G, N), dt)
    da3 = da[:, :3 * H].reshape(T, 3, H, N)
    with one_thread():  # T small sequential products: BLAS threads cost more than they bring (_blas)
        for t in (range(T) if reverse else range(T - 1, -1, -1)):  # back in time
            dh = dh_next if g_hs is None else dh_next + g_hs[t]
            dc = dh * dc_dh[t]
            dc += dc_next
            np.multiply(k3[t], dc, out=da3[t])
            np.multiply(k[t, 3 * H:], dh, out=da[t, 3 * H:])
            dc_next = dc * f[t]
            dh_next = WT @ da[t]
    needs = n.needs
    flat = np.ascontiguousarray(da.transpose(0, 2, 1)).reshape(T * N, G)  # torch's layout: (T, N, 4H)
    g_w = None
    if needs[3]:
        g_w = flat.T @ _previous(hs, h0._data, reverse).reshape(T * N, H)
    g_b = flat.sum(0) if len(needs) > 4 and needs[4] else None
    return tuple(None if a is None else _new(a) for a in (flat.reshape(T, N, G) if needs[0] else None,
                                                          dh_next.T.copy() if needs[1] else None,
                                                          dc_next.T.copy() if needs[2] else None, g_w, g_b))


def _bptt_recorded(n: Any, gs: list) -> tuple:
    from ..autograd import grad as autograd_grad

    xp, h0, c0, w_hh, b_hh = n.saved
    outs = lstm_sequence_ops(xp, h0, c0, w_hh, b_hh, n.attrs[4])
    pairs = [(o, g) for o, g in zip(outs, gs) if g is not None]
    wanted = [t for t, need in zip((xp, h0, c0, w_hh, b_hh), n.needs) if need and t is not None]
    got = autograd_grad([o for o, _ in pairs], wanted, [g for _, g in pairs], create_graph=True, allow_unused=True)
    it = iter(got)
    return tuple(next(it) if need and t is not None else None for t, need in zip((xp, h0, c0, w_hh, b_hh), n.needs))


# torch's CPU LSTM records one MkldnnRnnLayerBackward0 per layer and direction: same name here
MkldnnRnnLayerBackward0 = node_class("mkldnn_rnn_layer", _bptt, "backpropagation through time", n_outputs=3)


def _gate_affine(G: int, dt: np.dtype) -> tuple:
    """Per-row scale and offset for the gate rows i, f, g, o: 1/2 and 1/2 for the sigmoid gates,
    1 and 0 for the tanh gate, as sigmoid(x) = (tanh(x / 2) + 1) / 2 (scaling by 1/2 is exact)."""
    H = G // 4
    scale = np.full((G, 1), 0.5, dt)
    scale[2 * H:3 * H] = 1
    offset = np.full((G, 1), 0.5, dt)
    offset[2 * H:3 * H] = 0
    return scale, offset


def lstm_sequence(xp: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, b_hh: Tensor | None, reverse: bool) -> tuple:
    """One LSTM direction: ``xp`` (T, N, 4H) the input projections ``x @ W_ih^T + b_ih``, ``h0``,
    ``c0`` (N, H). Returns (hs (T, N, H), h_T, c_T) as torch's LSTM computes them.

    The steps run with the gates on rows: each step's product is W_hh (4H, H) @ h^T (H, N), which
    BLAS runs faster than h @ W_hh^T at these sizes, and each gate is a contiguous block of rows.
    Every gate's pre-activation is scaled per row (by 1/2 for the sigmoid gates) so one tanh over
    all rows activates all four gates."""
    X, W = xp._data, w_hh._data
    T, N, G = X.shape
    H = G // 4
    dt = X.dtype
    scale, offset = _gate_affine(G, dt)
    acts = np.multiply(X.transpose(0, 2, 1), scale)  # (T, 4H, N): pre-activations, then activated gates
    if b_hh is not None:
        acts += b_hh._data[:, None] * scale
    Ws = W * scale
    hs = np.empty((T, H, N), dt)
    cs = np.empty((T, H, N), dt)
    tcs = np.empty((T, H, N), dt)
    h, c = h0._data.T, c0._data.T
    r = np.empty((G, N), dt)
    with one_thread():  # T small sequential products: BLAS threads cost more than they bring (_blas)
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            a = acts[t]
            np.matmul(Ws, h, out=r)
            a += r  # (x W_ih^T + b_ih + b_hh + h W_hh^T) / 2 on the sigmoid gates' rows
            np.tanh(a, out=a)
            a *= scale
            a += offset
            ct = cs[t]
            np.multiply(a[H:2 * H], c, out=ct)
            ct += a[:H] * a[2 * H:3 * H]
            np.tanh(ct, out=tcs[t])
            np.multiply(a[3 * H:], tcs[t], out=hs[t])
            h, c = hs[t], ct
    seq = np.ascontiguousarray(hs.transpose(0, 2, 1))  # torch's layout: (T, N, H)
    out = (_new(seq), _new(h.T.copy()), _new(c.T.copy()))
    inputs = (xp, h0, c0, w_hh, b_hh)
    if grad_mode._state.enabled and any(t is not None and t._rg for t in inputs):
        node = attach(out[0], MkldnnRnnLayerBackward0, inputs, inputs, attrs=(acts, cs, tcs, seq, reverse))
        node.n_outputs = 3
        for k in (1, 2):
            out[k].grad_fn, out[k]._rg, out[k]._out_nr = node, True, k
    return out
