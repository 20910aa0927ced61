"""ember.load against hostile files: it refuses them with a clear error and runs nothing from them
(each payload would create a marker file, which must stay absent), and it never allocates what a file
merely declares. Then interchange with torch, exact both ways: every dtype, shared storages between
saved views, non-contiguous views, optimizer states and the legacy (pre-1.6, non-zip) format."""

from __future__ import annotations

import copyreg
import io
import os
import pathlib
import pickle
import struct
import subprocess
import zipfile

import numpy as np
import pytest
import torch

import ember
from ember.serialization import UnpicklingError


# ------------------------------------------------------------------------------ crafting files
def _checkpoint(pkl: bytes, records: dict | None = None, prefix: str = "archive/") -> bytes:
    """A zip in torch's layout around a hand-made data.pkl."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(prefix + "data.pkl", pkl)
        zf.writestr(prefix + "version", "3\n")
        for name, data in (records or {}).items():
            zf.writestr(name if "/" in name else prefix + "data/" + name, data)
    return buf.getvalue()


class _Payload:
    """Pickles as ``func(*args)``: what an attacker's __reduce__ writes."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _tensor_pickle(size: tuple, stride: tuple, numel: int, offset: int = 0, key: str = "0",
                   storage: str = "FloatStorage", legacy: bool = False) -> bytes:
    """data.pkl of a single tensor, written opcode by opcode as torch.save writes it."""

    class Ref:  # a global named without importing it
        def __init__(self, module: str, name: str) -> None:
            self.module, self.name = module, name

        def __call__(self):  # (pickle checks that a reduce function is callable)
            raise AssertionError

    class P(pickle._Pickler):
        def persistent_id(self, obj):
            if obj != "STORAGE":
                return None
            return ("storage", Ref("torch", storage), key, "cpu", numel) + ((None,) if legacy else ())

        def save_ref(self, obj):
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())

        dispatch = dict(pickle._Pickler.dispatch)
        dispatch[Ref] = save_ref

        def reducer_override(self, obj):
            if obj == "TENSOR":
                return Ref("torch._utils", "_rebuild_tensor_v2"), ("STORAGE", offset, size, stride, False,
                                                                   _Empty())
            return NotImplemented

    class _Empty:
        def __reduce__(self):
            return Ref("collections", "OrderedDict"), ()

    buf = io.BytesIO()
    P(buf, protocol=2).dump("TENSOR")
    return buf.getvalue()


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "a payload in the checkpoint ran"


# ------------------------------------------------------------------------------ code in the pickle
def _payloads(marker):
    m = str(marker)
    return {
        "os.system": _Payload(os.system, f"touch {m}"),
        "eval": _Payload(eval, f"open({m!r}, 'w')"),
        "exec": _Payload(exec, f"open({m!r}, 'w').close()"),
        "subprocess.call": _Payload(subprocess.call, ["touch", m]),
        "subprocess.Popen": _Payload(subprocess.Popen, ["touch", m]),
        "builtins.open": _Payload(open, m, "w"),
        "getattr": _Payload(getattr, _Payload(__import__, "os"), "system"),
        "__import__": _Payload(__import__, "os"),
        "numpy global": _Payload(np.save, m, np.ones(1)),
        "ember global": _Payload(ember.save, {}, m),
        "pathlib": _Payload(pathlib.Path.touch, pathlib.Path(m)),
    }


@pytest.mark.parametrize("name", list(_payloads("x")))
@pytest.mark.parametrize("protocol", [2, 4])
def test_pickled_calls_are_refused_and_never_run(tmp_path, marker, name, protocol) -> None:
    payload = _payloads(marker)[name]
    path = tmp_path / "evil.pt"
    path.write_bytes(_checkpoint(pickle.dumps({"w": payload}, protocol=protocol)))
    with pytest.raises(UnpicklingError, match="Unsupported global|not an allowed global"):
        ember.load(path)
    with pytest.raises(UnpicklingError):
        ember.load(path, weights_only=True, map_location="cpu")


def test_safe_globals_the_user_added_do_not_open_the_others(tmp_path, marker) -> None:
    path = tmp_path / "evil.pt"
    path.write_bytes(_checkpoint(pickle.dumps([_Payload(os.system, f"touch {marker}")], protocol=2)))
    with ember.serialization.safe_globals([np.ndarray]):
        with pytest.raises(UnpicklingError, match="system"):
            ember.load(path)


