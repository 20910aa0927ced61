"""One direction of an LSTM layer over a whole sequence as a single op.

Written as ember ops, a sequence of T steps records about 15 nodes a step, and Python overhead
dominates. Here the forward runs the steps on NumPy arrays, keeping the activated gates and the
cell states, and one node runs backpropagation through time with NumPy: per step a handful of
array ops and one small batched GEMM, and a single GEMM for the recurrent weight's gradient.

The steps keep the gates "gate-major", (4, N, H) per step rather than torch's (N, 4H): each gate
is then one contiguous block, and NumPy runs an op on a contiguous block several times faster
than on the N strided rows of a column slice; the products with W_hh become one batched matmul
over its four (H, H) gate blocks. Only the input projections and their gradient change layout,
once per sequence.

As torch's ``mkldnn_rnn_layer``, the op takes the layer's input and all four weights: the input
projections ``x W_ih^T`` and their gradients are GEMMs over chunks of time steps that the helper
thread (``_blas.helper``) computes while this thread runs the steps, which are sequential.

Under ``create_graph=True`` the NumPy BPTT is an op of its own, whose derivative recomputes the
sequence with ember ops (the same arithmetic) and differentiates that twice, so gradients of
gradients still work while the first derivative exists once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._blas import helper, one_thread, run_soon
from .._tensor import Tensor, _new
from ..autograd import grad_mode
from ..ops._core import _fw, _propagate, attach, node_class, record_outputs


def lstm_cell(xp_t: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> tuple:
    """One LSTM step in ember ops (the recorded form; the fused forward computes the same)."""
    from . import functional as F

    gates = xp_t + F.linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, -1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c2 = f * c + i * g
    return o * c2.tanh(), c2


def lstm_sequence_ops(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
                      b_hh: Tensor | None, reverse: bool) -> tuple:
    """The sequence as recorded ember ops: (hs (T, N, H), h_T, c_T)."""
    from ..ops.shape import stack
    from . import functional as F

    T, N = x.shape[0], x.shape[1]
    xp = F.linear(x.reshape(T * N, -1), w_ih, b_ih).reshape(T, N, -1)
    seq: list = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        h, c = lstm_cell(xp[t], h, c, w_hh, b_hh)
        seq[t] = h
    return stack(seq, 0), h, c


def _previous(seq: np.ndarray, initial: np.ndarray, reverse: bool, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """The state each step of ``lo:hi`` started from: ``seq`` shifted one step against the
    processing order, ``initial`` at the first step."""
    T = len(seq)
    hi = T if hi is None else hi
    out = np.empty((hi - lo,) + seq.shape[1:], seq.dtype)
    if reverse:
        last = hi == T
        out[:hi - lo - last] = seq[lo + 1:hi + 1]
        if last:
            out[-1] = initial
    else:
        first = lo == 0
        out[first:] = seq[lo + first - 1:hi - 1]
        if first:
            out[0] = initial
    return out


def _chunks(T: int, N: int, H: int, pool: Any, reverse: bool) -> list:
    """The time ranges, in processing order, that the helper thread prepares or finishes while the
    steps of another run: about 8 of them when there is a helper and the sequence is big enough
    for a job to outweigh handing it over (~30 us), else the whole sequence."""
    if pool is None or T < 8 or T * N * H < (1 << 16):
        return [(0, T)]
    step = -(-T // 8)
    out = [(lo, min(lo + step, T)) for lo in range(0, T, step)]
    return out[::-1] if reverse else out


def _total(parts: list) -> np.ndarray:
    out = parts[0]
    for p in parts[1:]:
        out += p
    return out


def _bptt(n: Any, gs: list) -> tuple:
    """Backpropagation through time, with NumPy: the layer's only first derivative. Under
    create_graph it is an op of its own (MkldnnRnnLayerBackwardBackward0), whose derivative
    differentiates the sequence recomputed in ember ops (lstm_cell's arithmetic) twice.

    The steps run back in time on this thread; the helper thread (``_blas.helper``) computes the
    coefficients of steps not reached yet and, for the steps done, puts the gate gradients in
    torch's layout and adds their share to W_hh's and the bias's gradients, so those GEMMs use the
    second core while the sequential loop uses the first."""
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = n.saved
    acts, cs, tcs, hs, X2, reverse = n.attrs  # acts: (T, 4, N, H), the activated gates i, f, o, g
    T, _, N, H = acts.shape
    G = 4 * H
    dt = acts.dtype
    needs = n.needs
    pool = helper()
    chunks = _chunks(T, N, H, pool, not reverse)  # (BPTT runs against the forward's order)
    # what does not depend on the incoming gradient, per chunk, in torch's gate order:
    # d gates = [dc * g * i(1-i), dc * c_prev * f(1-f), dc * i * (1-g^2), dh * tanh(c) * o(1-o)]
    i, f, o, g = acts[:, 0], acts[:, 1], acts[:, 2], acts[:, 3]
    k = np.empty((T, 4, N, H), dt)  # dc's coefficients for the i, f, g gates, dh's for the o gate
    dc_dh = np.empty((T, N, H), dt)  # how the step's h moves its cell state: o * (1 - tanh(c)^2)

    def coefficients(lo: int, hi: int) -> None:
        s, ks = slice(lo, hi), k[lo:hi]
        tmp = np.subtract(1, i[s])
        tmp *= i[s]
        np.multiply(g[s], tmp, out=ks[:, 0])
        np.subtract(1, f[s], out=tmp)
        tmp *= f[s]
        np.multiply(_previous(cs, c0._data, reverse, lo, hi), tmp, out=ks[:, 1])
        np.multiply(g[s], g[s], out=tmp)
        np.subtract(1, tmp, out=tmp)
        np.multiply(i[s], tmp, out=ks[:, 2])
        np.subtract(1, o[s], out=tmp)
        tmp *= o[s]
        np.multiply(tcs[s], tmp, out=ks[:, 3])
        np.multiply(tcs[s], tcs[s], out=tmp)
        np.subtract(1, tmp, out=tmp)
        np.multiply(o[s], tmp, out=dc_dh[s])

    # (contiguous: under batch_first the gradient arrives as a transposed view, whose steps are strided rows)
    g_hs = np.ascontiguousarray(gs[0]._data) if gs[0] is not None else None
    dh_next = gs[1]._data.copy() if gs[1] is not None else np.zeros((N, H), dt)
    dc_next = gs[2]._data.copy() if gs[2] is not None else np.zeros((N, H), dt)
    W4 = np.ascontiguousarray(w_hh._data).reshape(4, H, H)  # W_hh's gate blocks
    da = np.empty((T, 4, N, H), dt)
    flat4 = np.empty((T, N, 4, H), dt)  # the gate gradients in torch's layout (T, N, 4H)
    flat = flat4.reshape(T * N, G)
    want_x, want_wih, want_whh, want_b = needs[0], needs[3], needs[4], needs[5] or needs[6]
    h_prev = _previous(hs, h0._data, reverse).reshape(T * N, H) if want_whh else None
    g_x = np.empty((T * N, X2.shape[1]), dt) if want_x else None
    W_ih = w_ih._data
    # each chunk's share of W_ih's, W_hh's and the bias's gradients (summed in chunk order at the end)
    parts_wih: list = [None] * len(chunks)
    parts_whh: list = [None] * len(chunks)
    parts_b: list = [None] * len(chunks)

    def finish(c: int) -> None:  # chunk c's steps are done: the gradients that are GEMMs over their rows
        lo, hi = chunks[c]
        np.copyto(flat4[lo:hi], da[lo:hi].transpose(0, 2, 1, 3))
        rows = slice(lo * N, hi * N)
        d_rows = flat[rows]  # d gates (rows, 4H) in torch's gate order
        if g_x is not None:
            np.matmul(d_rows, W_ih, out=g_x[rows])
        if want_wih:
            parts_wih[c] = d_rows.T @ X2[rows]
        if h_prev is not None:
            parts_whh[c] = d_rows.T @ h_prev[rows]
        if want_b:
            parts_b[c] = d_rows.sum(0)

    coefficients(*chunks[0])
    ready = [run_soon(pool, coefficients, lo, hi) for lo, hi in chunks[1:]]
    done = []
    prod = np.empty((4, N, H), dt)
    dh = np.empty((N, H), dt)
    dc = np.empty((N, H), dt)
    with one_thread():  # T small sequential products: BLAS threads cost more than they bring (_blas)
        for c, (lo, hi) in enumerate(chunks):
            if c:
                ready[c - 1]()
            for t in (range(lo, hi) if reverse else range(hi - 1, lo - 1, -1)):  # back in time
                if g_hs is None:
                    dh[...] = dh_next
                else:
                    np.add(dh_next, g_hs[t], out=dh)
                np.multiply(dh, dc_dh[t], out=dc)
                dc += dc_next
                dat = da[t]
                np.multiply(k[t, :3], dc, out=dat[:3])
                np.multiply(k[t, 3], dh, out=dat[3])
                np.multiply(dc, f[t], out=dc_next)
                np.matmul(dat, W4, out=prod)  # d gates @ W_hh, gate block by gate block
                np.add.reduce(prod, 0, out=dh_next)
            if c < len(chunks) - 1:
                done.append(run_soon(pool, finish, c))
        finish(len(chunks) - 1)
        for wait in reversed(done):  # the helper works from the first chunk, this thread from the last
            wait()
    g_b = _total(parts_b) if want_b else np.empty(0)  # (b_ih's and b_hh's gradients are the same sums)
    outs = tuple(None if a is None else _new(a) for a in (
        g_x.reshape(x._data.shape) if g_x is not None else None, dh_next if needs[1] else None,
        dc_next if needs[2] else None, _total(parts_wih) if want_wih else None,
        _total(parts_whh) if want_whh else None, g_b if needs[5] else None,
        (g_b.copy() if needs[5] else g_b) if needs[6] else None))
    ins = tuple(gs) + tuple(n.saved)
    record_outputs(MkldnnRnnLayerBackwardBackward0, outs, ins, ins, attrs=(reverse, needs))
    return outs


def _bptt_double_backward(n: Any, ggs: list) -> tuple:
    # the first derivative as a function of (grads, inputs), recomputed in ember ops on stand-in
    # leaves (partial derivatives: the real grads depend on the inputs, and the engine chains that),
    # then differentiated along ggs
    from ..autograd import grad as autograd_grad

    if grad_mode._state.enabled:
        raise RuntimeError("ember does not differentiate an LSTM layer three times (its second derivative "
                           "is computed from a recomputed sequence)")
    reverse, needs = n.attrs
    leaves: list[Any] = [None if t is None else t.detach().requires_grad_() for t in n.saved]
    gs, ins = leaves[:3], leaves[3:]
    with grad_mode.enable_grad():
        x, h0, c0, w_ih, w_hh, b_ih, b_hh = ins
        outs = lstm_sequence_ops(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
        pairs = [(o, g) for o, g in zip(outs, gs) if g is not None]
        wanted = [t for t, need in zip(ins, needs) if need and t is not None]
        first = iter(autograd_grad([o for o, _ in pairs], wanted, [g for _, g in pairs], create_graph=True,
                                   allow_unused=True))
        first_all = [next(first) if need and t is not None else None for t, need in zip(ins, needs)]
        terms = [(f, gg) for f, gg in zip(first_all, ggs) if f is not None and gg is not None and f._rg]
        targets = [(i, t) for i, t in enumerate(leaves) if t is not None and n.needs[i]]
        if not terms or not targets:
            return (None,) * len(n.saved)
        got = autograd_grad([f for f, _ in terms], [t for _, t in targets], [gg for _, gg in terms],
                            allow_unused=True)
    out: list = [None] * len(n.saved)
    for (i, _), g in zip(targets, got):
        out[i] = g
    return tuple(out)


# torch's CPU LSTM records one MkldnnRnnLayerBackward0 per layer and direction: same name here
MkldnnRnnLayerBackward0 = node_class("mkldnn_rnn_layer", _bptt, "backpropagation through time", n_outputs=3)
MkldnnRnnLayerBackwardBackward0 = node_class(
    "mkldnn_rnn_layer_backward", _bptt_double_backward,
    "the recomputed sequence's first derivative, differentiated along the incoming grads", n_outputs=7)


# The forward keeps the activated gates in the order i, f, o, g (torch's is i, f, g, o), so the three
# sigmoid gates are one block. sigmoid(x) = (tanh(x / 2) + 1) / 2: with the sigmoid gates'
# pre-activations halved (exactly), one tanh over all four gates, then "* 0.5 + 0.5" on the
# sigmoid block, activates them.
_ACTS_ORDER = (0, 1, 3, 2)  # torch's gate index of each block of ``acts``
_HALVE = np.array((0.5, 0.5, 0.5, 1.0)).reshape(4, 1, 1)


def lstm_sequence(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
                  b_hh: Tensor | None, reverse: bool) -> tuple:
    """One LSTM direction over ``x`` (T, N, E) from ``h0``, ``c0`` (N, H), as torch's
    ``mkldnn_rnn_layer``: the input projections are part of the op. Returns (hs (T, N, H), h_T, c_T)
    as torch's LSTM computes them."""
    hs, h, c, acts, cs, tcs, X2 = lstm_arrays(x._data, h0._data, c0._data, w_ih._data, w_hh._data,
                                              None if b_ih is None else b_ih._data,
                                              None if b_hh is None else b_hh._data, reverse)
    out = (_new(hs), _new(h), _new(c))
    inputs = (x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    if grad_mode._state.enabled and any(t is not None and t._rg for t in inputs):
        node = attach(out[0], MkldnnRnnLayerBackward0, inputs, inputs, attrs=(acts, cs, tcs, hs, X2, reverse))
        node.n_outputs = 3
        for k in (1, 2):
            out[k]._grad_fn, out[k]._rg, out[k]._out_nr = node, True, k
    if _fw.on:
        _propagate(MkldnnRnnLayerBackward0, out, inputs, inputs, (acts, cs, tcs, hs, X2, reverse))
    return out


def lstm_arrays(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
                b_ih: np.ndarray | None, b_hh: np.ndarray | None, reverse: bool) -> tuple:
    """lstm_sequence on arrays: (hs, h_T, c_T) and what its backward keeps (the activated gates,
    the cell states and their tanh, the input as (T*N, E) rows); ember.compile's replay calls it."""
    h, c, W = h0, c0, w_hh
    T, N, E = x.shape
    G = W.shape[0]
    H = G // 4
    X2 = np.ascontiguousarray(x).reshape(T * N, E)
    WihT = np.ascontiguousarray(w_ih.T)
    dt = W.dtype
    halve = _HALVE.astype(dt)
    acts = np.empty((T, 4, N, H), dt)  # gate-major pre-activations (halved where sigmoid), then the gates
    bias = None if b_hh is None else b_hh.reshape(4, 1, H)[list(_ACTS_ORDER)] * halve

    def prepare(lo: int, hi: int) -> None:  # x W_ih^T + b_ih + b_hh for steps lo:hi, gate-major, halved
        xp = X2[lo * N:hi * N] @ WihT
        if b_ih is not None:
            xp += b_ih
        X4 = xp.reshape(hi - lo, N, 4, H)
        for j, gate in enumerate(_ACTS_ORDER):
            np.multiply(X4[:, :, gate], halve[j], out=acts[lo:hi, j])
        if bias is not None:
            acts[lo:hi] += bias

    W4T = np.ascontiguousarray((W.reshape(4, H, H)[list(_ACTS_ORDER)] * halve).transpose(0, 2, 1))  # gate blocks^T
    hs = np.empty((T, N, H), dt)
    cs = np.empty((T, N, H), dt)
    tcs = np.empty((T, N, H), dt)
    r = np.empty((4, N, H), dt)
    ig = np.empty((N, H), dt)
    pool = helper()
    chunks = _chunks(T, N, H, pool, reverse)
    prepare(*chunks[0])  # (BLAS threads allowed: with no helper, this is the whole projection)
    ready = [run_soon(pool, prepare, lo, hi) for lo, hi in chunks[1:]]  # (the helper prepares while the steps run)
    with one_thread():  # T small sequential products: BLAS threads cost more than they bring (_blas)
        for ch, (lo, hi) in enumerate(chunks):
            if ch:
                ready[ch - 1]()
            for t in (range(hi - 1, lo - 1, -1) if reverse else range(lo, hi)):
                a = acts[t]
                np.matmul(h, W4T, out=r)
                a += r  # x W_ih^T + b_ih + b_hh + h W_hh^T, per gate, halved for the sigmoid gates
                np.tanh(a, out=a)
                sig = a[:3]
                sig *= 0.5
                sig += 0.5
                ct = cs[t]
                np.multiply(a[1], c, out=ct)  # f * c + i * g
                np.multiply(a[0], a[3], out=ig)
                ct += ig
                np.tanh(ct, out=tcs[t])
                np.multiply(a[2], tcs[t], out=hs[t])  # o * tanh(c)
                h, c = hs[t], ct
    return hs, h.copy(), c.copy(), acts, cs, tcs, X2
