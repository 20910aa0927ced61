"""real / imag, conj, angle, complex, polar, view_as_real / view_as_complex against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ops_oracle import case, rnd

import ember

A, B = rnd(3, 4), rnd(3, 4, seed=1)


def _vr(lib, t):
    return lib.view_as_real(t.resolve_conj())


def test_parts_and_conjugates():
    case(lambda lib, a, b: lib.complex(a, b).real, A, B)
    case(lambda lib, a, b: lib.complex(a, b).imag, A, B)
    case(lambda lib, a, b: _vr(lib, lib.complex(a, b).conj()), A, B, names=False)
    case(lambda lib, a, b: _vr(lib, lib.complex(a, b).conj_physical()), A, B)
    case(lambda lib, a, b: _vr(lib, lib.conj(lib.complex(a, b)) * 2), A, B, names=False)


def test_view_as_real_complex_roundtrip():
    x = np.stack([A, B], -1)
    case(lambda lib, t: lib.view_as_real(lib.view_as_complex(t) * 3), x)
    case(lambda lib, t: lib.view_as_complex(t).imag, x)


def test_angle_and_polar():
    case(lambda lib, a, b: lib.complex(a, b).angle(), A, B)
    case(lambda lib, a: lib.angle(a), np.array([1.0, -2.0, 0.0, -0.0, np.nan]), grad=False)
    case(lambda lib, a: lib.angle(a), A)
    case(lambda lib, r, t: _vr(lib, lib.polar(r, t)), A + 2, B * 3)
    e, t = ember.angle(ember.tensor([1, -2, 0])), torch.angle(torch.tensor([1, -2, 0]))
    assert e.dtype == ember.float32
    np.testing.assert_allclose(e.numpy(), t.numpy())


def test_real_of_real_is_itself_and_errors():
    for lib in (torch, ember):
        a = lib.tensor(A)
        assert a.real is a and a.conj() is a
        with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex dtypes."):
            _ = a.imag
        with pytest.raises(RuntimeError, match="view_as_real is only supported for complex tensors"):
            lib.view_as_real(a)
        with pytest.raises(RuntimeError, match="Tensor must have a last dimension of size 2"):
            lib.view_as_complex(a)
        with pytest.raises(RuntimeError, match="Expected object of scalar type Float but got scalar type Double"):
            lib.complex(a.float(), a)
        with pytest.raises(RuntimeError, match="Expected both inputs to be Half, Float or Double tensors but got Int"):
            lib.complex(a.int(), a.int())


def test_complex_dtypes():
    e = ember.complex(ember.tensor(A, dtype=ember.float32), ember.tensor(B, dtype=ember.float32))
    assert e.dtype == ember.complex64 and e.real.dtype == ember.float32
    assert ember.view_as_real(e).shape == (3, 4, 2)


def test_conjugate_transposes():
    case(lambda lib, a, b: _vr(lib, lib.complex(a, b).H), A, B)
    case(lambda lib, a, b: _vr(lib, lib.complex(a, b).reshape(2, 3, 2).mH), A, B)
    case(lambda lib, a, b: _vr(lib, lib.complex(a, b).adjoint()), A, B)
    case(lambda lib, a: a.H, A)
    case(lambda lib, a: lib.adjoint(a.reshape(2, 2, 3)), A)
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="tensor.H is only supported on matrices \\(2-D tensors\\). Got 3-D"):
            _ = lib.ones(2, 2, 2).H
        with pytest.raises(RuntimeError, match="tensor.mH is only supported on matrices or batches of matrices. Got 1-D"):
            _ = lib.ones(2).mH
        with pytest.raises(RuntimeError, match="tensor.adjoint\\(\\) is only supported on matrices"):
            lib.ones(2).adjoint()


def test_flags_and_identities():
    for lib in (torch, ember):
        z, x = lib.complex(lib.ones(2), lib.ones(2)), lib.ones(2)
        assert lib.is_complex(z) and not lib.is_complex(x)
        assert not lib.is_neg(z) and not lib.is_conj(x)
        assert lib.resolve_neg(x) is x and x.resolve_conj() is x