@pytest.mark.parametrize("name", ["INST", "OBJ", "EXT1", "global of an arbitrary module", "whole pickled module"])
def test_opcodes_and_globals_that_name_code(tmp_path, marker, name) -> None:
    cmd = f"touch {marker}".encode()
    if name == "INST":  # protocol 0's call-a-class opcode
        pkl = b"(S'" + cmd + b"'\nios\nsystem\n."
    elif name == "OBJ":
        pkl = b"(cos\nsystem\nS'" + cmd + b"'\no."
    elif name == "EXT1":  # the copyreg extension registry names a global by number
        copyreg.add_extension(os.system.__module__, "system", 240)
        try:
            pkl = pickle.dumps(_Payload(os.system, cmd.decode()), protocol=2)
        finally:
            copyreg.remove_extension(os.system.__module__, "system", 240)
        assert pickle.EXT1 in pkl
    elif name == "global of an arbitrary module":
        pkl = pickle.dumps({"counter": __import__("collections").Counter("ab")}, protocol=2)
    else:  # torch.save(model) without weights_only: names torch's classes
        buf = io.BytesIO()
        torch.save(torch.nn.Linear(2, 2), buf)
        path = tmp_path / "model.pt"
        path.write_bytes(buf.getvalue())
        with pytest.raises(UnpicklingError, match="torch.nn.modules.linear.Linear"):
            ember.load(path)
        return
    path = tmp_path / "evil.pt"
    path.write_bytes(_checkpoint(pkl))
    with pytest.raises(UnpicklingError, match="opcode|Unsupported global|not an allowed global"):
        ember.load(path)


def test_allowed_globals_cannot_be_rewired(tmp_path) -> None:
    # BUILD on an allowed global would set attributes on ember's own objects (ember.float32.np)
    pkl = b"\x80\x02ctorch\nfloat32\n(}}(X\x02\x00\x00\x00npX\x03\x00\x00\x00badutb."
    path = tmp_path / "rewire.pt"
    path.write_bytes(_checkpoint(pkl))
    with pytest.raises(UnpicklingError, match="Can only build"):
        ember.load(path)
    assert ember.float32.np == np.float32
    # nor may the file call something that is not a resolved global (a string, a tensor)
    pkl = b"\x80\x02X\x02\x00\x00\x00abN\x85R."
    path.write_bytes(_checkpoint(pkl))
    with pytest.raises(UnpicklingError, match="not an allowed global"):
        ember.load(path)
    # and bytearray(n) would allocate n bytes on the file's say-so
    pkl = b"\x80\x02c__builtin__\nbytearray\n\x8a\x05\x00\x00\x00\x00\x01\x85R."
    path.write_bytes(_checkpoint(pkl))
    with pytest.raises(UnpicklingError, match="bytearray"):
        ember.load(path)


