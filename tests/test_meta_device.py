"""Meta tensors (``torch.device('meta')``): shapes and dtypes without data, against torch."""

import copy

import pytest
import torch

import ember


def _both(fn):
    """fn(lib) under torch and ember; the outcome (repr or exception type and message) of each."""
    out = []
    for lib in (torch, ember):
        try:
            out.append(("ok", repr(fn(lib)).replace("torch.", "ember.").replace("torch ", "ember ")))
        except Exception as e:  # noqa: BLE001 (the exception is what is compared)
            out.append((type(e).__name__, str(e).replace("torch.", "ember.")))
    return out


CASES = {
    "to_meta": lambda L: L.ones(2, 3).to("meta"),
    "to_meta_grad": lambda L: L.ones(3, dtype=L.float64, requires_grad=True).to("meta"),
    "empty": lambda L: L.ones(0).to("meta"),
    "to_meta_dtype": lambda L: L.ones(2).to("meta", L.float16),
    "device": lambda L: str(L.ones(2).to("meta").device),
    "flags": lambda L: (L.ones(2).to("meta").is_meta, L.ones(2).is_meta, L.ones(2).to("meta").is_cpu),
    "stride": lambda L: L.ones(2, 3, 4).to("meta").stride(),
    "views": lambda L: [L.ones(2, 3).to("meta").reshape(3, 2), L.ones(2, 3).to("meta").t(), L.ones(2, 3).to("meta")[0],
                        L.ones(2, 3).to("meta").unsqueeze(0).shape],
    "cpu": lambda L: L.ones(2).to("meta").cpu(),
    "to_cpu": lambda L: L.ones(2).to("meta").to("cpu"),
    "item": lambda L: L.ones(1).to("meta").item(),
    "item_many": lambda L: L.ones(2).to("meta").item(),
    "tolist": lambda L: L.ones(2).to("meta").tolist(),
    "numpy": lambda L: L.ones(2).to("meta").numpy(),
    "module": lambda L: (L.nn.Linear(2, 3).to("meta").weight, L.nn.BatchNorm1d(3).to("meta").running_mean),
    "module_half": lambda L: L.nn.Linear(2, 3).to("meta").half().weight,
    "module_back": lambda L: L.nn.Linear(2, 3).to("meta").to("cpu"),
    "to_empty_meta": lambda L: L.nn.Linear(2, 3).to_empty(device="meta").bias,
    "to_empty_cpu": lambda L: (lambda w: (w.shape, w.dtype, w.is_meta))(
        L.nn.Linear(2, 3, dtype=L.float64).to("meta").to_empty(device="cpu").weight),
    "clone": lambda L: L.ones(2, 3).to("meta").clone(),
    "deepcopy": lambda L: copy.deepcopy(L.nn.Linear(2, 3).to("meta")).weight,
}


@pytest.mark.parametrize("name", CASES)
def test_meta_matches_torch(name):
    t, e = _both(CASES[name])
    assert e == t


def test_meta_tensor_holds_no_memory():
    x = ember.zeros(1).to("meta").expand(10**6)
    big = ember.ones(2).to("meta").reshape(2, 1).expand(2, 10**9)  # 8 GB if it held data
    assert x.shape == (10**6,) and big.shape == (2, 10**9)
    assert big._data.base is not None and big._data.strides == (0, 0)


@pytest.mark.parametrize("compute", [lambda x: x + 1, lambda x: x.exp(), lambda x: x.sum(), lambda x: x @ x.t(),
                                     lambda x: ember.nn.functional.relu(x), lambda x: x.cumsum(0), lambda x: x.mean(0)])
def test_computing_on_meta_raises_clearly(compute):
    # torch propagates shapes through meta ops; ember computes on data, so it says it cannot
    with pytest.raises(NotImplementedError, match="ember does not implement computation on torch.device"):
        compute(ember.ones(2, 2).to("meta"))


def test_functional_call_on_a_meta_module_matches_torch():
    # the torch.func ensembling tutorial's stateless model: a meta copy run with real parameters
    for lib in (torch, ember):
        lib.manual_seed(0)
    tm, em = torch.nn.Linear(4, 3), ember.nn.Linear(4, 3)
    x = torch.randn(5, 4)
    t = torch.func.functional_call(copy.deepcopy(tm).to("meta"), dict(tm.named_parameters()), (x,))
    e = ember.func.functional_call(copy.deepcopy(em).to("meta"), dict(em.named_parameters()),
                                   (ember.tensor(x.numpy()),))
    assert not e.is_meta
    assert e.detach().numpy() == pytest.approx(t.detach().numpy(), abs=1e-6)
