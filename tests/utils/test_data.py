"""utils.data against torch: same batches, same shuffles from the same seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.utils.data import ConcatDataset, DataLoader, IterableDataset, Subset, TensorDataset, default_collate, random_split

X = np.arange(20 * 3, dtype=np.float32).reshape(20, 3)
Y = np.arange(20, dtype=np.int64)


def _batches(lib, loader_kw: dict, epochs: int = 2, seed: int = 3) -> list:
    lib.manual_seed(seed)
    ds = lib.utils.data.TensorDataset(lib.tensor(X), lib.tensor(Y))
    dl = lib.utils.data.DataLoader(ds, **loader_kw)
    out = []
    for _ in range(epochs):
        out.append([(x.numpy().copy(), y.numpy().copy()) for x, y in dl])
    out.append(lib.rand(3).numpy())  # the generator is left in the same state
    return out


@pytest.mark.parametrize("kw", [{"batch_size": 4}, {"batch_size": 6, "shuffle": True},
                                {"batch_size": 6, "shuffle": True, "drop_last": True}, {"batch_size": None}])
def test_dataloader_matches_torch(kw: dict) -> None:
    e, t = _batches(ember, kw), _batches(torch, kw)
    for eb, tb in zip(e[:-1], t[:-1]):
        assert len(eb) == len(tb)
        for (ex, ey), (tx, ty) in zip(eb, tb):
            np.testing.assert_array_equal(ex, tx)
            np.testing.assert_array_equal(ey, ty)
    np.testing.assert_array_equal(e[-1], t[-1])


def test_dataloader_with_generator_matches_torch() -> None:
    eg, tg = ember.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    ed = DataLoader(TensorDataset(ember.tensor(Y)), batch_size=5, shuffle=True, generator=eg)
    td = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(Y)), batch_size=5, shuffle=True,
                                     generator=tg)
    for _ in range(2):
        assert [b[0].tolist() for b in ed] == [b[0].tolist() for b in td]
    assert len(ed) == len(td) == 4


def test_random_split_and_subsets_match_torch() -> None:
    ember.manual_seed(1)
    torch.manual_seed(1)
    a = random_split(range(10), [3, 7])
    b = torch.utils.data.random_split(range(10), [3, 7])
    assert [list(s) for s in a] == [list(s) for s in b]
    a = random_split(range(10), [0.5, 0.3, 0.2], generator=ember.Generator().manual_seed(2))
    b = torch.utils.data.random_split(range(10), [0.5, 0.3, 0.2], generator=torch.Generator().manual_seed(2))
    assert [list(s) for s in a] == [list(s) for s in b]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(10), [3, 3])
    c = ConcatDataset([range(3), range(10, 12)])
    assert len(c) == 5 and [c[i] for i in range(5)] == [0, 1, 2, 10, 11] and c[-1] == 11
    s = Subset(range(10), [9, 1])
    assert len(s) == 2 and s[0] == 9


def test_default_collate_matches_torch() -> None:
    batch = [{"a": (1.5, 2), "b": np.ones(2, np.float32), "c": "x"}, {"a": (0.5, 3), "b": np.zeros(2, np.float32),
                                                                     "c": "y"}]
    e = default_collate(batch)
    t = torch.utils.data.default_collate(batch)
    assert e["c"] == t["c"]
    for x, y in zip(e["a"], t["a"]):
        assert str(x.dtype).split(".")[1] == str(y.dtype).split(".")[1]
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    np.testing.assert_array_equal(e["b"].numpy(), t["b"].numpy())
    assert isinstance(e["a"], list)


def test_iterable_dataset() -> None:
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(), shuffle=True)


@pytest.mark.parametrize("batches", [[[0, 5, -1], [19, 2]], [[3]], [[0, 25]]])
def test_tensor_dataset_batches_gathered_like_torch(batches) -> None:
    # a TensorDataset batched by default_collate is gathered in one step: same tensors (values,
    # dtypes, shapes, the batch as a list) as torch's sample-by-sample stack, same IndexError
    res = []
    for lib in (ember, torch):
        ds = lib.utils.data.TensorDataset(lib.tensor(X), lib.tensor(Y), lib.tensor(X[:, 0] > 10))
        dl = lib.utils.data.DataLoader(ds, batch_sampler=batches)
        try:
            res.append([[(t.numpy().copy(), str(t.dtype).split(".")[1], type(b).__name__) for t in b] for b in dl])
        except IndexError as e:
            res.append(("IndexError", str(e)))
    if isinstance(res[1], tuple):
        assert res[0][0] == "IndexError"
        return
    for eb, tb in zip(*res):
        for (ea, ed, ek), (ta, td, tk) in zip(eb, tb):
            np.testing.assert_array_equal(ea, ta)
            assert (ed, ek) == (td, tk)


def test_tensor_dataset_requiring_grad_keeps_the_stack_graph() -> None:
    w = ember.tensor(X, requires_grad=True)
    xb, = next(iter(DataLoader(TensorDataset(w * 2), batch_size=4)))
    assert type(xb.grad_fn).__name__ == "StackBackward0"
