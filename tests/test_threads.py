"""Threads: grad mode and saved-tensor hooks are per thread and anomaly mode is process-wide, each
exactly as torch has them (observed from torch in the same scenario, not assumed), and backward on
separate graphs from 8 threads at once gives torch's gradients."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

import ember


def _in_thread(fn) -> None:
    errors: list = []

    def run() -> None:
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - reported in the main thread
            errors.append(e)

    th = threading.Thread(target=run)
    th.start()
    th.join()
    if errors:
        raise errors[0]


def _grad_mode_scenario(lib) -> dict:
    seen: dict = {}
    with lib.no_grad():
        _in_thread(lambda: seen.__setitem__("new_thread_under_no_grad", lib.is_grad_enabled()))
        x = lib.ones(2, requires_grad=True)
        _in_thread(lambda: seen.__setitem__("graph_built_in_thread", (x * 2).requires_grad))
    _in_thread(lambda: lib.set_grad_enabled(False))
    seen["main_after_thread_disabled"] = lib.is_grad_enabled()

    def inference() -> None:
        with lib.inference_mode():
            seen["thread_inference"] = lib.is_inference_mode_enabled()
    _in_thread(inference)
    seen["main_inference"] = lib.is_inference_mode_enabled()
    return seen


def _anomaly_scenario(lib) -> dict:
    seen: dict = {}
    try:
        lib.autograd.set_detect_anomaly(True, check_nan=False)
        _in_thread(lambda: seen.__setitem__("thread_sees_main", (lib.is_anomaly_enabled(),
                                                                 lib.is_anomaly_check_nan_enabled())))
        lib.autograd.set_detect_anomaly(False)

        def enable() -> None:
            lib.autograd.set_detect_anomaly(True)
        _in_thread(enable)
        seen["main_sees_thread"] = lib.is_anomaly_enabled()
        lib.autograd.set_detect_anomaly(False)

        def block() -> None:
            with lib.autograd.detect_anomaly():
                seen["inside_thread_block"] = lib.is_anomaly_enabled()
        _in_thread(block)
        seen["after_thread_block"] = lib.is_anomaly_enabled()
    finally:
        lib.autograd.set_detect_anomaly(False)
    return seen


def test_grad_mode_is_per_thread_as_in_torch() -> None:
    want = _grad_mode_scenario(torch)
    assert want["new_thread_under_no_grad"] is True  # (what the scenario is about)
    assert _grad_mode_scenario(ember) == want


def test_anomaly_mode_is_process_wide_as_in_torch() -> None:
    want = _anomaly_scenario(torch)
    assert want["main_sees_thread"] is True
    assert _anomaly_scenario(ember) == want


def test_anomaly_set_in_a_thread_records_forward_stacks_in_main() -> None:
    def enable() -> None:
        ember.autograd.set_detect_anomaly(True)
    try:
        _in_thread(enable)
        x = ember.tensor([-1.0, 0.0], requires_grad=True)
        y = (x.sqrt() * 0).sum()  # sqrt's gradient at 0 * 0 and at a NaN: NaN in its backward
        with pytest.warns(UserWarning, match="Traceback of forward call"), \
                pytest.raises(RuntimeError, match="returned nan values"):
            y.backward()
    finally:
        ember.autograd.set_detect_anomaly(False)


def _hooks_scenario(lib) -> tuple:
    packed: list = []
    seen: dict = {}

    def work() -> None:
        x = lib.ones(3, requires_grad=True)
        (x * x).sum().backward()
        seen["grad"] = x.grad.tolist()

    with lib.autograd.graph.saved_tensors_hooks(lambda t: packed.append(1) or t, lambda t: t):
        _in_thread(work)
        y = lib.ones(2, requires_grad=True) * 3
    return len(packed), seen["grad"], y.requires_grad


def test_saved_tensor_hooks_are_per_thread_as_in_torch() -> None:
    want = _hooks_scenario(torch)
    assert want[0] == 0
    assert _hooks_scenario(ember) == want


def _job(lib, seed: int) -> tuple:
    """A two-layer net's loss and gradients; the same numbers for torch and ember."""
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.standard_normal((16, 8)))
    w1 = lib.tensor(rng.standard_normal((8, 32)) * 0.3, requires_grad=True)
    w2 = lib.tensor(rng.standard_normal((32, 4)) * 0.3, requires_grad=True)
    target = lib.tensor(rng.integers(0, 4, 16))
    loss = lib.nn.functional.cross_entropy(x.matmul(w1).tanh().matmul(w2), target)
    loss.backward()
    return loss.item(), w1.grad.numpy().copy(), w2.grad.numpy().copy()


def test_backward_from_eight_threads_at_once() -> None:
    seeds = list(range(8))
    want = {s: _job(torch, s) for s in seeds}
    got: dict = {s: [] for s in seeds}
    start = threading.Barrier(len(seeds))

    def worker(seed: int) -> None:
        start.wait()
        for _ in range(20):  # many passes, so the threads' backward passes overlap
            got[seed].append(_job(ember, seed))

    threads = [threading.Thread(target=worker, args=(s,)) for s in seeds]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for s in seeds:
        assert len(got[s]) == 20
        for loss, g1, g2 in got[s]:
            assert loss == pytest.approx(want[s][0], rel=1e-12)
            np.testing.assert_allclose(g1, want[s][1], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(g2, want[s][2], rtol=1e-10, atol=1e-12)
