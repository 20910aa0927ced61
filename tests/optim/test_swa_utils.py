"""optim.swa_utils against torch: averaged parameters and buffers over real training steps, the
SWALR lr trajectory, update_bn's statistics, reprs, state_dict keys and errors."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch
from torch.optim import swa_utils as tsw

import ember
from ember.optim import swa_utils as esw


def _sw(lib: Any) -> Any:
    return esw if lib is ember else tsw


def _np(x: Any) -> np.ndarray:
    return x.detach().numpy()


def _model(lib: Any) -> Any:
    nn = lib.nn
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))


def _averages(lib: Any) -> list:
    sw = _sw(lib)
    lib.manual_seed(0)
    model = _model(lib)
    avgs = [sw.AveragedModel(model),
            sw.AveragedModel(model, multi_avg_fn=sw.get_ema_multi_avg_fn(0.9)),
            sw.AveragedModel(model, avg_fn=sw.get_ema_avg_fn(0.8), use_buffers=True),
            sw.AveragedModel(model, avg_fn=sw.get_swa_avg_fn()),
            sw.AveragedModel(model, multi_avg_fn=sw.get_swa_multi_avg_fn()),
            sw.AveragedModel(model, use_buffers=True)]
    opt = lib.optim.SGD(model.parameters(), lr=0.3)
    for _ in range(5):
        x, y = lib.randn(8, 3), lib.randn(8, 1)
        opt.zero_grad()
        (model(x) - y).pow(2).mean().backward()
        opt.step()
        for a in avgs:
            a.update_parameters(model)
    return [[(k, _np(v)) for k, v in a.state_dict().items()] for a in avgs]


def test_averaged_models_match_torch() -> None:
    e, t = _averages(ember), _averages(torch)
    for ea, ta in zip(e, t):
        assert [k for k, _ in ea] == [k for k, _ in ta]
        for (k, a), (_, b) in zip(ea, ta):
            assert a.dtype == b.dtype, k
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=k)


def test_swa_mean_is_the_mean_and_repr() -> None:
    m = ember.nn.Linear(2, 2).double()
    avg = esw.AveragedModel(m)
    seen = []
    for i in range(4):
        with ember.no_grad():
            m.weight.mul_(1.3).add_(0.1 * i)
        seen.append(m.weight.detach().numpy().copy())
        avg.update_parameters(m)
    np.testing.assert_allclose(avg.module.weight.detach().numpy(), np.mean(seen, 0), rtol=1e-6)
    assert int(avg.n_averaged) == 4 and avg.n_averaged.dtype == ember.int64
    tm = tsw.AveragedModel(torch.nn.Linear(2, 2))
    assert repr(avg) == repr(tm)
    assert list(avg.state_dict()) == list(tm.state_dict()) == ["n_averaged", "module.weight", "module.bias"]
    x = ember.ones(1, 2, dtype=ember.float64)
    np.testing.assert_allclose(_np(avg(x)), _np(avg.module(x)))


def _swalr(lib: Any, strategy: str, epochs: int, swa_lr: Any) -> list:
    sw = _sw(lib)
    p1, p2 = lib.nn.Parameter(lib.zeros(1)), lib.nn.Parameter(lib.zeros(1))
    opt = lib.optim.SGD([{"params": [p1]}, {"params": [p2], "lr": 0.1}], lr=1.0)
    sched = sw.SWALR(opt, swa_lr=swa_lr, anneal_epochs=epochs, anneal_strategy=strategy)
    lrs = [[g["lr"] for g in opt.param_groups]]
    for _ in range(epochs + 3):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    return [lrs, sorted(sched.state_dict()), sched.state_dict()["_last_lr"]]


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("epochs", [0, 1, 4, 10])
def test_swalr_trajectory(strategy: str, epochs: int) -> None:
    e, t = _swalr(ember, strategy, epochs, 0.05), _swalr(torch, strategy, epochs, [0.2, 0.01])
    e2 = _swalr(ember, strategy, epochs, [0.2, 0.01])
    np.testing.assert_allclose(e2[0], t[0], rtol=1e-12)
    assert e[1] == t[1]
    t1 = _swalr(torch, strategy, epochs, 0.05)
    np.testing.assert_allclose(e[0], t1[0], rtol=1e-12)


def test_swalr_after_another_scheduler_and_state_dict() -> None:
    res = {}
    for lib in (torch, ember):
        sw = _sw(lib)
        p = lib.nn.Parameter(lib.zeros(1))
        opt = lib.optim.SGD([p], lr=0.5)
        cos = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)
        swa = sw.SWALR(opt, swa_lr=0.02, anneal_epochs=3)
        lrs = []
        for epoch in range(10):
            opt.step()
            (swa if epoch >= 5 else cos).step()
            lrs.append(opt.param_groups[0]["lr"])
        sd = swa.state_dict()
        other = sw.SWALR(opt, swa_lr=0.3, anneal_strategy="linear")
        other.load_state_dict(sd)
        res[lib] = (lrs, other.anneal_func(0.25), other._anneal_strategy, list(sd))
    np.testing.assert_allclose(res[ember][0], res[torch][0], rtol=1e-12)
    assert res[ember][1:] == res[torch][1:]


def test_swalr_get_lr_warns_outside_step() -> None:
    out = {}
    for lib in (torch, ember):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.5)
        s = _sw(lib).SWALR(opt, swa_lr=0.1)
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            s.get_lr()
            opt.step()
            s.step()
        out[lib] = [(w.category.__name__, str(w.message)) for w in ws]
    assert out[ember] == out[torch] and len(out[torch]) == 1


def _bn(lib: Any) -> list:
    lib.manual_seed(0)
    model = _model(lib)
    model.eval()
    loader = [(lib.randn(5, 3) * 2 + 1, lib.zeros(5)) for _ in range(3)] + [lib.randn(4, 3)]
    _sw(lib).update_bn(loader, model)
    bn = model[1]
    return [_np(bn.running_mean), _np(bn.running_var), int(bn.num_batches_tracked), model.training, bn.momentum]


def test_update_bn_matches_torch() -> None:
    e, t = _bn(ember), _bn(torch)
    for a, b in zip(e[:2], t[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert e[2:] == t[2:]


def test_update_bn_without_batchnorm_is_a_no_op() -> None:
    m = ember.nn.Linear(2, 2)
    esw.update_bn([ember.ones(1, 2)], m)


def _errors(lib: Any) -> list:
    sw = _sw(lib)
    opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.5)
    out = []
    for case in (lambda: sw.SWALR(opt, swa_lr=0.1, anneal_strategy="exp"),
                 lambda: sw.SWALR(opt, swa_lr=0.1, anneal_epochs=-1),
                 lambda: sw.SWALR(opt, swa_lr=0.1, anneal_epochs=2.5),
                 lambda: sw.SWALR(opt, swa_lr=[0.1, 0.2]),
                 lambda: sw.get_ema_avg_fn(1.5),
                 lambda: sw.get_ema_multi_avg_fn(-0.1),
                 lambda: sw.AveragedModel(lib.nn.Linear(1, 1), avg_fn=sw.get_ema_avg_fn(),
                                          multi_avg_fn=sw.get_ema_multi_avg_fn())):
        with pytest.raises(Exception) as info:
            case()
        out.append((info.type.__name__, str(info.value)))
    return out


def test_integer_buffers_with_foreach_average_raise_as_torch() -> None:
    out = []
    for lib in (torch, ember):
        sw = _sw(lib)
        m = lib.nn.BatchNorm1d(2)
        a = sw.AveragedModel(m, multi_avg_fn=sw.get_swa_multi_avg_fn(), use_buffers=True)
        a.update_parameters(m)
        with pytest.raises(RuntimeError) as info:
            a.update_parameters(m)
        out.append(str(info.value).replace("ember", "torch"))
    assert out[0] == out[1]


def test_errors_match_torch() -> None:
    assert _errors(ember) == _errors(torch)
