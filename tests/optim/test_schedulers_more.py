"""MultiplicativeLR, ConstantLR, PolynomialLR, CyclicLR and ChainedScheduler against torch, step for step."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch

import ember


def _pair(opt: str = "SGD", groups: int = 1, **kw: Any) -> tuple:
    """The same optimizer built in torch and in ember."""
    out = []
    for lib in (torch, ember):
        ps = [{"params": [lib.nn.Parameter(lib.zeros(2))]} for _ in range(groups)]
        out.append(getattr(lib.optim, opt)(ps, lr=0.1, **kw))
    return out[0], out[1]


def _run(topt: Any, eopt: Any, ts: Any, es: Any, steps: int = 40, key: str | None = None) -> None:
    for _ in range(steps):
        assert es.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-13, abs=1e-15)
        for tg, eg in zip(topt.param_groups, eopt.param_groups):
            assert eg["lr"] == pytest.approx(tg["lr"], rel=1e-13, abs=1e-15)
            if key is not None:
                assert eg[key] == pytest.approx(tg[key], rel=1e-13)
        topt.step()
        eopt.step()
        ts.step()
        es.step()
    assert list(es.state_dict()) == list(ts.state_dict())


def _both(name: str, topt: Any, eopt: Any, *args: Any, **kw: Any) -> tuple:
    return (getattr(torch.optim.lr_scheduler, name)(topt, *args, **kw),
            getattr(ember.optim.lr_scheduler, name)(eopt, *args, **kw))


SIMPLE = [
    ("MultiplicativeLR", {"lr_lambda": lambda e: 0.95}),
    ("MultiplicativeLR", {"lr_lambda": [lambda e: 0.9, lambda e: 1.0 - 0.01 * e]}),
    ("ConstantLR", {}),
    ("ConstantLR", {"factor": 0.25, "total_iters": 7}),
    ("PolynomialLR", {}),
    ("PolynomialLR", {"total_iters": 17, "power": 2.5}),
]


@pytest.mark.parametrize("name,kw", SIMPLE, ids=[s[0] + str(i) for i, s in enumerate(SIMPLE)])
def test_simple_schedulers_match_torch(name: str, kw: dict) -> None:
    topt, eopt = _pair(groups=2, momentum=0.9)
    ts, es = _both(name, topt, eopt, **kw)
    _run(topt, eopt, ts, es)


CYCLIC = [
    ("SGD", {"momentum": 0.9}, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4}, "momentum"),
    ("SGD", {"momentum": 0.9}, {"base_lr": [0.01, 0.02], "max_lr": [0.1, 0.3], "step_size_up": 3,
                                "step_size_down": 5, "mode": "triangular2", "base_momentum": [0.7, 0.75],
                                "max_momentum": [0.95, 0.9]}, "momentum"),
    ("SGD", {"momentum": 0.9}, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5, "mode": "exp_range",
                                "gamma": 0.97}, "momentum"),
    ("Adam", {}, {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 6, "mode": "triangular2"}, "betas"),
    ("AdamW", {}, {"base_lr": 0.001, "max_lr": 0.01, "step_size_up": 2, "step_size_down": 7,
                   "mode": "exp_range", "gamma": 0.9}, "betas"),
    ("SGD", {}, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4, "cycle_momentum": False}, None),
    ("SGD", {"momentum": 0.5}, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4,
                                "scale_fn": lambda x: 1 / (1 + x), "scale_mode": "iterations"}, "momentum"),
    ("SGD", {"momentum": 0.5}, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3,
                                "scale_fn": lambda x: 0.8 ** x}, "momentum"),
]


@pytest.mark.parametrize("opt,okw,kw,key", CYCLIC, ids=[f"{c[0]}{i}" for i, c in enumerate(CYCLIC)])
def test_cyclic_lr_matches_torch(opt: str, okw: dict, kw: dict, key: str | None) -> None:
    topt, eopt = _pair(opt, groups=2, **okw)
    ts, es = _both("CyclicLR", topt, eopt, **kw)
    _run(topt, eopt, ts, es, steps=50, key=key)
    for tg, eg in zip(topt.param_groups, eopt.param_groups):
        for k in ("max_momentum", "base_momentum"):
            assert eg.get(k) == tg.get(k)


def test_chained_scheduler_matches_torch() -> None:
    topt, eopt = _pair(momentum=0.9)
    tl, el = torch.optim.lr_scheduler, ember.optim.lr_scheduler
    ts = tl.ChainedScheduler([tl.ConstantLR(topt, factor=0.1, total_iters=2), tl.ExponentialLR(topt, 0.9)],
                             optimizer=topt)
    es = el.ChainedScheduler([el.ConstantLR(eopt, factor=0.1, total_iters=2), el.ExponentialLR(eopt, 0.9)],
                             optimizer=eopt)
    _run(topt, eopt, ts, es, steps=12)
    tsd, esd = ts.state_dict(), es.state_dict()
    assert [list(s) for s in esd["_schedulers"]] == [list(s) for s in tsd["_schedulers"]]
    # without the optimizer argument, the first scheduler's is used
    topt, eopt = _pair()
    ts = tl.ChainedScheduler([tl.PolynomialLR(topt, 6), tl.MultiplicativeLR(topt, lambda e: 0.97)])
    es = el.ChainedScheduler([el.PolynomialLR(eopt, 6), el.MultiplicativeLR(eopt, lambda e: 0.97)])
    assert es.optimizer is eopt
    _run(topt, eopt, ts, es, steps=10)


def test_state_dict_round_trip() -> None:
    for name, kw in [("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "mode": "exp_range",
                                   "gamma": 0.95}),
                     ("PolynomialLR", {"total_iters": 9, "power": 2.0}), ("ConstantLR", {"total_iters": 4}),
                     ("MultiplicativeLR", {"lr_lambda": lambda e: 0.9})]:
        topt, eopt = _pair(momentum=0.9)
        ts, es = _both(name, topt, eopt, **kw)
        for _ in range(5):
            for o, s in ((topt, ts), (eopt, es)):
                o.step()
                s.step()
        tsd, esd = ts.state_dict(), es.state_dict()
        assert list(esd) == list(tsd)
        # a fresh scheduler resumes from the state, in both libraries
        topt2, eopt2 = _pair(momentum=0.9)
        ts2, es2 = _both(name, topt2, eopt2, **kw)
        ts2.load_state_dict(tsd)
        es2.load_state_dict(esd)
        assert es2.last_epoch == ts2.last_epoch == 5
        assert es2.get_last_lr() == pytest.approx(ts2.get_last_lr())
        for s in (ts2, es2):
            s.step()
        assert es2.get_last_lr() == pytest.approx(ts2.get_last_lr())


class _Scale:
    """A callable object: its attributes are saved in the state_dict (a plain function's are not)."""

    def __init__(self) -> None:
        self.k = 0.5

    def __call__(self, x: float) -> float:
        return self.k ** x


def test_cyclic_custom_scale_fn_state() -> None:
    topt, eopt = _pair(momentum=0.9)
    ts, es = _both("CyclicLR", topt, eopt, 0.01, 0.1, step_size_up=2, scale_fn=_Scale())
    tsd, esd = ts.state_dict(), es.state_dict()
    assert esd["_scale_fn_custom"] == tsd["_scale_fn_custom"] == {"k": 0.5}
    assert "_scale_fn_ref" not in esd
    esd["_scale_fn_custom"] = {"k": 0.25}
    es.load_state_dict(esd)
    assert es.scale_fn(2) == 0.0625
    ts2, es2 = _both("CyclicLR", topt, eopt, 0.01, 0.1, scale_fn=lambda x: 1.0)
    assert es2.state_dict()["_scale_fn_custom"] is ts2.state_dict()["_scale_fn_custom"] is None


def test_closed_form_with_epoch() -> None:
    for name, kw in [("ConstantLR", {"factor": 0.5, "total_iters": 3}), ("PolynomialLR", {"total_iters": 8})]:
        topt, eopt = _pair()
        ts, es = _both(name, topt, eopt, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (2, 5, 3, 10):
                topt.step()
                eopt.step()
                ts.step(epoch)
                es.step(epoch)
                assert es.get_last_lr() == pytest.approx(ts.get_last_lr())


def _raises_same(fn: Any) -> None:
    with pytest.raises(Exception) as t:
        fn(torch)
    with pytest.raises(type(t.value)) as e:
        fn(ember)
    assert str(e.value) == str(t.value).replace("torch", "ember")


def test_errors_match_torch() -> None:
    def opt(lib: Any, **kw: Any) -> Any:
        return lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1, **kw)

    def sch(lib: Any) -> Any:
        return lib.optim.lr_scheduler

    _raises_same(lambda lib: sch(lib).ConstantLR(opt(lib), factor=1.5))
    _raises_same(lambda lib: sch(lib).MultiplicativeLR(opt(lib), 0.9))
    _raises_same(lambda lib: sch(lib).MultiplicativeLR(opt(lib), [lambda e: 1, lambda e: 1]))
    _raises_same(lambda lib: sch(lib).CyclicLR(opt(lib), 0.1, 1.0, mode="zigzag"))
    _raises_same(lambda lib: sch(lib).CyclicLR(opt(lib), [0.1, 0.2], 1.0))
    _raises_same(lambda lib: sch(lib).CyclicLR(opt(lib), 0.1, 1.0, max_momentum=[0.9, 0.9]))
    _raises_same(lambda lib: sch(lib).CyclicLR(
        lib.optim.Adagrad([lib.nn.Parameter(lib.zeros(1))]), 0.1, 1.0))
    _raises_same(lambda lib: sch(lib).CyclicLR("sgd", 0.1, 1.0))
    _raises_same(lambda lib: sch(lib).ChainedScheduler([]))
    _raises_same(lambda lib: sch(lib).ChainedScheduler([sch(lib).ReduceLROnPlateau(opt(lib))]))
    _raises_same(lambda lib: sch(lib).ChainedScheduler([object()]))


def test_chained_other_optimizer_error() -> None:
    msgs = []
    for lib in (torch, ember):
        o1 = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1)
        o2 = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1)
        s = lib.optim.lr_scheduler
        with pytest.raises(ValueError) as err:
            s.ChainedScheduler([s.ConstantLR(o1), s.ConstantLR(o2)])
        msgs.append(str(err.value).split(" has ")[0])
    assert msgs[0] == msgs[1]


