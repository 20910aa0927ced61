"""ember.set_num_threads applies to NumPy's BLAS, process-wide, as torch's intra-op setting does."""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np
import pytest
import torch

import ember
from ember import _blas


def _blas_found() -> bool:
    return _blas.get_num_threads() is not None


def _threadpoolctl_blas() -> Any:
    """NumPy's BLAS count as an independent tool reads it (None where the tool is absent)."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    counts = [i["num_threads"] for i in threadpoolctl.threadpool_info()
              if i["user_api"] == "blas" and "numpy" in i["filepath"]]
    return counts[0] if counts else None


@pytest.fixture
def restore_threads() -> Any:
    old = ember.get_num_threads()
    yield old
    ember.set_num_threads(old)


def test_default_is_the_cores_or_blas(restore_threads: int) -> None:
    assert restore_threads >= 1
    if not _blas_found():
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        assert restore_threads == cores


def test_set_then_get_and_restore(restore_threads: int) -> None:
    ember.set_num_threads(1)
    assert ember.get_num_threads() == 1
    ember.set_num_threads(3)
    assert ember.get_num_threads() == 3
    ember.set_num_threads(restore_threads)
    assert ember.get_num_threads() == restore_threads


def test_applies_to_numpy_blas(restore_threads: int) -> None:
    if not _blas_found():
        pytest.skip("NumPy's BLAS is not an OpenBLAS ember can reach: set_num_threads only records")
    ember.set_num_threads(1)
    assert _blas.get_num_threads() == 1
    seen = _threadpoolctl_blas()
    assert seen in (None, 1)
    a = np.arange(64.0).reshape(8, 8)
    np.testing.assert_allclose(a @ a, np.einsum("ij,jk->ik", a, a))  # products still right on one thread
    ember.set_num_threads(2)
    assert _blas.get_num_threads() == 2
    assert _threadpoolctl_blas() in (None, 2)


def test_one_thread_block_leaves_the_setting(restore_threads: int) -> None:
    ember.set_num_threads(2)
    with _blas.one_thread():
        np.ones((4, 4)) @ np.ones((4, 4))
    assert ember.get_num_threads() == 2


def _same_error(efn: Callable[[], Any], tfn: Callable[[], Any]) -> None:
    with pytest.raises(Exception) as t:
        tfn()
    with pytest.raises(type(t.value)) as e:
        efn()
    assert str(e.value) == str(t.value)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2", None, 2 ** 40])
def test_errors_match_torch(bad: Any, restore_threads: int) -> None:
    _same_error(lambda: ember.set_num_threads(bad), lambda: torch.set_num_threads(bad))
    assert ember.get_num_threads() == restore_threads  # a refused value changes nothing


def test_without_blas_library_only_records(monkeypatch: pytest.MonkeyPatch, restore_threads: int) -> None:
    # where NumPy's BLAS is not found, setting is recorded and reported, and nothing else happens
    monkeypatch.setattr(_blas, "_SETTERS", (None, None, None))
    assert _blas.set_num_threads(5) is False and _blas.get_num_threads() is None
    ember.set_num_threads(5)
    assert ember.get_num_threads() == 5
    with _blas.one_thread():
        pass


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, None])
def test_interop_errors_match_torch(bad: Any) -> None:
    _same_error(lambda: ember.set_num_interop_threads(bad), lambda: torch.set_num_interop_threads(bad))


def test_one_thread_blocks_on_two_threads_restore_the_count(restore_threads: int) -> None:
    # OpenBLAS's "local" setter changes the process's count: blocks that overlap on two threads
    # (the LSTM's loop and its helper) must still leave the count as it was
    import threading

    if not _blas_found():
        pytest.skip("NumPy's BLAS is not an OpenBLAS ember can reach")
    ember.set_num_threads(3)
    entered, leave = threading.Event(), threading.Event()

    def other() -> None:
        with _blas.one_thread():
            entered.set()
            leave.wait(10)

    th = threading.Thread(target=other)
    with _blas.one_thread():  # first in here, last out on the other thread
        th.start()
        entered.wait(10)
        assert ember.get_num_threads() == 3  # (the count the blocks will restore)
    assert _blas._setters()[2]() == 1  # the other block still runs
    leave.set()
    th.join()
    assert _blas._setters()[2]() == 3 and ember.get_num_threads() == 3