def test_setitem_on_a_tensor_is_refused(tmp_path) -> None:
    x = ember.arange(6.0)
    buf = io.BytesIO()
    ember.save(x, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        pkl = zf.read("archive/data.pkl")
        storage = zf.read("archive/data/0")
    # after the tensor is built: x[0] = 5 through SETITEM
    evil = pkl[:-1] + b"K\x00G@\x14\x00\x00\x00\x00\x00\x00s."
    path = tmp_path / "s.pt"
    path.write_bytes(_checkpoint(evil, {"0": storage}))
    with pytest.raises(UnpicklingError, match="set items of a Tensor"):
        ember.load(path)


# ------------------------------------------------------------------------------ the archive itself
def test_members_outside_the_archive_folder_are_refused(tmp_path) -> None:
    buf = io.BytesIO()
    torch.save(torch.arange(6.0), buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    for bad in ("../../evil.txt", "archive/../../evil.txt", "/etc/evil", "other/x"):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as zf:
            for n, d in entries.items():
                zf.writestr(n, d)
            zf.writestr(bad, b"hi")
        with pytest.raises(RuntimeError, match="not in a subdirectory"):
            ember.load(io.BytesIO(out.getvalue()))
        if not bad.startswith("archive/"):  # torch refuses these too (it ignores archive/../../x)
            with pytest.raises(RuntimeError, match="not in a subdirectory"):
                torch.load(io.BytesIO(out.getvalue()))


def test_truncated_archives(tmp_path) -> None:
    buf = io.BytesIO()
    ember.save({"w": ember.ones(100), "b": ember.zeros(3)}, buf)
    raw = buf.getvalue()
    for cut in (10, len(raw) // 3, len(raw) // 2, len(raw) - 30, len(raw) - 1):
        with pytest.raises(RuntimeError, match="corrupt|central directory"):
            ember.load(io.BytesIO(raw[:cut]))
    # a data.pkl cut short inside an intact archive
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n, d in entries.items():
            zf.writestr(n, d[: len(d) // 2] if n.endswith("data.pkl") else d)
    with pytest.raises(RuntimeError, match="corrupt checkpoint"):
        ember.load(io.BytesIO(out.getvalue()))


def test_storage_smaller_than_declared() -> None:
    pkl = _tensor_pickle((6,), (1,), numel=6)
    with pytest.raises(RuntimeError, match="holds 8 bytes, expected 24"):
        ember.load(io.BytesIO(_checkpoint(pkl, {"0": b"\0" * 8})))
    # a tensor reaching past its storage
    pkl = _tensor_pickle((4,), (2,), numel=6)
    with pytest.raises(RuntimeError, match="reaches element 7 of a storage of 6"):
        ember.load(io.BytesIO(_checkpoint(pkl, {"0": b"\0" * 24})))


def test_broadcast_view_declaring_a_trillion_elements_is_refused() -> None:
    pkl = _tensor_pickle((10 ** 12,), (0,), numel=6)
    with pytest.raises(RuntimeError, match="declares 1000000000000 elements over a storage of 6"):
        ember.load(io.BytesIO(_checkpoint(pkl, {"0": np.arange(6, dtype=np.float32).tobytes()})))
    # a modest broadcast view (torch.save of an expanded tensor) still loads, as a view
    buf = io.BytesIO()
    torch.save(torch.arange(3.0).expand(4, 3), buf)
    got = ember.load(io.BytesIO(buf.getvalue()))
    assert got.tolist() == [[0.0, 1.0, 2.0]] * 4 and got.stride() == (0, 1)


def _deflated_record(declared: int, payload: bytes) -> bytes:
    """A checkpoint whose storage record is deflated and whose zip headers declare ``declared`` bytes:
    a zip bomb in miniature, checked on what it declares."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", _tensor_pickle((declared // 4,), (1,), numel=declared // 4))
        zf.writestr("archive/data/0", payload)
    data = bytearray(raw.getvalue())
    # rewrite the record's uncompressed size in its local header and in the central directory
    true = len(payload)
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        at = 0
        while (at := data.find(sig, at)) != -1:
            off = 22 if sig == b"PK\x03\x04" else 24
            name_len_at = 26 if sig == b"PK\x03\x04" else 28
            (nlen,) = struct.unpack_from("<H", data, at + name_len_at)
            head = 30 if sig == b"PK\x03\x04" else 46
            if bytes(data[at + head:at + head + nlen]) == b"archive/data/0":
                assert struct.unpack_from("<I", data, at + off)[0] == true
                struct.pack_into("<I", data, at + off, declared)
            at += 4
    return bytes(data)


def test_deflate_bomb_is_stopped_before_inflating() -> None:
    # 2 GiB declared behind a few hundred compressed bytes: refused on the declared size
    with pytest.raises(RuntimeError, match="declares 2147483644 bytes, more than the 1073741824"):
        ember.load(io.BytesIO(_deflated_record(2 ** 31 - 4, b"\0" * 100_000)))
    # a deflated record that inflates beyond what the storage declares is read only as far as declared
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", _tensor_pickle((6,), (1,), numel=6))
        zf.writestr("archive/data/0", np.arange(6, dtype=np.float32).tobytes() + b"\0" * 1_000_000)
    assert ember.load(io.BytesIO(raw.getvalue())).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_malformed_rebuild_arguments() -> None:
    # a storage id naming a missing record, and a size that is not a tuple of ints
    pkl = _tensor_pickle((6,), (1,), numel=6, key="7")
    with pytest.raises(RuntimeError, match="'data/7' is missing"):
        ember.load(io.BytesIO(_checkpoint(pkl, {"0": b"\0" * 24})))
    pkl = _tensor_pickle(("6",), (1,), numel=6)
    with pytest.raises(RuntimeError, match="size is"):
        ember.load(io.BytesIO(_checkpoint(pkl, {"0": b"\0" * 24})))


def test_legacy_files_load_like_torch_and_unsafe_ones_are_refused(tmp_path, marker) -> None:
    obj = {"w": torch.randn(3, 4), "ints": torch.arange(5), "bf": torch.ones(2, dtype=torch.bfloat16),
           "view": torch.arange(12.0).reshape(3, 4)[:, 1], "step": 3}
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    want = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    got = ember.load(io.BytesIO(buf.getvalue()))
    assert got["step"] == 3
    for k in ("w", "ints", "bf", "view"):
        assert str(got[k].dtype).split(".")[1] == str(want[k].dtype).split(".")[1]
        assert np.array_equal(np.asarray(got[k].float().tolist()), want[k].float().numpy())
    # a legacy file with code in its pickle: refused, nothing ran
    payload = pickle.dumps(_Payload(os.system, f"touch {marker}"), protocol=2)
    header = b"".join(pickle.dumps(v, protocol=2) for v in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}))
    with pytest.raises(UnpicklingError, match="system"):
        ember.load(io.BytesIO(header + payload + pickle.dumps([], protocol=2)))
    # ... or in its header pickles
    with pytest.raises(UnpicklingError, match="system"):
        ember.load(io.BytesIO(payload + buf.getvalue()))
    # a legacy storage declaring more elements than the file holds is refused before allocating
    pkl = _tensor_pickle((10 ** 12,), (1,), numel=10 ** 12, legacy=True)
    body = header + pkl + pickle.dumps(["0"], protocol=2) + struct.pack("<q", 10 ** 12) + b"\0" * 24
    with pytest.raises(RuntimeError, match="more than the file holds"):
        ember.load(io.BytesIO(body))
    # not a pickle at all
    with pytest.raises(RuntimeError, match="central directory"):
        ember.load(io.BytesIO(b"GIF89a not a checkpoint"))


# ------------------------------------------------------------------------------ interchange with torch
DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
          "complex64", "complex128"]


def _values(lib, name):
    g = torch.Generator().manual_seed(0)
    t = torch.randn(3, 5, generator=g, dtype=torch.float64) * 50
    if name == "bool":
        t = t > 0
    elif name.startswith("complex"):
        t = torch.complex(t, -t)
    t = t.to(getattr(torch, name))
    if lib is torch:
        return t
    if name == "bfloat16":  # (exact: every bfloat16 is a float32)
        return ember.tensor(t.float().numpy()).to(ember.bfloat16)
    return ember.tensor(t.numpy())


def _bits(t) -> bytes:
    if isinstance(t, torch.Tensor):
        return (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).contiguous().numpy().tobytes()
    return np.ascontiguousarray(t._data).tobytes()


@pytest.mark.parametrize("name", DTYPES)
def test_every_dtype_exact_both_ways(name) -> None:
    t, e = _values(torch, name), _values(ember, name)
    assert _bits(t) == _bits(e)
    buf = io.BytesIO()
    torch.save({"x": t, "col": t[:, 1]}, buf)
    got = ember.load(io.BytesIO(buf.getvalue()))
    assert str(got["x"].dtype) == f"ember.{name}" and _bits(got["x"]) == _bits(t)
    assert _bits(got["col"]) == _bits(t[:, 1])
    buf = io.BytesIO()
    ember.save({"x": e, "col": e[:, 1]}, buf)
    back = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    assert back["x"].dtype == getattr(torch, name) and _bits(back["x"]) == _bits(t)
    assert _bits(back["col"]) == _bits(t[:, 1]) and back["col"].stride() == t[:, 1].stride()


def test_views_keep_sharing_their_storage_both_ways() -> None:
    base = torch.arange(12.0).reshape(3, 4)
    buf = io.BytesIO()
    torch.save({"base": base, "t": base.t(), "row": base[1], "col": base[:, 2]}, buf)
    got = ember.load(io.BytesIO(buf.getvalue()))
    assert got["t"].stride() == (1, 4) and got["col"].stride() == (4,)
    got["base"][1, 2] = 100.0
    assert got["t"][2, 1].item() == 100.0 and got["row"][2].item() == 100.0 and got["col"][1].item() == 100.0

    e = ember.arange(12.0).reshape(3, 4)
    buf = io.BytesIO()
    ember.save({"base": e, "t": e.t(), "row": e[1], "col": e[:, 2], "again": e}, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        assert len([n for n in zf.namelist() if "/data/" in n]) == 1  # one storage for all five
    back = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    ptr = back["base"].untyped_storage().data_ptr()
    assert all(back[k].untyped_storage().data_ptr() == ptr for k in ("t", "row", "col", "again"))
    assert back["t"].stride() == (1, 4) and back["row"].storage_offset() == 4
    assert back["again"] is back["base"] or back["again"].data_ptr() == back["base"].data_ptr()
    back["base"][1, 2] = 100.0
    assert back["t"][2, 1].item() == 100.0 and back["col"][1].item() == 100.0
    # ember's own round trip keeps the sharing too
    again = ember.load(io.BytesIO(buf.getvalue()))
    again["base"][0, 2] = -1.0
    assert again["col"][0].item() == -1.0


def test_non_contiguous_views_round_trip_exactly() -> None:
    x = torch.randn(4, 6, generator=torch.Generator().manual_seed(1))
    views = {"t": x.t(), "step": x[:, ::2], "offset": x[1:, 3:], "expand": x[0:1].expand(3, 6)}
    buf = io.BytesIO()
    torch.save(views, buf)
    got = ember.load(io.BytesIO(buf.getvalue()))
    for k, v in views.items():
        assert got[k].stride() == v.stride() and np.array_equal(np.asarray(got[k].tolist()), v.numpy())
    buf = io.BytesIO()
    ember.save(got, buf)
    back = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    for k, v in views.items():
        assert back[k].stride() == v.stride() and torch.equal(back[k], v)


def _train(lib, opt_name, state=None, steps=3):
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2)
    with lib.no_grad():
        model.weight.copy_(lib.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))
        model.bias.copy_(lib.tensor([0.05, -0.05]))
    opt = (lib.optim.Adam(model.parameters(), lr=0.01, amsgrad=True) if opt_name == "adam" else
           lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True))
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
    x = lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    for _ in range(steps):
        opt.zero_grad()
        model(x).pow(2).sum().backward()
        opt.step()
    return model, opt


@pytest.mark.parametrize("opt_name", ["adam", "sgd"])
def test_optimizer_state_round_trips_with_torch(opt_name) -> None:
    tm, topt = _train(torch, opt_name)
    buf = io.BytesIO()
    torch.save({"model": tm.state_dict(), "opt": topt.state_dict()}, buf)
    state = ember.load(io.BytesIO(buf.getvalue()))
    em, eopt = _train(ember, opt_name, state)  # ember continues torch's run
    tm2, _ = _train(torch, opt_name, torch.load(io.BytesIO(buf.getvalue())))
    for a, b in zip(em.parameters(), tm2.parameters()):
        np.testing.assert_allclose(np.asarray(a.tolist()), b.detach().numpy(), rtol=1e-6, atol=1e-7)
    # and torch continues ember's
    buf = io.BytesIO()
    ember.save({"model": em.state_dict(), "opt": eopt.state_dict()}, buf)
    loaded = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    for k, v in eopt.state_dict()["state"].items():
        for name, val in v.items():
            want = loaded["opt"]["state"][k][name]
            assert (np.asarray(val.tolist()) == want.numpy()).all() if hasattr(val, "tolist") else val == want
    tm3, _ = _train(torch, opt_name, loaded)
    em3, _ = _train(ember, opt_name, ember.load(io.BytesIO(buf.getvalue())))
    for a, b in zip(em3.parameters(), tm3.parameters()):
        np.testing.assert_allclose(np.asarray(a.tolist()), b.detach().numpy(), rtol=1e-6, atol=1e-7)
