"""ember's tensor printing against torch's: same numpy data in, identical text out.

Every expected string comes from torch at test time; only the dtype prefix is swapped.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ember import _dtype
from ember import _printing as P

TORCH_PRINT = torch._tensor_str


class Stand:
    """The attributes of an ember Tensor that printing reads."""

    def __init__(self, data, requires_grad=False, grad_fn=None):
        self._data = np.asarray(data)
        self.dtype = _dtype.from_numpy_dtype(self._data.dtype)
        self.requires_grad = requires_grad
        self.is_leaf = grad_fn is None
        self.grad_fn = grad_fn


def fake_node(name):
    """An object whose type is called ``name`` (what grad_fn display uses)."""
    return type(name, (), {})()


def to_torch(a, requires_grad=False):
    t = torch.from_numpy(np.array(a, order="C", copy=True))
    return t.requires_grad_() if requires_grad else t


def as_ember(text):
    return re.sub(r"dtype=torch\.", "dtype=ember.", text)


def assert_same(a, requires_grad=False):
    a = np.asarray(a)
    expected = as_ember(repr(to_torch(a, requires_grad)))
    assert P.tensor_repr(Stand(a, requires_grad)) == expected


@pytest.fixture(autouse=True)
def _reset():
    yield
    torch.set_printoptions(profile="default")
    P.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    _dtype.set_default_dtype(_dtype.float32)


def both_printoptions(**kw):
    torch.set_printoptions(**kw)
    P.set_printoptions(**kw)


rng = np.random.default_rng(12345)
nan, inf = np.nan, np.inf

NAMED_CASES = {
    "ints_as_floats": np.array([1.0, 2.0, 3.0], np.float32),
    "mixed_signs": np.array([1.5, 2.0, -3.0], np.float32),
    "tiny_and_one": np.array([1e-5, 1.0], np.float32),
    "just_under_1e-4": np.array([1e-4, 1.0], np.float32),
    "ratio_1000": np.array([1000.0, 1.0], np.float32),
    "ratio_over_1000": np.array([1001.0, 1.0], np.float32),
    "non_int_ratio_over_1000": np.array([1000.5, 1.0], np.float32),
    "huge": np.array([1e9], np.float32),
    "int_near_1e8": np.array([12345678.0], np.float32),
    "big_non_int": np.array([123456.7, 1.0], np.float32),
    "rounds_up_to_10": np.array([9.99995, 1.0], np.float32),
    "nan": np.array([nan, 1.0], np.float32),
    "inf": np.array([inf, 1.5], np.float32),
    "neg_inf_sci": np.array([-inf, 1e10], np.float32),
    "nan_inf_only": np.array([nan, inf, -inf], np.float32),
    "zeros": np.zeros(4, np.float32),
    "negative_zeros": np.array([-0.0, 0.0], np.float32),
    "negative_zero_and_one": np.array([-0.0, 1.0], np.float32),
    "negative_zero_and_fraction": np.array([-0.0, 1.5], np.float32),
    "tiny_negative": np.array([-1e-5, 0.5], np.float32),
    "scalar_float": np.array(3.5, np.float32),
    "scalar_int_float": np.array(3.0, np.float32),
    "scalar_nan": np.array(nan, np.float32),
    "scalar_negative_zero": np.array(-0.0, np.float32),
    "scalar_int": np.array(3),
    "scalar_bool": np.array(True),
    "scalar_float64": np.array(2.5),
    "scalar_int32": np.array(5, np.int32),
    "bools": np.array([True, False]),
    "ints": np.array([-3, 10, 200]),
    "int32": np.array([1, 2], np.int32),
    "int16": np.array([1, -2], np.int16),
    "int8": np.array([-1, 2], np.int8),
    "uint8": np.array([1, 255], np.uint8),
    "float16": np.array([1.0, 2.0, 3.0], np.float16),
    "float16_range": np.array([65504.0, 0.001], np.float16),
    "float64_extreme": np.array([1e200, 1.0]),
    "float64_tiny": np.array([1e-300]),
    "empty_float": np.zeros(0, np.float32),
    "empty_2d": np.zeros((0, 3), np.float32),
    "empty_int_2d": np.zeros((2, 0), np.int64),
    "empty_int": np.zeros(0, np.int64),
    "empty_float64": np.zeros(0),
    "empty_bool": np.zeros(0, bool),
    "empty_3d": np.zeros((1, 0, 2), np.float16),
    "complex": np.array([1 + 2j, 3 - 4j], np.complex64),
    "complex_scalar": np.array(-1.5 - 2.5j, np.complex64),
    "complex_negative_zero": np.array(complex(-0.0, -0.0)),
    "complex_specials": np.array([1 - 0j, 2 + 0.5j, complex(nan, 1), complex(1, inf)], np.complex64),
    "complex_mixed_modes": np.array([1e-5 - 0j, 2 + 0.5j], np.complex64),
    "complex_wide": (rng.standard_normal(20) * 100 + 1j * rng.standard_normal(20) * 50),
    "complex_2d": (rng.standard_normal((3, 2)) * 1000 + 1j * rng.standard_normal((3, 2))).astype(np.complex64),
    "wrap_1d": rng.standard_normal(30).astype(np.float32),
    "wrap_1d_sci": (rng.standard_normal(30) * 10.0 ** rng.integers(-6, 6, 30)).astype(np.float32),
    "wrap_ints": rng.integers(-10**6, 10**6, 50),
    "wrap_bools": rng.random(40) < 0.5,
    "3d": rng.standard_normal((2, 3, 4)).astype(np.float32),
    "4d": rng.standard_normal((2, 3, 1, 5)),
    "4d_big": rng.standard_normal((2, 3, 1, 5)) * 1e6,
    "column": np.arange(3.0, dtype=np.float32).reshape(3, 1),
    "summarized_rows": np.arange(2000).reshape(1000, 2),
    "summarized_cols": np.arange(2000.0, dtype=np.float32).reshape(2, 1000),
    "summarized_3d": np.arange(3000.0, dtype=np.float32).reshape(10, 10, 30),
    "summarized_1d": rng.standard_normal(1001).astype(np.float32),
    "not_summarized_1000": rng.standard_normal(1000).astype(np.float32),
    "summarized_complex": rng.standard_normal((2, 1000)).astype(np.complex64),
    "summarized_bool": rng.random((40, 40)) < 0.5,
    "summarized_outliers_hidden": np.concatenate([[1.0, 2, 3], np.full(1000, 1e-9), [4.0, 5, 6]]),
    "transposed": rng.standard_normal((3, 5)).astype(np.float32).T,
    "reversed": np.arange(10.0)[::-1],
    "strided": rng.standard_normal((6, 8))[::2, 1::3],
}


@pytest.mark.parametrize("name", NAMED_CASES)
def test_named_cases(name):
    assert_same(NAMED_CASES[name])


@pytest.mark.parametrize("exponent", range(-12, 13, 2))
@pytest.mark.parametrize("np_dtype", [np.float32, np.float64, np.float16])
def test_magnitudes(exponent, np_dtype):
    with np.errstate(over="ignore"):
        a = (rng.standard_normal(12) * 10.0**exponent).astype(np_dtype)
    assert_same(a)
    assert_same(a.reshape(3, 4))


@pytest.mark.parametrize("spread", [1, 3, 5, 9])
def test_mixed_magnitudes(spread):
    a = rng.standard_normal(16) * 10.0 ** rng.integers(-spread, spread + 1, 16)
    assert_same(a.astype(np.float32))
    assert_same(a)


@pytest.mark.parametrize("np_dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("shape", [(), (1,), (7,), (2, 3), (2, 1, 3), (2, 2, 2, 2), (3, 0), (0,)])
def test_dtypes_and_shapes(np_dtype, shape):
    a = (rng.standard_normal(shape) * 50).astype(np_dtype)
    assert_same(a)


@pytest.mark.parametrize("np_dtype", [np.float32, np.float64, np.float16, np.complex64])
def test_requires_grad(np_dtype):
    for shape in [(), (3,), (8,), (30,), (2, 3), (0, 3), (0,)]:
        assert_same(rng.standard_normal(shape).astype(np_dtype), requires_grad=True)


@pytest.mark.parametrize("op", ["sigmoid", "mul", "sum", "exp", "neg", "mean"])
@pytest.mark.parametrize("shape", [(1,), (30,), (7,), (2, 3)])
def test_grad_fn(op, shape):
    a = rng.standard_normal(shape)
    out = getattr(to_torch(a, True), op)() if op != "mul" else to_torch(a, True) * 2
    stand = Stand(out.detach().numpy(), grad_fn=fake_node(type(out.grad_fn).__name__))
    assert P.tensor_repr(stand) == as_ember(repr(out))


@pytest.mark.parametrize("linewidth", [0, 10, 30, 45, 60, 79, 80, 81, 100])
def test_suffix_wrapping(linewidth):
    both_printoptions(linewidth=linewidth)
    for n in [1, 3, 6, 7, 8, 12]:
        assert_same(rng.standard_normal(n), requires_grad=True)
        assert_same(rng.standard_normal(n).astype(np.float32), requires_grad=True)
        assert_same(rng.integers(0, 9, n).astype(np.int16))
    assert_same(np.zeros((0, 3)), requires_grad=True)


def test_tensor_contents():
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    expected = as_ember(TORCH_PRINT._str(t, tensor_contents="XYZ"))
    got = P.tensor_repr(Stand(np.array([1.0, 2.0]), True), tensor_contents="XYZ")
    assert got == expected


OPTION_SETS = [
    {"precision": 2},
    {"precision": 0},
    {"precision": 8},
    {"sci_mode": True},
    {"sci_mode": False},
    {"linewidth": 40},
    {"linewidth": 120, "precision": 6},
    {"threshold": 20},
    {"threshold": 5, "edgeitems": 1},
    {"threshold": 0, "edgeitems": 2, "linewidth": 20},
    {"edgeitems": 0},
    {"edgeitems": 0, "threshold": 5},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "short", "precision": 5},
]
OPTION_ARRAYS = [
    NAMED_CASES[k]
    for k in ["mixed_signs", "tiny_and_one", "ints_as_floats", "nan", "negative_zero_and_one", "zeros",
              "scalar_float", "scalar_negative_zero", "bools", "ints", "complex_specials", "3d", "4d_big",
              "wrap_1d_sci", "summarized_cols", "summarized_1d", "empty_2d", "float64_extreme"]
] + [np.array([1e10, 1.0]), np.array([1.0, 1e9], np.float32), np.array([0.5, 1.5, 2.5]), np.arange(10.0) / 3]


@pytest.mark.parametrize("options", OPTION_SETS, ids=str)
def test_printoptions_output(options):
    both_printoptions(**options)
    for a in OPTION_ARRAYS:
        assert_same(a)
        if a.dtype.kind == "f":
            assert_same(a, requires_grad=True)


@pytest.mark.parametrize(
    "calls",
    [
        [{}],
        [{"sci_mode": True}, {"precision": 2}],  # sci_mode resets when omitted
        [{"profile": "short"}],
        [{"profile": "full"}],
        [{"profile": "short", "precision": 6}],
        [{"linewidth": 40}, {"profile": "default"}],
        [{"linewidth": 40}, {"profile": "bogus"}],  # unknown profiles are ignored
        [{"threshold": 10, "edgeitems": 1, "sci_mode": False}],
    ],
    ids=str,
)
def test_set_and_get_printoptions(calls):
    for kw in calls:
        both_printoptions(**kw)
    assert P.get_printoptions() == TORCH_PRINT.get_printoptions()


def test_get_printoptions_returns_copy():
    P.get_printoptions()["precision"] = 9
    assert P.get_printoptions()["precision"] == 4


def test_printoptions_context_manager():
    both_printoptions(sci_mode=True, precision=2)
    with P.printoptions(linewidth=40), TORCH_PRINT.printoptions(linewidth=40):
        assert P.get_printoptions() == TORCH_PRINT.get_printoptions()
        assert_same(NAMED_CASES["wrap_1d"])
    assert P.get_printoptions() == TORCH_PRINT.get_printoptions()
    with pytest.raises(ValueError), P.printoptions(profile="full"):
        raise ValueError
    assert P.get_printoptions() == TORCH_PRINT.get_printoptions()


def test_set_printoptions_rejects_unknown_keyword():
    with pytest.raises(TypeError):
        P.set_printoptions(foo=1)


@pytest.mark.parametrize("default", ["float64", "float16", "float32"])
def test_default_dtype_changes_suffix(default):
    torch.set_default_dtype(getattr(torch, default))
    _dtype.set_default_dtype(getattr(_dtype, default))
    for np_dtype in [np.float32, np.float64, np.float16, np.complex64, np.complex128, np.int64, np.bool_]:
        for shape in [(2,), (0,), (0, 2), ()]:
            assert_same(np.ones(shape, np_dtype))


def _stand_and_torch_scalar(value, np_dtype, requires_grad=False):
    a = np.array(value, np_dtype)
    return Stand(a, requires_grad), to_torch(a, requires_grad)


@pytest.mark.parametrize("spec", ["", ".4f", ".2e", "10.3f", "<12", "+", "g", ".10g", "^9"])
@pytest.mark.parametrize(
    "value,np_dtype",
    [(1.4759141206741333, np.float32), (-2.5, np.float64), (7, np.int64), (3, np.int8), (0.1, np.float16)],
)
def test_format_scalar(value, np_dtype, spec):
    for requires_grad in ([False, True] if np.dtype(np_dtype).kind == "f" else [False]):
        stand, t = _stand_and_torch_scalar(value, np_dtype, requires_grad)
        assert P.format_tensor(stand, spec) == format(t, spec)


@pytest.mark.parametrize("spec", ["", ">6", "d"])
def test_format_bool_scalar(spec):
    stand, t = _stand_and_torch_scalar(True, np.bool_)
    assert P.format_tensor(stand, spec) == format(t, spec)


def test_format_complex_scalar():
    stand, t = _stand_and_torch_scalar(1.5 - 2j, np.complex64)
    assert P.format_tensor(stand, "") == format(t, "")
    assert P.format_tensor(stand, ".2f") == format(t, ".2f")


def test_format_non_scalar():
    a = rng.standard_normal(4).astype(np.float32)
    t = to_torch(a, True)
    assert P.format_tensor(Stand(a, True), "") == as_ember(f"{t}")
    with pytest.raises(TypeError) as expected:
        format(t, ".4f")
    with pytest.raises(TypeError) as got:
        P.format_tensor(Stand(a, True), ".4f")
    assert str(got.value) == str(expected.value).replace("Tensor", "Stand")


def test_format_tensor_subclass_uses_object_rules():
    # torch formats the number only for plain tensors; a Parameter falls back to object's rules.
    class Tensor(Stand):
        pass

    class Parameter(Tensor):
        def __repr__(self):
            return "Parameter containing:\n" + P.tensor_repr(self)

    param = Parameter(np.array(1.5, np.float32), requires_grad=True)
    t = torch.nn.Parameter(torch.tensor(1.5))
    assert P.format_tensor(param, "") == f"{t}"
    with pytest.raises(TypeError) as expected:
        format(t, ".2f")
    with pytest.raises(TypeError) as got:
        P.format_tensor(param, ".2f")
    assert str(got.value) == str(expected.value)
    assert P.format_tensor(Tensor(np.array(1.5, np.float32)), ".2f") == format(torch.tensor(1.5), ".2f")


# -- property test -----------------------------------------------------------------

DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8, np.bool_,
          np.complex64, np.complex128]


@st.composite
def arrays_and_options(draw):
    np_dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=7))
    if np_dtype.kind == "f":
        # Mixed magnitudes exercise the fixed/scientific choice and the widths.
        elements = st.one_of(
            hnp.from_dtype(np_dtype),
            st.integers(-2000, 2000).map(float),
            st.floats(-10, 10, width=np_dtype.itemsize * 8),
        )
    else:
        elements = hnp.from_dtype(np_dtype)
    a = draw(hnp.arrays(np_dtype, shape, elements=elements))
    options = draw(st.fixed_dictionaries({}, optional={
        "precision": st.integers(0, 8),
        "linewidth": st.integers(10, 140),
        "sci_mode": st.sampled_from([None, True, False]),
        "threshold": st.integers(0, 60),
        "edgeitems": st.integers(0, 4),
    }))
    requires_grad = np_dtype.kind in "fc" and draw(st.booleans())
    return a, options, requires_grad


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrays_and_options())
def test_property_matches_torch(case):
    a, options, requires_grad = case
    try:
        both_printoptions(**options)
        assert_same(a, requires_grad)
    finally:
        both_printoptions(profile="default")


# -- through ember's real Tensor, once the core provides it ----------------------------


def _ember_tensor():
    import ember

    if not hasattr(ember, "tensor"):
        pytest.skip("ember.tensor is not available yet")
    return ember


def test_real_tensor_repr_and_format():
    ember = _ember_tensor()
    for values in ([1.5], [1.0, 2.0, 3.0], [[1e-5, 2.0], [3.0, 4.0]], [True, False], [1, 2, 3]):
        assert repr(ember.tensor(values)) == as_ember(repr(torch.tensor(values)))
        assert str(ember.tensor(values)) == as_ember(str(torch.tensor(values)))
    e = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    assert repr(e) == as_ember(repr(t))
    assert f"{e}" == as_ember(f"{t}")
    e0, t0 = ember.tensor(1.4759141206741333, requires_grad=True), torch.tensor(1.4759141206741333, requires_grad=True)
    assert (f"{e0}", f"{e0:.4f}", repr(e0)) == (f"{t0}", f"{t0:.4f}", repr(t0))
