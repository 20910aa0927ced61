"""ember.save / ember.load: PyTorch's zip format, both ways, and a loader that never runs code."""

from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

import ember


def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Conv2d(1, 2, 3), lib.nn.BatchNorm2d(2), lib.nn.Flatten(), lib.nn.Linear(8, 3))


def test_ember_file_loads_in_torch(tmp_path) -> None:
    m = _model(ember)
    path = tmp_path / "m.pt"
    obj = {"model": m.state_dict(), "step": 7, "lr": 0.5, "names": ["a", "b"], "shape": (2, 3),
           "ints": ember.arange(5), "half": ember.ones(2, dtype=ember.float16), "scalar": ember.tensor(2.5),
           "view": ember.arange(12.0).reshape(3, 4)[:, 1], "param": m[3].weight, "dtype": ember.float64,
           "size": ember.Size([4, 5])}
    ember.save(obj, path)
    t = torch.load(path, weights_only=True)
    assert isinstance(t["model"], collections.OrderedDict)
    assert list(t["model"].keys()) == list(m.state_dict().keys())
    for k, v in m.state_dict().items():
        assert t["model"][k].dtype == getattr(torch, v.dtype.name)
        np.testing.assert_array_equal(t["model"][k].numpy(), v.numpy())
    assert t["model"]["1.num_batches_tracked"].shape == ()
    assert t["step"] == 7 and t["lr"] == 0.5 and t["names"] == ["a", "b"] and t["shape"] == (2, 3)
    assert t["scalar"].shape == () and float(t["scalar"]) == 2.5
    np.testing.assert_array_equal(t["view"].numpy(), [1.0, 5.0, 9.0])
    assert isinstance(t["param"], torch.nn.Parameter) and t["param"].requires_grad
    assert t["dtype"] is torch.float64 and t["size"] == torch.Size([4, 5])
    tm = _model(torch)
    tm.load_state_dict(t["model"])


def test_torch_file_loads_in_ember(tmp_path) -> None:
    tm = _model(torch)
    tm(torch.randn(4, 1, 4, 4))  # update running stats
    path = tmp_path / "t.pt"
    base = torch.arange(10.0)
    torch.save({"model": tm.state_dict(), "shared": (base[2:5], base[::3]), "opt": {"step": 3},
                "p": torch.nn.Parameter(torch.ones(2)), "b": torch.tensor([True, False]),
                "i32": torch.tensor([1, 2], dtype=torch.int32)}, path)
    e = ember.load(path)
    em = _model(ember)
    em.load_state_dict(e["model"])
    for k, v in tm.state_dict().items():
        np.testing.assert_array_equal(em.state_dict()[k].numpy(), v.numpy())
    np.testing.assert_array_equal(e["shared"][0].numpy(), [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(e["shared"][1].numpy(), [0.0, 3.0, 6.0, 9.0])
    assert isinstance(e["p"], ember.nn.Parameter) and e["p"].requires_grad
    assert e["b"].dtype == ember.bool and e["i32"].dtype == ember.int32
    assert e["model"]._metadata[""]["version"] == 1
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32)
    tm.eval()
    em.eval()
    np.testing.assert_allclose(em(ember.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_round_trip_in_memory_and_optimizer_state() -> None:
    m = _model(ember)
    opt = ember.optim.Adam(m.parameters(), lr=0.01)
    m(ember.randn(2, 1, 4, 4)).sum().backward()
    opt.step()
    buf = io.BytesIO()
    ember.save({"opt": opt.state_dict(), "model": m.state_dict()}, buf)
    buf.seek(0)
    back = ember.load(buf)
    assert back["opt"]["param_groups"] == opt.state_dict()["param_groups"]
    buf.seek(0)
    t = torch.load(buf, weights_only=True)
    tm = _model(torch)
    topt = torch.optim.Adam(tm.parameters(), lr=0.01)
    topt.load_state_dict(t["opt"])
    assert float(topt.state_dict()["state"][0]["step"]) == 1.0


def _malicious(path: str) -> None:
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    buf = io.BytesIO()
    pickle.dump({"x": Evil()}, buf, protocol=2)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", buf.getvalue())
        zf.writestr("archive/version", "3\n")


def test_malicious_file_is_refused_by_name(tmp_path) -> None:
    path = str(tmp_path / "evil.pt")
    _malicious(path)
    name = f"{os.system.__module__}.system"
    with pytest.raises(pickle.UnpicklingError, match=name.replace(".", r"\.")):
        ember.load(path)
    # weights_only=False is torch's full unpickler, for trusted files only (tests/test_load_full.py)


def test_truncated_and_corrupt_files(tmp_path) -> None:
    path = tmp_path / "m.pt"
    ember.save({"w": ember.ones(100)}, path)
    raw = path.read_bytes()
    (tmp_path / "trunc.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(RuntimeError, match="failed finding central directory"):
        ember.load(tmp_path / "trunc.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(RuntimeError, match="failed finding central directory"):
        ember.load(tmp_path / "junk.pt")
    # a storage record that is too short
    with zipfile.ZipFile(path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    with zipfile.ZipFile(tmp_path / "short.pt", "w") as zf:
        for n, d in entries.items():
            zf.writestr(n, d[:10] if n.endswith("data/0") else d)
    with pytest.raises(RuntimeError, match="corrupt checkpoint"):
        ember.load(tmp_path / "short.pt")
