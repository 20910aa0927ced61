"""``Tensor._base`` / ``_is_view()`` (read by torchviz and by tutorials on views) and the complex
views ``view_as_real`` / ``view_as_complex`` (true views: shared memory and version counter, torch's
stride and offset errors), against torch 2.13."""

from __future__ import annotations

import pytest
import torch

import ember

CASES = {
    "slice": lambda L, x: x[1:], "select": lambda L, x: x[0], "view": lambda L, x: x.view(6), "t": lambda L, x: x.t(),
    "detach": lambda L, x: x.detach(), "advanced index": lambda L, x: x[[0, 1]], "reshape": lambda L, x: x.reshape(3, 2),
    "reshape copy": lambda L, x: x.t().reshape(6), "expand": lambda L, x: x.expand(2, 2, 3), "diagonal": lambda L, x: x.diagonal(),
    "unbind": lambda L, x: x.unbind()[1], "split": lambda L, x: x.split(1)[1], "view of view": lambda L, x: x[1:][0],
    "clone": lambda L, x: x.clone(), "contiguous": lambda L, x: x.contiguous(), "flatten": lambda L, x: x.flatten(),
    "None index": lambda L, x: x[..., None], "narrow": lambda L, x: x.narrow(1, 0, 2), "chunk": lambda L, x: x.chunk(2)[0],
    "movedim": lambda L, x: x.movedim(0, 1), "mT": lambda L, x: x.mT, "unflatten": lambda L, x: x.unflatten(1, (3, 1)),
    "as_strided": lambda L, x: x.as_strided((2,), (1,)), "same-dtype to": lambda L, x: x.to(L.float32),
    "float64": lambda L, x: x.double(), "mask": lambda L, x: x[x > 2], "column": lambda L, x: x[:, 1],
    "view_as_real": lambda L, x: L.view_as_real(x.to(L.complex64)), "real of complex": lambda L, x: x.to(L.complex64).real,
}


def _where(L, name):
    x = L.arange(6.0).reshape(2, 3)
    v = CASES[name](L, x)
    b = v._base
    return v._is_view(), None if b is None else ("x" if b is x else ("root" if b is x._base else "other"))


@pytest.mark.parametrize("name", CASES)
def test_base_and_is_view_match_torch(name):
    assert _where(ember, name) == _where(torch, name)


@pytest.mark.parametrize("make", [
    lambda L: L.arange(12.0).reshape(3, 2, 2).transpose(1, 2),         # last stride not 1
    lambda L: L.arange(12.0).reshape(2, 6)[:, 1:5].reshape(2, 2, 2),    # odd storage offset
    lambda L: L.arange(8.0)[1:7].reshape(3, 2),
    lambda L: L.arange(15.0).reshape(5, 3)[:, :2],                      # odd stride
    lambda L: L.ones(3),
])
def test_view_as_complex_refuses_what_torch_refuses(make):
    with pytest.raises(RuntimeError) as te:
        torch.view_as_complex(make(torch))
    with pytest.raises(RuntimeError) as ee:
        ember.view_as_complex(make(ember))
    assert str(ee.value) == str(te.value)


def test_complex_views_share_memory_and_versions():
    for L in (torch, ember):
        y = L.arange(18.0).reshape(3, 3, 2)[:, :2]
        z = L.view_as_complex(y)
        assert z.stride() == (3, 1) and z._base is y._base
        y[0, 0, 1] = 100.0
        assert complex(z[0, 0]) == complex(0, 100)
        c = L.ones(3, 2, dtype=L.complex64).t()
        r = L.view_as_real(c)
        assert r.stride() == (2, 4, 1) and tuple(r.shape) == (2, 3, 2)
        c.real[0] = 5
        c.imag.add_(1)
        assert c[0].tolist() == [complex(5, 1)] * 3 and c[1].tolist() == [complex(1, 1)] * 3
        assert L.view_as_real(L.ones(2, dtype=L.complex64).expand(3, 2)).stride() == (0, 2, 1)
        v0 = c._version
        r.mul_(2)
        assert c._version == v0 + 1
