"""The fused LSTM direction (nn/_rnn_ops.py: NumPy forward, backpropagation through time in one
node) against torch: outputs, h_n, c_n and the gradients of the input, h0, c0 and every weight."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

R = np.random.default_rng(21)


def _pair(kw: dict, dtype) -> tuple:
    ember.manual_seed(3)
    torch.manual_seed(3)
    e = ember.nn.LSTM(5, 7, **kw).to(ember.float64 if dtype == np.float64 else ember.float32)
    t = torch.nn.LSTM(5, 7, **kw).to(torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        for (name, tp) in t.named_parameters():
            tp.copy_(torch.tensor(getattr(e, name).detach().numpy()))
    return e, t


def _run(lib, m, x0, h00, c00, weights):
    x = lib.tensor(x0, requires_grad=True)
    hx = None
    if h00 is not None:
        hx = (lib.tensor(h00, requires_grad=True), lib.tensor(c00, requires_grad=True))
    out, (hn, cn) = m(x, hx)
    loss = (out * lib.tensor(weights[0][:out.numel()].reshape(tuple(out.shape)))).sum() \
        + (hn * lib.tensor(weights[1][:hn.numel()].reshape(tuple(hn.shape)))).sum() \
        + (cn * lib.tensor(weights[2][:cn.numel()].reshape(tuple(cn.shape)))).sum()
    loss.backward()
    res = [out.detach().numpy(), hn.detach().numpy(), cn.detach().numpy(), x.grad.numpy()]
    if hx is not None:
        res += [hx[0].grad.numpy(), hx[1].grad.numpy()]
    res += [p.grad.numpy() for _, p in sorted(m.named_parameters())]
    return res


CONFIGS = [
    ({}, (6, 3), True), ({"batch_first": True}, (3, 6), False), ({"bidirectional": True}, (5, 2), True),
    ({"num_layers": 2}, (4, 3), True), ({"num_layers": 2, "bidirectional": True, "batch_first": True}, (2, 5), True),
    ({"bias": False}, (4, 2), False), ({}, (1, 1), True),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw, tn, with_state", CONFIGS)
def test_lstm_matches_torch(kw, tn, with_state, dtype):
    e, t = _pair(kw, dtype)
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    shape = (tn[0], tn[1], 5) if not kw.get("batch_first") else (tn[0], tn[1], 5)
    x0 = R.standard_normal(shape).astype(dtype)
    N = tn[0] if kw.get("batch_first") else tn[1]
    h00 = R.standard_normal((L * D, N, 7)).astype(dtype) if with_state else None
    c00 = R.standard_normal((L * D, N, 7)).astype(dtype) if with_state else None
    weights = [np.cos(np.arange(500) * k).astype(dtype) for k in (1.0, 0.7, 0.3)]
    er, tr = _run(ember, e, x0, h00, c00, weights), _run(torch, t, x0, h00, c00, weights)
    tol = 1e-10 if dtype == np.float64 else 1e-4
    for a, b in zip(er, tr):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_unbatched_input():
    e, t = _pair({}, np.float64)
    x0 = R.standard_normal((4, 5))
    eo, (eh, ec) = e(ember.tensor(x0))
    to, (th, tc) = t(torch.tensor(x0))
    for a, b in ((eo, to), (eh, th), (ec, tc)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_second_order_through_the_sequence():
    # a gradient penalty: d/dW of |d loss / d x|^2 (the node re-records the sequence with ember ops)
    res = []
    e, t = _pair({}, np.float64)
    x0 = R.standard_normal((3, 2, 5))
    for lib, m in ((ember, e), (torch, t)):
        x = lib.tensor(x0, requires_grad=True)
        out, _ = m(x)
        gx, = lib.autograd.grad((out * out).sum(), x, create_graph=True)
        (gx * gx).sum().backward()
        res.append([p.grad.numpy() for _, p in sorted(m.named_parameters())])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


def test_weight_changed_in_place_before_backward_is_an_error():
    e, _ = _pair({}, np.float64)
    out, _ = e(ember.tensor(R.standard_normal((3, 2, 5))))
    with ember.no_grad():
        e.weight_hh_l0.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_second_backward_without_retain_graph_is_an_error():
    e, _ = _pair({}, np.float64)
    out, _ = e(ember.tensor(R.standard_normal((3, 2, 5))))
    s = out.sum()
    s.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        s.backward()


@pytest.mark.parametrize("kw", [{}, {"bidirectional": True}, {"num_layers": 2}])
def test_grad_fn_names_match_torch(kw):
    names = []
    for lib in (ember, torch):
        out, (h, c) = lib.nn.LSTM(5, 7, **kw)(lib.randn(3, 2, 5))
        names.append([type(t.grad_fn).__name__ for t in (out, h, c)])
    assert names[0] == names[1]


@pytest.mark.parametrize("threads", [None, 1])
@pytest.mark.parametrize("kw", [{}, {"bidirectional": True, "batch_first": True}])
def test_long_sequence_split_in_chunks(kw, threads):
    # long and wide enough (T >= 8, T*N*H >= 2^16) that the forward and BPTT hand chunks of steps to
    # the helper thread (_blas.helper); with one thread allowed, the same run on this thread alone
    from ember import _blas

    e, t = _pair(kw, np.float64)
    e2, t2 = ember.nn.LSTM(5, 256, **kw).double(), torch.nn.LSTM(5, 256, **kw).double()
    with torch.no_grad():
        for name, tp in t2.named_parameters():
            tp.copy_(torch.tensor(getattr(e2, name).detach().numpy()))
    D = 2 if kw.get("bidirectional") else 1
    T, N = 19, 16
    x0 = R.standard_normal((N, T, 5) if kw.get("batch_first") else (T, N, 5))
    h00, c00 = R.standard_normal((D, N, 256)), R.standard_normal((D, N, 256))
    weights = [np.cos(np.arange(T * N * 512) * k) for k in (1.0, 0.7, 0.3)]
    old = ember.get_num_threads()
    try:
        if threads is not None:
            ember.set_num_threads(threads)
            assert _blas.helper() is None or _blas.get_num_threads() is None
        er = _run(ember, e2, x0, h00, c00, weights)
    finally:
        ember.set_num_threads(old)
    tr = _run(torch, t2, x0, h00, c00, weights)
    for a, b in zip(er, tr):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_input_dtype_other_than_the_weights_is_torchs_value_error(name):
    # (the fused op multiplies by W_ih itself: NumPy would silently promote instead)
    msgs = []
    for lib in (ember, torch):
        with pytest.raises(ValueError) as err:
            getattr(lib.nn, name)(3, 4)(lib.randn(5, 2, 3, dtype=lib.float64))
        msgs.append(str(err.value).replace("torch.", "ember."))
    assert msgs[0] == msgs[1]


def test_forked_child_gets_a_helper_of_its_own():
    # a fork copies no threads: a child (a DataLoader worker) that reused the parent's executor
    # would wait forever on its first chunk
    import multiprocessing as mp

    from ember import _blas

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork on this platform")
    lstm = ember.nn.LSTM(5, 256)
    x = ember.randn(19, 16, 5, requires_grad=True)
    lstm(x)[0].sum().backward()  # the parent's helper exists (where there is one)
    parent = _blas.helper()
    q = mp.get_context("fork").Queue()

    def child() -> None:
        out, _ = lstm(x)
        out.sum().backward()
        q.put((_blas.helper() is not parent or parent is None, float(x.grad.abs().sum())))

    p = mp.get_context("fork").Process(target=child)
    p.start()
    p.join(60)
    assert p.exitcode == 0
    fresh, total = q.get(timeout=5)
    assert fresh and np.isfinite(total)
