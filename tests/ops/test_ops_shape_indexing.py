# ruff: noqa: B023  (lambdas in loops are called at once, inside the loop)
"""Shape/view and indexing ops against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ops_oracle import case, raises_like, rnd

import ember

A = rnd(3, 4)
B3 = rnd(2, 3, 4)
I = np.array([[0, 1, 2, 0], [2, 2, 1, 0]])


def test_views_and_reshapes() -> None:
    case(lambda lib, x, y: x.view_as(y), A, rnd(4, 3))
    case(lambda lib, x: (x.unflatten(1, (2, 2)), x.flatten(), x.ravel(), lib.ravel(x.t())), A)
    case(lambda lib, x: (x.swapaxes(0, 2), x.movedim(0, -1), lib.movedim(x, (0, 1), (2, 0)), x.mT, x.permute(2, 0, 1)), B3)
    case(lambda lib, x, y: (y.expand_as(x), lib.broadcast_to(y, (2, 3, 4))), B3, rnd(3, 1))
    case(lambda lib, x: (x.narrow(1, 1, 2), lib.narrow(x, 0, 0, 1)), A)
    case(lambda lib, x: (x.split(2, 1), x.split([1, 3], 1), x.chunk(2, 1), lib.chunk(x, 3), x.unbind(1)), A)
    case(lambda lib, x: (x.squeeze(), x.unsqueeze(0).squeeze(0), x.t().contiguous(), x.clone()), A)
    case(lambda lib, x: lib.tensor_split(x, 3, dim=1), A)


def test_repeat_tile_flip_roll() -> None:
    case(lambda lib, x: (x.repeat(2, 1), x.repeat(2, 1, 3), lib.tile(x, (2,)), x.tile((2, 1, 1))), A)
    case(lambda lib, x: (x.repeat_interleave(2), x.repeat_interleave(2, dim=1), lib.repeat_interleave(x, 3, 0)), A)
    case(lambda lib, x: x.repeat_interleave(lib.tensor([1, 0, 2]), dim=0), A)
    case(lambda lib, x: (x.flip(0), lib.flip(x, (0, 1)), x.fliplr(), lib.flipud(x)), A)
    case(lambda lib, x: (x.roll(1), lib.roll(x, 2, 1), x.roll((1, -1), (0, 1))), A)
    case(lambda lib, r: lib.repeat_interleave(r), np.array([1, 0, 2]), grad=False)
    raises_like(lambda lib, x: x.repeat(2), A)


def test_cat_stack_family() -> None:
    case(lambda lib, x, y: (lib.cat([x, y]), lib.concat((x, y), 1), lib.stack([x, y], 2)), A, rnd(3, 4, seed=3))
    case(lambda lib, x, y: (lib.hstack([x, y]), lib.vstack([x, y]), lib.dstack([x, y]), lib.column_stack([x, y])),
         rnd(4), rnd(4, seed=2))
    case(lambda lib, x, y: (lib.hstack([x, y]), lib.vstack([x, y]), lib.dstack([x, y])), A, rnd(3, 4, seed=3))
    case(lambda lib, x, y: lib.cat([x, y]), A, np.zeros((0,)))
    case(lambda lib, x, y: lib.cat([x, y]), np.arange(3), np.array([0.5]), grad=False)
    raises_like(lambda lib, x, y: lib.cat([x, y], 1), A, rnd(2, 4))
    raises_like(lambda lib, x, y: lib.stack([x, y]), A, rnd(2, 4))


def test_triangles_and_diagonals() -> None:
    case(lambda lib, x: (x.tril(), lib.triu(x, 1), x.tril(-1), lib.tril(x, 2)), A)
    case(lambda lib, x: (x.tril(), x.triu(-1)), B3)
    case(lambda lib, x: (lib.diag(x), lib.diag(x, 1), x.diag(-1)), A)
    case(lambda lib, v: (lib.diag(v), v.diag(1), lib.diag(v, -2), lib.diagflat(v)), rnd(3))
    case(lambda lib, x: (x.diagonal(), lib.diagonal(x, 1), x.diagonal(-1), x.diagonal(0, 0, 2), x.diagonal(1, -1, 0)), B3)
    case(lambda lib, x: (lib.diag_embed(x), x.diag_embed(1), lib.diag_embed(x, -1, 0, 2)), A)
    case(lambda lib, x: x.diagonal(), A, noncontig=True)


def test_broadcast_and_meshgrid() -> None:
    case(lambda lib, x, y: lib.broadcast_tensors(x * 1, y), A, rnd(4))
    case(lambda lib, x, y: lib.meshgrid(x, y, indexing="ij"), rnd(3), rnd(2))
    case(lambda lib, x, y: lib.meshgrid(x, y, indexing="xy"), rnd(3), rnd(2))
    case(lambda lib, x: (lib.atleast_1d(x), lib.atleast_2d(x), lib.atleast_3d(x)), np.array(1.5))
    case(lambda lib, x: (lib.atleast_2d(x), lib.atleast_3d(x)), rnd(3))
    assert ember.broadcast_shapes((3, 1), (4,)) == (3, 4)


def test_advanced_indexing_combinations() -> None:
    x = rnd(4, 5, 3)
    m = x[..., 0] > 0
    keys = [
        lambda lib: (lib.tensor([0, 2, 2]),),
        lambda lib: (slice(None), lib.tensor([1, 1, 4])),
        lambda lib: (lib.tensor([0, 3]), slice(1, 3), lib.tensor([2, 0])),
        lambda lib: (lib.tensor([[0, 1], [3, 3]]), None, Ellipsis),
        lambda lib: (Ellipsis, lib.tensor([2, 2, 0])),
        lambda lib: (lib.tensor(m),),
        lambda lib: (lib.tensor(m[0]) if False else slice(None), lib.tensor(x[0, :, 0] > 0)),
        lambda lib: ([0, 1, 1],),
        lambda lib: (1, [0, 4], slice(None, None, 2)),
        lambda lib: (lib.tensor([-1, 0]),),
    ]
    for k in keys:
        case(lambda lib, t: t[k(lib)], x)
    raises_like(lambda lib, t: t[lib.tensor([7])], x)
    raises_like(lambda lib, t: t[lib.tensor([1.0])], x)


def test_gather_scatter_family() -> None:
    idx = np.array([[0, 1, 2, 0], [2, 2, 1, 0]])
    src = rnd(2, 4, seed=4)
    case(lambda lib, x, i: (x.gather(0, i), lib.gather(x, 1, i[:, :2])), A, idx)
    case(lambda lib, x, i, s: (x.scatter(0, i, s), lib.scatter(x, 0, i, 2.5)), A, idx, src)
    case(lambda lib, x, i, s: (x.scatter_add(0, i, s), lib.scatter_add(x, 1, i[:, :2], s[:, :2])), A, idx, src)
    # torch's backward fails when src is larger than index; ember pads the gradient with zeros
    x, s = ember.tensor(A, requires_grad=True), ember.tensor(src, requires_grad=True)
    x.scatter_add(1, ember.tensor(idx[:, :2]), s).sum().backward()
    assert s.grad.tolist() == [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
    for red in ("sum", "mean", "amax", "amin", "prod"):
        for inc in (True, False):
            case(lambda lib, x, i, s: lib.scatter_reduce(x, 0, i, s, red, include_self=inc), A + 2, idx, src + 2)
    case(lambda lib, x, i: lib.take_along_dim(x, i, 0), A, idx)
    case(lambda lib, x, i: lib.take_along_dim(x, i), A, np.array([1, 5, 11]))
    case(lambda lib, x, i: x.take_along_dim(i, 1), A, np.array([[0], [3], [1]]))
    raises_like(lambda lib, x, i: x.gather(0, i), A, np.array([[5]]))
    raises_like(lambda lib, x, i: x.scatter(0, i, 1.0), A, np.array([[7]]))
    raises_like(lambda lib, x, i: x.gather(0, i), A, np.array([[0.0]]))


def test_index_ops() -> None:
    i = np.array([0, 2, 0])
    case(lambda lib, x, j: (x.index_select(1, j), lib.index_select(x, 0, j)), A, i)
    case(lambda lib, x, j, s: (x.index_add(0, j, s), lib.index_add(x, 0, j, s, alpha=2)), A, i, rnd(3, 4, seed=8))
    case(lambda lib, x, j, s: x.index_copy(1, j[:2] + 1, s), A, i, rnd(3, 2, seed=8))
    case(lambda lib, x, j: (x.index_fill(1, j, -1.0), lib.index_fill(x, 0, j, 2)), A, i)
    case(lambda lib, x, j, v: x.index_fill(1, j, v), A, i, np.array(3.0))
    case(lambda lib, x, j, v: (x.index_put((j,), v), lib.index_put(x, (j, j), v[0], accumulate=True)), A, i,
         rnd(4, seed=2))
    case(lambda lib, x, m: x.index_put((m,), lib.tensor(0.5, dtype=lib.float64)), A, A > 0)
    raises_like(lambda lib, x, j: x.index_select(0, j), A, np.array([7]))
    raises_like(lambda lib, x, j, v: x.index_put((j,), v), A, np.array([5]), np.array(1.0))


def test_masked_and_take() -> None:
    m = A > 0
    case(lambda lib, x, mm: (x.masked_fill(mm, 1.5), lib.masked_select(x, mm), x.masked_select(mm[0])), A, m)
    case(lambda lib, x, mm, s: (x.masked_scatter(mm, s), lib.masked_scatter(x, mm[0], s)), A, m, rnd(3, 5, seed=3))
    case(lambda lib, x, j: (x.take(j), lib.take(x, j.reshape(2, 2))), A, np.array([0, 5, 5, -1]))
    case(lambda lib, x, mm: (lib.where(mm, x, 0.0), lib.where(mm, 1.0, x), lib.nonzero(mm), lib.where(mm)), A, m)
    raises_like(lambda lib, x, j: x.take(j), A, np.array([50]))
    raises_like(lambda lib, x, mm: x.masked_select(mm), A, np.array([1, 0, 1, 0]))


def test_setitem_and_inplace_index_ops() -> None:
    def f(lib, x, v):
        y = x * 1
        y[0, 1:3] = v[:2]
        y[lib.tensor([2, 1]), 0] = v[2]
        y[y > 5] = 0.0
        return y
    case(f, A, rnd(4, seed=1))

    def g(lib, x, s):
        y = x * 2
        y.index_add_(0, lib.tensor([0, 0]), s)
        y.scatter_(1, lib.tensor([[0], [1]]), s[:, :1])
        y.masked_fill_(y > 1, 1.0)
        y.index_fill_(1, lib.tensor([3]), 0.0)
        return y
    case(g, A, rnd(2, 4, seed=6))
    t = ember.zeros(3)
    v = t._version
    t.scatter_add_(0, ember.tensor([0, 0]), ember.ones(2))
    t[1] = 5
    assert t.tolist() == [2.0, 5.0, 0.0] and t._version == v + 2


@pytest.mark.parametrize("shape", [(0, 3), (2, 0)])
def test_empty_shape_ops(shape) -> None:
    x = np.zeros(shape)
    case(lambda lib, t: (t.flip(0), t.repeat(2, 1), t.tril(), t.roll(1, 0), t.t(), t.reshape(-1)), x)


@pytest.mark.parametrize("key", ["range_and_tensor", "range_alone", "slice_then_range", "empty_range"])
def test_range_objects_index_as_sequences_like_torch(key):
    # `-input[range(n), target]` (the "What is torch.nn really?" tutorial's nll) indexes with a range
    outs = []
    for lib in (ember, torch):
        x = lib.arange(12.).reshape(3, 4).requires_grad_()
        k = {"range_and_tensor": (range(3), lib.tensor([1, 0, 3])), "range_alone": range(1, 3),
             "slice_then_range": (slice(None), range(2)), "empty_range": range(0)}[key]
        y = x[k]
        y.sum().backward()
        z = lib.zeros(3, 4)
        z[k] = 1.0
        outs.append((y.detach().numpy(), x.grad.numpy(), z.numpy(), type(y.grad_fn).__name__))
    for e, t in zip(*outs):
        if isinstance(e, str):
            assert e == t
        else:
            np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize("perm", [(0, 1, 2), (0, 2, 1), (1, 0, 2), (2, 1, 0)])
@pytest.mark.parametrize("key", ["x[..., [0, 1]]", "x[::2, [1, 2]]", "x[:, [0, 1], 2]", "x[1, :, [0, 2]]",
                                 "x[[0, 1], :, [1, 0]]", "x[:, [[0, 1]], [[1], [0]]]", "x[:, x[0] > 0]", "x[[1], :, [0]]"])
def test_advanced_index_memory_order_as_torch(perm: tuple, key: str) -> None:
    # torch's index kernel orders the result's dims by the source's and the indices' strides: a
    # contiguous source gives a contiguous result (NumPy's often is not), a permuted one may not
    a = rnd(3, 4, 3)
    t = eval(key, {"x": torch.tensor(a).permute(*perm)})
    e = eval(key, {"x": ember.tensor(a).permute(*perm)})
    assert tuple(e.shape) == tuple(t.shape) and np.array_equal(e.numpy(), t.numpy())
    assert e.is_contiguous() == t.is_contiguous()


@pytest.mark.parametrize("expr", ["L.cat([x.mT, x.mT], -1)", "L.cat([x[0].t(), x[0].t()], 0)", "L.stack([x.mT, x.mT])",
                                  "L.cat([x[None].permute(0, 3, 1, 2)] * 2, 1)",
                                  "x[:, :1].expand(2, 4, 3).int()", "x[:, :1].expand(2, 4, 3).clone()", "x.mT.double()",
                                  "x.permute(2, 0, 1).clone()", "x[:, ::2].clone()", "x.mT[:, ::2].to(L.float16)"])
def test_copies_memory_order_as_torch(expr: str) -> None:
    # cat's result is contiguous unless every input is channels-last; a copy (clone, a dtype
    # conversion) keeps its source's order only when that is dense (torch's preserve_format)
    a = rnd(2, 3, 3)
    t, e = (eval(expr, {"x": L.tensor(a, dtype=L.float32), "L": L}) for L in (torch, ember))
    assert tuple(e.shape) == tuple(t.shape) and np.array_equal(e.numpy(), t.numpy())
    assert e.is_contiguous() == t.is_contiguous()
