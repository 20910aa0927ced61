"""WeightedRandomSampler (torch's random stream), StackDataset, ChainDataset and get_worker_info,
against torch.utils.data."""

from __future__ import annotations

import pytest
import torch
import torch.utils.data as tud

import ember
import ember.utils.data as eud


@pytest.mark.parametrize("weights,n,replacement", [([0.1, 0.5, 2.0, 1.0], 20, True), ([3, 1, 1, 5, 0.5], 4, False),
                                                   (torch.rand(50).tolist(), 100, True)])
def test_weighted_random_sampler_same_indices(weights, n, replacement):
    torch.manual_seed(5)
    want = list(tud.WeightedRandomSampler(weights, n, replacement))
    want2 = list(tud.WeightedRandomSampler(weights, n, replacement))
    ember.manual_seed(5)
    s = eud.WeightedRandomSampler(weights, n, replacement)
    assert list(s) == want and list(s) == want2 and len(s) == n
    assert s.weights.dtype == ember.float64
    g1, g2 = torch.Generator().manual_seed(9), ember.Generator().manual_seed(9)
    assert list(eud.WeightedRandomSampler(weights, n, replacement, generator=g2)) == \
        list(tud.WeightedRandomSampler(weights, n, replacement, generator=g1))


def test_weighted_sampler_in_a_dataloader():
    data = list(range(10))
    torch.manual_seed(1)
    want = [b.tolist() for b in tud.DataLoader(data, batch_size=4, sampler=tud.WeightedRandomSampler([1.0] * 9 + [20.0], 12))]
    ember.manual_seed(1)
    got = [b.tolist() for b in eud.DataLoader(data, batch_size=4, sampler=eud.WeightedRandomSampler([1.0] * 9 + [20.0], 12))]
    assert got == want


@pytest.mark.parametrize("args,kwargs", [(([1, 2], 0), {}), (([1, 2], 2.0), {}), (([[1, 2]], 2), {}),
                                         (([1, 2], 2), {"replacement": 1})])
def test_weighted_sampler_errors(args, kwargs):
    with pytest.raises(ValueError) as want:
        tud.WeightedRandomSampler(*args, **kwargs)
    with pytest.raises(ValueError) as got:
        eud.WeightedRandomSampler(*args, **kwargs)
    assert str(got.value) == str(want.value)


def test_stack_dataset():
    for lib, L in ((tud, torch), (eud, ember)):
        s = lib.StackDataset(L.arange(3), [7, 8, 9])
        assert len(s) == 3 and s[1][1] == 8 and int(s[1][0]) == 1
        assert [x[1] for x in s.__getitems__([0, 2])] == [7, 9]
        assert lib.StackDataset(a=L.arange(3), b=[7, 8, 9])[2]["b"] == 9
    for args, kwargs in [((), {}), (([1, 2],), {"x": [1, 2]}), (([1, 2], [1, 2, 3]), {}), ((), {"x": [1], "y": [1, 2]})]:
        with pytest.raises(ValueError) as want:
            tud.StackDataset(*args, **kwargs)
        with pytest.raises(ValueError) as got:
            eud.StackDataset(*args, **kwargs)
        assert str(got.value) == str(want.value)


def test_chain_dataset_and_iterable_add():
    def make(lib, n):
        class Count(lib.IterableDataset):
            def __iter__(self):
                return iter(range(n))

            def __len__(self):
                return n
        return Count()

    for lib in (tud, eud):
        c = lib.ChainDataset([make(lib, 2), make(lib, 3)])
        assert list(c) == [0, 1, 0, 1, 2] and len(c) == 5
        both = make(lib, 2) + make(lib, 1)
        assert type(both).__name__ == "ChainDataset" and list(both) == [0, 1, 0]
        with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
            list(lib.ChainDataset([lib.TensorDataset(torch.ones(2) if lib is tud else ember.ones(2))]))


def test_get_worker_info_in_main_process():
    assert eud.get_worker_info() is None and tud.get_worker_info() is None
