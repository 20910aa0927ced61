"""``load(weights_only=...)`` as in torch 2.13: the restricted loader by default, the full unpickler on request.

Round trips both ways with torch: a dict holding NumPy objects and whole pickled models.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

import ember
from ember import serialization

X = np.random.default_rng(0).standard_normal((5, 2, 6, 6)).astype(np.float32)


def _model(lib: object) -> object:
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(12, 4), nn.LayerNorm(4), nn.Dropout(0.1))


def _out(lib: object, m: object) -> np.ndarray:
    m.eval()
    return m(lib.tensor(X)).detach().numpy()


def _ember_text(torch_message: str) -> str:
    return torch_message.replace("`torch.load`", "`ember.load`").replace("`torch.serialization.", "`ember.serialization.")


def _numpy_dict(lib: object) -> dict:
    return {"series": np.arange(6.0).reshape(2, 3), "t": lib.ones(2), "names": ["a", "b"]}


def test_torch_model_loads_as_ember_classes(tmp_path) -> None:
    torch.manual_seed(0)
    tm = _model(torch)
    path = tmp_path / "model.pt"
    torch.save(tm, path)
    em = ember.load(path, weights_only=False)
    assert type(em) is ember.nn.Sequential and type(em[1]) is ember.nn.BatchNorm2d
    assert type(em[5].weight) is ember.nn.Parameter and em[5].weight.requires_grad
    np.testing.assert_allclose(_out(ember, em), _out(torch, tm), rtol=1e-5, atol=1e-6)
    assert repr(em) == repr(tm)


def test_ember_model_loads_in_torch_as_torch_classes(tmp_path) -> None:
    ember.manual_seed(0)
    em = _model(ember)
    path = tmp_path / "model.pt"
    ember.save(em, path)
    tm = torch.load(path, weights_only=False)
    assert type(tm) is torch.nn.Sequential and type(tm[1]) is torch.nn.BatchNorm2d
    np.testing.assert_allclose(_out(torch, tm), _out(ember, em), rtol=1e-5, atol=1e-6)
    back = ember.load(path, weights_only=False)  # and back again through the torch names
    np.testing.assert_allclose(_out(ember, back), _out(ember, em), rtol=1e-6)


@pytest.mark.parametrize("writer", ["torch", "ember"])
def test_numpy_dict_round_trip(tmp_path, writer: str) -> None:
    path = tmp_path / "data.pt"
    (torch if writer == "torch" else ember).save(_numpy_dict(torch if writer == "torch" else ember), path)
    for lib in (torch, ember):
        got = lib.load(path, weights_only=False)
        np.testing.assert_array_equal(got["series"], np.arange(6.0).reshape(2, 3))
        assert isinstance(got["series"], np.ndarray) and got["names"] == ["a", "b"]
        assert isinstance(got["t"], lib.Tensor) and got["t"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("what", ["numpy", "model"])
def test_default_loader_refuses_with_torchs_message(tmp_path, what: str) -> None:
    path = tmp_path / "x.pt"
    torch.save(_numpy_dict(torch) if what == "numpy" else _model(torch), path)
    with pytest.raises(pickle.UnpicklingError) as te:
        torch.load(path)
    with pytest.raises(pickle.UnpicklingError) as ee:
        ember.load(path)
    assert str(ee.value) == _ember_text(str(te.value))
    with pytest.raises(pickle.UnpicklingError):
        ember.load(path, weights_only=True)


def test_safe_globals_allow_numpy_in_the_restricted_loader(tmp_path) -> None:
    path = tmp_path / "arr.pt"
    arr = np.arange(4.0)
    torch.save(arr, path)
    allow = [np._core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.float64))]
    for lib in (torch, ember):
        with lib.serialization.safe_globals(allow):
            np.testing.assert_array_equal(lib.load(path), arr)
            assert all(g in lib.serialization.get_safe_globals() for g in allow)
        with pytest.raises(pickle.UnpicklingError):
            lib.load(path)
    serialization.add_safe_globals(allow)
    try:
        np.testing.assert_array_equal(ember.load(path), arr)
        assert serialization.get_safe_globals() == allow
    finally:
        serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []


def test_safe_class_by_torch_name_resolves_to_embers(tmp_path) -> None:
    path = tmp_path / "lin.pt"
    torch.save(torch.nn.Linear(3, 2), path)
    with serialization.safe_globals([ember.nn.Linear]):
        m = ember.load(path)
    assert type(m) is ember.nn.Linear and m.weight.shape == (2, 3)


def test_pickle_module_and_weights_only(tmp_path) -> None:
    path = tmp_path / "model.pt"
    torch.save(torch.nn.ReLU(), path)
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module is specified"):
            lib.load(path, pickle_module=pickle, weights_only=True)
        assert type(lib.load(path, pickle_module=pickle)).__name__ == "ReLU"  # an explicit pickle_module: full loader


def test_class_ember_lacks_is_named(tmp_path) -> None:
    path = tmp_path / "m.pt"
    torch.save(torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4]), path)
    if hasattr(ember.nn, "AdaptiveLogSoftmaxWithLoss"):
        pytest.skip("ember has it now")
    with pytest.raises(AttributeError, match="ember does not implement torch.nn.modules.adaptive.AdaptiveLogSoftmaxWithLoss"):
        ember.load(path, weights_only=False)