def test_warnings_match_torch() -> None:
    for lib in (torch, ember):
        o = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1, momentum=0.9)
        s = lib.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1)
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            s.get_lr()
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            s.step()
        p = lib.optim.lr_scheduler.PolynomialLR(o)
        o.step()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            p.step()


def test_names_and_repr() -> None:
    names = ["MultiplicativeLR", "ConstantLR", "PolynomialLR", "CyclicLR", "ChainedScheduler"]
    for n in names:
        assert n in ember.optim.lr_scheduler.__all__
        cls = getattr(ember.optim.lr_scheduler, n)
        assert issubclass(cls, ember.optim.lr_scheduler.LRScheduler)
        assert cls.__module__ == "ember.optim.lr_scheduler"
    assert sorted(ember.optim.lr_scheduler.__all__) == sorted(torch.optim.lr_scheduler.__all__)


def test_inside_sequential_and_chained_with_adam() -> None:
    traj = []
    for lib in (torch, ember):
        lsch = lib.optim.lr_scheduler
        p = [lib.nn.Parameter(lib.zeros(2))]
        o = lib.optim.SGD(p, lr=0.1, momentum=0.9)
        s = lsch.SequentialLR(o, [lsch.ConstantLR(o, 0.5, total_iters=3), lsch.PolynomialLR(o, 6, power=2.0),
                                  lsch.MultiplicativeLR(o, lambda e: 0.9)], [4, 8])
        o2 = lib.optim.Adam(p, lr=0.1)
        c = lsch.ChainedScheduler([lsch.CyclicLR(o2, 0.01, 0.1, step_size_up=3), lsch.ConstantLR(o2, 0.5, 4)])
        out = []
        for _ in range(14):
            o.step()
            o2.step()
            s.step()
            c.step()
            out.append((s.get_last_lr()[0], c.get_last_lr()[0], o2.param_groups[0]["betas"]))
        traj.append(out)
    for t, e in zip(*traj):
        assert e[0] == pytest.approx(t[0], rel=1e-13) and e[1] == pytest.approx(t[1], rel=1e-13)
        assert e[2] == pytest.approx(t[2], rel=1e-13)


