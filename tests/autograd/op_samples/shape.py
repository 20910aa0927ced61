"""Views, reshapes, joins and splits, indexing, scatter/gather and in-place writes."""

from __future__ import annotations

from ._spec import PERM, B, D, I, N, S


def _setitem(m, x, v):  # basic index: the base gets CopySlices
    y = x.clone()
    y[0, 1:] = v
    return y


def _setitem_adv(m, x, v):  # advanced index: IndexPutBackward0
    y = x.clone()
    y[m.tensor([0, 2])] = v
    return y


def _inplace_view(m, x, w):  # in-place through a view: CopySlices on the base, AsStrided on the view
    y = x.clone()
    v = y[1]
    v.mul_(w)
    return v * 1.0, y


def _zero(m, x):
    y = x * 2
    y[0].zero_()
    z = x * 3
    return y, z.zero_() + x


def _fill(m, x, v):
    y = x * 2
    y.fill_(v)
    z = x * 3
    return y + x, z.fill_(1.5) + x


def _copy(m, x, s):
    y = x * 2
    y.copy_(s)
    return y * x


SAMPLES = [
    S("view", lambda m, x: x.view(3, 2), N(2, 3), N(6, 1)),
    S("reshape_copy", lambda m, x: x.t().reshape(6), N(2, 3)),
    S("unsafe_view_matmul", lambda m, a, b: m.matmul(a, b), (N(2, 2, 3), N(2, 3, 2)), (N(1, 2, 3), N(3, 3, 2))),
    S("matmul_batch_matrix", lambda m, a, b: m.matmul(a, b), (N(2, 2, 3), N(3, 2))),
    S("matmul_vector_matrix", lambda m, a, b: m.matmul(a, b), (N(3), N(3, 2))),
    S("alias", lambda m, x: x[...] * x, N(2, 3)),
    S("transpose", lambda m, x: x.transpose(0, 1), N(2, 3), N(1, 3, 2)),
    S("t", lambda m, x: x.t(), N(2, 3), N(3)),
    S("t_", lambda m, x: (x * 1.0).t_(), N(2, 3)),
    S("transpose_", lambda m, x: (x * 1.0).transpose_(0, 1), N(2, 3)),
    S("unsqueeze_", lambda m, x: (x * 1.0).unsqueeze_(1), N(2, 3)),
    S("squeeze_", lambda m, x: (x * 1.0).squeeze_(), N(2, 1, 3)),
    S("squeeze_dim_", lambda m, x: (x * 1.0).squeeze_(1), N(2, 1, 3)),
    S("squeeze_dims_", lambda m, x: (x * 1.0).squeeze_((1, 2)), N(2, 1, 1)),
    S("permute", lambda m, x: x.permute(2, 0, 1), N(2, 3, 2), N(1, 2, 1)),
    S("unsqueeze", lambda m, x: x.unsqueeze(-1), N(2, 3), N()),
    S("squeeze", lambda m, x: x.squeeze(), N(2, 1, 3), N(1)),
    S("squeeze_dim", lambda m, x: x.squeeze(1), N(2, 1, 3), N(2, 1)),
    S("squeeze_dims", lambda m, x: x.squeeze((1, 2)), N(2, 1, 1)),
    S("expand", lambda m, x: x.expand(2, 3, 3), N(3, 1), N(1)),
    S("cat", lambda m, a, b: m.cat([a, b], 1), (N(2, 3), N(2, 1)), (N(1, 2), N(1, 2))),
    S("stack", lambda m, a, b: m.stack([a, b], -1), (N(2, 3), N(2, 3)), (N(), N())),
    S("unbind", lambda m, x: x.unbind(1), N(2, 3), N(1, 2)),
    S("split", lambda m, x: x.split(2, 1), N(2, 5), N(1, 2)),
    S("split_with_sizes", lambda m, x: x.split([1, 3], 1), N(2, 4), N(1, 4)),
    S("rot90", lambda m, x: m.rot90(x, 1, (0, 1)), N(2, 3), N(1, 2)),
    S("unfold", lambda m, x: x.unfold(-1, 2, 1), N(2, 4), N(5)),
    S("as_strided", lambda m, x: m.as_strided(x, (2, 2), (1, 2), 1), N(2, 4), N(5)),
    S("as_strided_overlap", lambda m, x: x.expand(2, 3).as_strided((2, 2), (1, 1)), N(3)),
    S("clone", lambda m, x: x.clone(), N(2, 3), N()),
    S("repeat", lambda m, x: x.repeat(2, 1, 2), N(2, 3), N(1)),
    S("flip", lambda m, x: x.flip((0, 1)), N(2, 3), N(1, 1)),
    S("roll", lambda m, x: x.roll((1, -1), (0, 1)), N(2, 3), N(1, 4)),
    S("tril", lambda m, x: x.tril(), N(3, 3), N(2, 3, 2)),
    S("triu", lambda m, x: x.triu(1), N(3, 3), N(2, 3, 2)),
    S("diagonal", lambda m, x: x.diagonal(0, 0, 1), N(3, 3), N(2, 3, 2)),
    S("diagonal_offset", lambda m, x: m.diagonal(x, 1), N(3, 4), N(1, 2)),
    S("diag", lambda m, x: m.diag(x, 1), N(3, 3), N(1, 1)),
    S("diag_embed", lambda m, x: m.diag_embed(x), N(2, 3), N(1)),
    S("diagonal_backward", lambda m, x, v: m.autograd.grad(x.diagonal() * x.diagonal(), x, v, create_graph=True)[0], (N(3, 3), N(3))),
    S("to_complex", lambda m, x: x.to(m.complex128), N(2, 3), N()),
    # indexing
    S("select", lambda m, x: x[1], N(2, 3), N(2)),
    S("select_backward", lambda m, x, v: m.autograd.grad(x[1] * x[0], x, v, create_graph=True)[0], (N(2, 3), N(3))),
    S("slice", lambda m, x: x[:, 1:], N(2, 3), N(1, 2)),
    S("slice_step", lambda m, x: x[::2], N(5)),
    S("slice_backward", lambda m, x, v: m.autograd.grad(x[:, 1:] * x[:, :2], x, v, create_graph=True)[0], (N(2, 3), N(2, 2))),
    S("index", lambda m, x, i: x[i], (N(4, 2), I(4, 3)), (N(3), I(3, 2, 2))),
    S("index_mixed", lambda m, x: x[m.tensor([0, 2]), 1:], N(3, 3), N(3, 1)),
    S("index_backward", lambda m, x, v, i: m.autograd.grad(x[i] * x[i], x, v, create_graph=True)[0], (N(4, 2), N(3, 2), I(4, 3))),
    S("index_bool", lambda m, x, b: x[b], (N(2, 3), B(2, 3))),
    S("masked_select", lambda m, x, b: m.masked_select(x, b), (N(2, 3), B(2, 3)), (N(2, 3), B(3))),
    S("masked_select_backward", lambda m, x, v, b: m.autograd.grad(m.masked_select(x, b) ** 2, x, v[:int(b.sum())], create_graph=True)[0],
      (N(2, 3), N(6), B(2, 3))),
    S("masked_scatter", lambda m, x, s, b: x.masked_scatter(b, s), (N(2, 3), N(6), B(2, 3)), (N(2, 3), N(6), B(3))),
    S("masked_fill", lambda m, x, b: x.masked_fill(b, 0.5), (N(2, 3), B(2, 3)), (N(2, 3), B(3))),
    S("masked_fill_tensor", lambda m, x, b, v: x.masked_fill(b, v), (N(2, 3), B(2, 3), N()), (N(2, 3), B(3), N())),
    S("take", lambda m, x, i: m.take(x, i), (N(2, 3), I(6, 4)), (N(2, 3), I(6, 2, 2))),
    S("gather", lambda m, x, i: m.gather(x, 1, i), (N(2, 3), I(3, 2, 4)), (N(3, 2), I(2, 1, 2))),
    S("scatter", lambda m, x, s, i: x.scatter(1, i, s), (N(2, 4), N(2, 3), PERM(4, 2, 3)), (N(3, 3), N(3, 2), PERM(3, 3, 2))),
    S("scatter_value", lambda m, x, i: x.scatter(1, i, 0.5), (N(2, 4), PERM(4, 2, 3))),
    S("scatter_add", lambda m, x, s, i: x.scatter_add(1, i, s), (N(2, 4), N(2, 3), I(4, 2, 3)), (N(2, 4), N(2, 1), I(4, 2, 1))),
    S("scatter_reduce_sum", lambda m, x, s, i: x.scatter_reduce(1, i, s, "sum"), (N(2, 4), N(2, 3), I(4, 2, 3)), (N(2, 4), N(2, 1), I(4, 2, 1))),
    S("scatter_reduce_prod", lambda m, x, s, i: x.scatter_reduce(1, i, s, "prod"), (N(2, 4), N(2, 3), I(4, 2, 3)), (N(1, 2), N(1, 3), I(2, 1, 3))),
    S("scatter_reduce_mean", lambda m, x, s, i: x.scatter_reduce(1, i, s, "mean", include_self=False), (N(2, 4), N(2, 3), I(4, 2, 3)), (N(1, 2), N(1, 3), I(2, 1, 3))),
    S("scatter_reduce_amax", lambda m, x, s, i: x.scatter_reduce(1, i, s, "amax"), (N(2, 4), N(2, 3), I(4, 2, 3)), (N(1, 2), D(1, 3), I(2, 1, 3))),
    S("index_select", lambda m, x, i: m.index_select(x, -1, i), (N(2, 3), I(3, 4)), (N(3), I(3, 2))),
    S("index_add", lambda m, x, s, i: x.index_add(1, i, s, alpha=2.0), (N(2, 4), N(2, 3), I(4, 3)), (N(1, 2), N(1, 3), I(2, 3))),
    S("index_copy", lambda m, x, s, i: x.index_copy(1, i, s), (N(2, 4), N(2, 3), PERM(4, 3)), (N(1, 2), N(1, 1), PERM(2, 1))),
    S("index_fill", lambda m, x, i: x.index_fill(1, i, 0.5), (N(2, 4), I(4, 2)), (N(1, 1), I(1, 1))),
    S("index_fill_tensor", lambda m, x, i, v: x.index_fill(1, i, v), (N(2, 4), I(4, 2), N())),
    S("index_put", lambda m, x, v, i: x.index_put((i,), v), (N(4, 2), N(3, 2), PERM(4, 3)), (N(4, 2), N(2), PERM(4, 3))),
    S("index_put_acc", lambda m, x, v, i: x.index_put((i,), v, accumulate=True), (N(4, 2), N(3, 2), I(4, 3)), (N(4), N(1), I(4, 3))),
    S("setitem", _setitem, (N(3, 3), N(2)), (N(3, 3), N())),
    S("setitem_advanced", _setitem_adv, (N(3, 2), N(2, 2)), (N(3, 2), N(2))),
    S("inplace_on_view", _inplace_view, (N(2, 3), N(3)), (N(2, 3), N())),
    S("zero_", _zero, N(2, 3)),
    S("fill_", _fill, (N(2, 3), N()), (N(1), N())),
    S("copy_", _copy, (N(2, 3), N(2, 3)), (N(2, 3), N(3))),
]

EXEMPT: dict = {}
