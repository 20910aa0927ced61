"""Optimizers and schedulers against torch: same model, same data, same trajectory."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

R = np.random.default_rng(0)
X = R.standard_normal((16, 5)).astype(np.float32)
Y = R.standard_normal((16, 2)).astype(np.float32)


def mlp(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(5, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2))


OPTS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-2}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.3, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.003, "centered": True, "momentum": 0.5, "weight_decay": 0.01, "eps": 1e-3}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.001, "etas": (0.3, 1.5), "step_sizes": (1e-4, 0.01), "maximize": True}),
    ("ASGD", {"lr": 0.05}),
    ("ASGD", {"lr": 0.05, "t0": 20, "weight_decay": 0.01, "lambd": 0.01}),
]


@pytest.mark.parametrize("name,kw", OPTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTS)])
def test_trajectory_matches_torch(name: str, kw: dict) -> None:
    tm, em = mlp(torch), mlp(ember)
    for (_, a), (_, b) in zip(tm.state_dict().items(), em.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    topt = getattr(torch.optim, name)(tm.parameters(), **kw)
    eopt = getattr(ember.optim, name)(em.parameters(), **kw)
    tx, ty, ex, ey = torch.tensor(X), torch.tensor(Y), ember.tensor(X), ember.tensor(Y)
    for _ in range(100):
        topt.zero_grad()
        eopt.zero_grad()
        sign = -1 if kw.get("maximize") else 1
        (sign * torch.nn.functional.mse_loss(tm(tx), ty)).backward()
        (sign * ember.nn.functional.mse_loss(em(ex), ey)).backward()
        topt.step()
        eopt.step()
    for (n, a), (_, b) in zip(tm.named_parameters(), em.named_parameters()):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=n)
    # state dicts have the same structure and values
    ts, es = topt.state_dict(), eopt.state_dict()
    assert ts["param_groups"] == es["param_groups"]
    assert ts["state"].keys() == es["state"].keys()
    # centered RMSprop divides by sqrt(square_avg - grad_avg^2), a cancellation that turns 1e-10 float32
    # differences in square_avg (matmul summation order) into ~2e-5 in its momentum buffer by step 100
    atol = 5e-5 if kw.get("centered") else 1e-5
    for k in ts["state"]:
        assert ts["state"][k].keys() == es["state"][k].keys()
        for key in ts["state"][k]:
            np.testing.assert_allclose(es["state"][k][key].numpy(), ts["state"][k][key].numpy(), rtol=1e-4,
                                       atol=atol)


def test_lbfgs_matches_torch() -> None:
    tm, em = mlp(torch), mlp(ember)
    topt = torch.optim.LBFGS(tm.parameters(), lr=0.5, max_iter=10)
    eopt = ember.optim.LBFGS(em.parameters(), lr=0.5, max_iter=10)
    tx, ty, ex, ey = torch.tensor(X), torch.tensor(Y), ember.tensor(X), ember.tensor(Y)

    def tclosure():
        topt.zero_grad()
        loss = torch.nn.functional.mse_loss(tm(tx), ty)
        loss.backward()
        return loss

    def eclosure():
        eopt.zero_grad()
        loss = ember.nn.functional.mse_loss(em(ex), ey)
        loss.backward()
        return loss

    for _ in range(3):
        tl = topt.step(tclosure)
        el = eopt.step(eclosure)
        np.testing.assert_allclose(float(el), float(tl), rtol=1e-4)
    for (n, a), (_, b) in zip(tm.named_parameters(), em.named_parameters()):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-3, atol=1e-4, err_msg=n)


def test_optimizer_state_dict_round_trip_and_param_groups() -> None:
    em = mlp(ember)
    opt = ember.optim.Adam([{"params": em[0].parameters()}, {"params": em[2].parameters(), "lr": 0.1}], lr=0.01)
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[0]["lr"] == 0.01
    ember.nn.functional.mse_loss(em(ember.tensor(X)), ember.tensor(Y)).backward()
    opt.step()
    sd = opt.state_dict()
    em2 = mlp(ember)
    opt2 = ember.optim.Adam([{"params": em2[0].parameters()}, {"params": em2[2].parameters(), "lr": 0.1}], lr=0.01)
    opt2.load_state_dict(sd)
    assert float(opt2.state[em2[0].weight]["step"]) == 1.0
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [em[0].weight]})
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        ember.optim.SGD([], lr=0.1)
    # loading torch's optimizer state into ember
    tm = mlp(torch)
    topt = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9)
    torch.nn.functional.mse_loss(tm(torch.tensor(X)), torch.tensor(Y)).backward()
    topt.step()
    eopt = ember.optim.SGD(em.parameters(), lr=0.1, momentum=0.9)
    tsd = topt.state_dict()
    eopt.load_state_dict({"state": {k: {kk: ember.tensor(vv.numpy()) for kk, vv in v.items()}
                                    for k, v in tsd["state"].items()}, "param_groups": tsd["param_groups"]})
    np.testing.assert_array_equal(eopt.state[em[0].weight]["momentum_buffer"].numpy(),
                                  tsd["state"][0]["momentum_buffer"].numpy())


SCHEDS = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 8], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("CosineAnnealingWarmRestarts", {"T_0": 4, "T_mult": 2, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": lambda e: 0.95 ** e}),
    ("LinearLR", {"start_factor": 0.2, "total_iters": 6}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 25}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 25, "anneal_strategy": "linear", "three_phase": True}),
]


@pytest.mark.parametrize("name,kw", SCHEDS, ids=[s[0] + str(i) for i, s in enumerate(SCHEDS)])
def test_scheduler_matches_torch(name: str, kw: dict) -> None:
    tp = [torch.nn.Parameter(torch.zeros(2))]
    ep = [ember.nn.Parameter(ember.zeros(2))]
    topt = torch.optim.SGD(tp, lr=0.1, momentum=0.9)
    eopt = ember.optim.SGD(ep, lr=0.1, momentum=0.9)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    es = getattr(ember.optim.lr_scheduler, name)(eopt, **kw)
    for _ in range(24):
        assert es.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
        assert eopt.param_groups[0]["momentum"] == pytest.approx(topt.param_groups[0]["momentum"])
        topt.step()
        eopt.step()
        ts.step()
        es.step()
    assert es.state_dict()["last_epoch"] == ts.state_dict()["last_epoch"]


def test_sequential_and_plateau_match_torch() -> None:
    tp = [torch.nn.Parameter(torch.zeros(2))]
    ep = [ember.nn.Parameter(ember.zeros(2))]
    topt, eopt = torch.optim.SGD(tp, lr=0.1), ember.optim.SGD(ep, lr=0.1)
    tl = torch.optim.lr_scheduler
    el = ember.optim.lr_scheduler
    ts = tl.SequentialLR(topt, [tl.LinearLR(topt, 0.1, total_iters=3), tl.ExponentialLR(topt, 0.9)], [3])
    es = el.SequentialLR(eopt, [el.LinearLR(eopt, 0.1, total_iters=3), el.ExponentialLR(eopt, 0.9)], [3])
    for _ in range(10):
        assert es.get_last_lr() == pytest.approx(ts.get_last_lr())
        ts.step()
        es.step()
    topt, eopt = torch.optim.SGD(tp, lr=0.1), ember.optim.SGD(ep, lr=0.1)
    ts = tl.ReduceLROnPlateau(topt, patience=2, factor=0.5, cooldown=1)
    es = el.ReduceLROnPlateau(eopt, patience=2, factor=0.5, cooldown=1)
    for m in [5, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3]:
        ts.step(m)
        es.step(m)
        assert es.get_last_lr() == pytest.approx(ts.get_last_lr())