def test_resume_without_initial_lr_matches_torch() -> None:
    _raises_same(lambda lib: lib.optim.lr_scheduler.CyclicLR(
        lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1, momentum=0.9), 0.01, 0.1, last_epoch=3))
    _raises_same(lambda lib: lib.optim.lr_scheduler.PolynomialLR(
        lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1), last_epoch=0))


ALL = [("LambdaLR", {"lr_lambda": lambda e: 0.9 ** e}), ("MultiplicativeLR", {"lr_lambda": lambda e: 0.9}),
       ("StepLR", {"step_size": 2}), ("MultiStepLR", {"milestones": [2, 4]}), ("ConstantLR", {}),
       ("LinearLR", {}), ("ExponentialLR", {"gamma": 0.9}), ("PolynomialLR", {}),
       ("CosineAnnealingLR", {"T_max": 5}), ("CosineAnnealingWarmRestarts", {"T_0": 3}),
       ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 2}),
       ("OneCycleLR", {"max_lr": 0.5, "total_steps": 20})]


@pytest.mark.parametrize("name,kw", ALL, ids=[a[0] for a in ALL])
def test_get_lr_outside_step_warns_as_torch(name: str, kw: dict) -> None:
    for lib in (torch, ember):
        o = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=0.1, momentum=0.9)
        s = getattr(lib.optim.lr_scheduler, name)(o, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # stepping in the right order warns nothing
            for _ in range(4):
                o.step()
                s.step()
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            s.get_lr()


def test_lambda_schedulers_save_callables_as_torch_does():
    # a plain function is saved as None, any other callable (partial, bound method, object) as its attributes
    import functools

    class Scale:
        def __init__(self):
            self.k = 2

        def __call__(self, epoch):
            return 0.5

        def method(self, epoch):
            return 0.5

    got = {}
    for lib in (ember, torch):
        s = Scale()
        fns = [lambda e: 0.5, functools.partial(lambda e, a: a, a=0.5), s, s.method]
        for name in ("LambdaLR", "MultiplicativeLR"):
            for i, fn in enumerate(fns):
                opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(1))], lr=1.0)
                sched = getattr(lib.optim.lr_scheduler, name)(opt, fn)
                got.setdefault((name, i), []).append(sched.state_dict()["lr_lambdas"])
    for key, (e, t) in got.items():
        assert e == t, key
