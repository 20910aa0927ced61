"""Tensor.resize_/resize_as_, nn.parallel (DataParallel, data_parallel) and the xpu namespace, against torch."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _both(fn):
    return fn(ember), fn(torch)


def _same(a, b) -> None:
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_resize_same_shape_is_a_noop_without_version_bump():
    for lib in (ember, torch):
        x = lib.arange(6.0).reshape(2, 3)
        v = x._version
        assert x.resize_(2, 3) is x
        assert x._version == v


@pytest.mark.parametrize("make, size", [
    (lambda lib: lib.arange(6.0).reshape(2, 3), (3,)),           # shrink: the leading elements
    (lambda lib: lib.arange(6.0).reshape(2, 3).t(), (2, 2)),     # storage order, not logical order
    (lambda lib: lib.arange(6.0)[2:], (3,)),                     # from the view's offset
    (lambda lib: lib.arange(6.0), ([1, 2],)),                    # a list of sizes
    (lambda lib: lib.arange(6.0), ((2, 1),)),                    # a tuple of sizes
])
def test_resize_keeps_leading_storage_elements(make, size):
    e, t = _both(lambda lib: make(lib).resize_(*size))
    _same(e, t)
    assert e.is_contiguous() and t.is_contiguous()


def test_resize_grows_keeping_the_old_elements_first_and_bumps_version():
    e, t = _both(lambda lib: lib.arange(4.0))
    ve, vt = e._version, t._version
    e.resize_(2, 3)
    t.resize_(2, 3)
    assert tuple(e.shape) == tuple(t.shape) == (2, 3)
    _same(e[0], t[0])
    np.testing.assert_array_equal(e.numpy().reshape(-1)[:4], t.numpy().reshape(-1)[:4])
    assert e._version - ve == t._version - vt == 1


def test_resize_shares_storage_when_shrinking():
    for lib in (ember, torch):
        base = lib.zeros(6)
        base.data.resize_(2, 2).fill_(1.0)  # resizes the alias only; writes reach the storage
        assert tuple(base.shape) == (6,)
        assert base.tolist() == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]


def test_resize_of_data_alias_keeps_the_original_shape():
    for lib in (ember, torch):
        x = lib.zeros(3, requires_grad=True)
        assert tuple(x.data.resize_(1).shape) == (1,)
        assert tuple(x.shape) == (3,)


@pytest.mark.parametrize("size", [(3,), (4,)])
def test_resize_refuses_tensors_requiring_grad(size):
    for lib in (ember, torch):
        w = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            w.resize_(*size)
        with lib.no_grad(), pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            w.resize_(*size)
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            (w * 2).resize_(2)


def test_resize_as():
    e, t = _both(lambda lib: lib.arange(6.0).resize_as_(lib.zeros(2, 3)))
    _same(e, t)


def test_data_parallel_module_wraps_on_cpu():
    e, t = _both(lambda lib: lib.nn.parallel.DataParallel(lib.nn.Linear(2, 3)))
    assert repr(e) == repr(t)
    assert e.device_ids == t.device_ids == []
    assert isinstance(e.module, ember.nn.Linear)
    assert list(dict(e.named_parameters())) == list(dict(t.named_parameters())) == ["module.weight", "module.bias"]
    assert list(e.state_dict()) == list(t.state_dict())
    x = ember.ones(1, 2)
    np.testing.assert_array_equal(e(x).detach().numpy(), e.module(x).detach().numpy())
    assert ember.nn.DataParallel is ember.nn.parallel.DataParallel


@pytest.mark.parametrize("ids", [None, [0], range(1)])
def test_functional_data_parallel_has_no_device_on_cpu(ids):
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="device type could not be determined"):
            lib.nn.parallel.data_parallel(lib.nn.Linear(2, 3), lib.ones(1, 2), ids)


def test_xpu_answers_as_a_cpu_build():
    import importlib

    importlib.import_module("ember.xpu")
    for name in ("is_available", "is_initialized", "is_bf16_supported"):
        assert getattr(ember.xpu, name)() is getattr(torch.xpu, name)() is False
    for name in ("device_count", "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved"):
        assert getattr(ember.xpu, name)() == getattr(torch.xpu, name)() == 0
    assert ember.xpu.get_arch_list() == torch.xpu.get_arch_list() == []
    for name in ("empty_cache", "seed", "seed_all"):
        assert getattr(ember.xpu, name)() is None
    ember.xpu.manual_seed(0)
    ember.xpu.manual_seed_all(0)
    for name in ("current_device", "synchronize", "get_device_name", "get_rng_state", "init", "initial_seed",
                 "get_device_capability", "get_device_properties"):
        with pytest.raises(AssertionError, match="Torch not compiled with XPU enabled"):
            getattr(torch.xpu, name)()
        with pytest.raises(AssertionError, match="Torch not compiled with XPU enabled"):
            getattr(ember.xpu, name)()


def test_range_as_an_index_matches_torch():
    def run(lib):
        x = lib.arange(12.0).reshape(3, 4)
        a = x[range(3), lib.tensor([0, 1, 2])]
        b = x[range(2)]
        x[range(3), lib.tensor([3, 2, 1])] = -1.0
        x[:, range(1, 3)] = 5.0
        return a, b, x

    for e, t in zip(*_both(run)):
        _same(e, t)


@pytest.mark.parametrize("name", ["uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
                                  "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"])
def test_deprecated_init_spellings_warn_and_fill_like_torch(name):
    args = {"constant": (0.5,), "sparse": (0.5,)}.get(name, ())
    shape = (3, 4, 3) if name == "dirac" else (4, 5)
    out = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        t = lib.empty(*shape)
        with pytest.warns(FutureWarning, match=f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`"):
            r = getattr(lib.nn.init, name)(t, *args)
        assert r is t
        out.append(t)
    np.testing.assert_allclose(out[0].numpy(), out[1].numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("size", [(2, -1), (-1,)])
def test_resize_refuses_negative_sizes(size):
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="numel: integer multiplication overflow"):
            lib.ones(2).resize_(*size)
