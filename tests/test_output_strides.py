"""Where results live in memory, as torch lays them out: ``stride()`` and ``is_contiguous()`` of each op
family's result for inputs that are contiguous, transposed, permuted, expanded, sliced or both
(ops/_strides.py holds the rules; issue 12's "layout" mismatches). Every expected layout comes from
torch, run on the same inputs."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch

import ember

F_E, F_T = ember.nn.functional, torch.nn.functional
_RNG = np.random.default_rng(0)
_A = (_RNG.random((2, 3, 4)) * 2 + 0.1).astype(np.float32)
_B = (_RNG.random((2, 3, 4)) * 2 + 0.1).astype(np.float32)

# each layout builds a (2, 3, 4) tensor holding the given values
LAYOUTS: dict[str, Callable[[Any, np.ndarray], Any]] = {
    "contiguous": lambda L, a: L.tensor(a),
    "transposed": lambda L, a: L.tensor(a.transpose(2, 1, 0).copy()).permute(2, 1, 0),
    "last_two_swapped": lambda L, a: L.tensor(a.transpose(0, 2, 1).copy()).transpose(1, 2),
    "first_two_swapped": lambda L, a: L.tensor(a.transpose(1, 0, 2).copy()).transpose(0, 1),
    "expanded": lambda L, a: L.tensor(a[:1].copy()).expand(2, 3, 4),
    "expanded_middle": lambda L, a: L.tensor(a[:, :1].copy()).expand(2, 3, 4),
    "sliced": lambda L, a: L.tensor(np.repeat(a, 2, -1))[..., ::2],
    "transposed_sliced": lambda L, a: L.tensor(np.repeat(a.transpose(2, 1, 0), 2, 0).copy()).permute(2, 1, 0)[..., ::2],
}
_PAIRS = ["contiguous", "transposed", "last_two_swapped", "expanded", "sliced", "transposed_sliced"]


def _layout(r: Any) -> tuple:
    """Shape, strides and contiguity; a size-1 dim's stride is left out (it orders nothing, and a
    NumPy view, such as ``x[None]``, may give it another than torch's)."""
    if isinstance(r, (tuple, list)):
        return tuple(_layout(x) for x in r)
    return tuple(r.shape), tuple(s if n != 1 else None for s, n in zip(r.stride(), r.shape)), r.is_contiguous()


def _check(fn: Callable, *layouts: str) -> None:
    """fn(lib, F, x[, y]) in torch and ember on inputs of ``layouts``: the same layout."""
    got = []
    for L, F in ((ember, F_E), (torch, F_T)):
        xs = [LAYOUTS[name](L, arr) for name, arr in zip(layouts, (_A, _B))]
        got.append(_layout(fn(L, F, *xs)))
    assert got[0] == got[1], f"ember {got[0]}, torch {got[1]}"


UNARY = {
    "exp": lambda L, F, x: x.exp(),
    "neg": lambda L, F, x: -x,
    "abs": lambda L, F, x: x.abs(),
    "sigmoid": lambda L, F, x: x.sigmoid(),
    "tanh": lambda L, F, x: L.tanh(x),
    "sqrt": lambda L, F, x: x.sqrt(),
    "erf": lambda L, F, x: x.erf(),
    "reciprocal_int": lambda L, F, x: L.reciprocal(x.long()),
    "floor": lambda L, F, x: x.floor(),
    "round_decimals": lambda L, F, x: x.round(decimals=1),
    "sign": lambda L, F, x: x.sign(),
    "logit": lambda L, F, x: x.logit(0.01),
    "nan_to_num_int": lambda L, F, x: x.int().nan_to_num(),
    "isnan": lambda L, F, x: x.isnan(),
    "isneginf": lambda L, F, x: x.isneginf(),
    "logical_not": lambda L, F, x: x.logical_not(),
    "times_number": lambda L, F, x: x * 2,
    "plus_number": lambda L, F, x: x + 1,
    "number_minus": lambda L, F, x: 1 - x,
    "number_over": lambda L, F, x: 2 / x,
    "square": lambda L, F, x: x ** 2,
    "pow_float": lambda L, F, x: x ** 2.5,
    "number_pow": lambda L, F, x: 2 ** x,  # (torch allocates pow(Number, Tensor) contiguously)
    "floor_divide_number": lambda L, F, x: x // 2,
    "greater_number": lambda L, F, x: x > 1,
    "clamp_numbers": lambda L, F, x: x.clamp(0.5, 1.0),
    "to_float64": lambda L, F, x: x.to(L.float64),
    "int": lambda L, F, x: x.int(),
    "special_i0e": lambda L, F, x: L.special.i0e(x),
    "frexp": lambda L, F, x: L.frexp(x),
    "mvlgamma": lambda L, F, x: L.special.multigammaln(x + 2, 2),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("op", list(UNARY))
def test_unary_elementwise(op: str, layout: str) -> None:
    _check(UNARY[op], layout)


BINARY = {
    "add": lambda L, F, x, y: x + y,
    "sub_alpha": lambda L, F, x, y: x.sub(y, alpha=2),
    "mul": lambda L, F, x, y: x * y,
    "div": lambda L, F, x, y: x / y,
    "floor_divide": lambda L, F, x, y: x // y,
    "pow": lambda L, F, x, y: x ** y,
    "maximum": lambda L, F, x, y: L.maximum(x, y),
    "less": lambda L, F, x, y: x < y,
    "logical_xor": lambda L, F, x, y: L.logical_xor(x > 1, y),
    "atan2": lambda L, F, x, y: x.atan2(y),
    "fmin": lambda L, F, x, y: L.fmin(x, y),
    "copysign": lambda L, F, x, y: L.copysign(x, y),
    "xlogy": lambda L, F, x, y: L.xlogy(x, y),
    "lerp": lambda L, F, x, y: x.lerp(y, 0.3),
    "addcmul": lambda L, F, x, y: L.addcmul(x, y, y),
    "where": lambda L, F, x, y: L.where(x > 1, x, y),
    "clamp_tensor": lambda L, F, x, y: x.clamp(y),
    "remainder": lambda L, F, x, y: x.remainder(y),
    "isclose": lambda L, F, x, y: L.isclose(x, y),
    "complex": lambda L, F, x, y: L.complex(x, y),
    "ldexp": lambda L, F, x, y: L.ldexp(x, y.int()),
    # an operand of another dtype is converted first, which lays an expanded one out densely
    "add_promoted_second": lambda L, F, x, y: x + y.double(),
    "add_promoted_first": lambda L, F, x, y: x.double() + y,
    "maximum_promoted": lambda L, F, x, y: L.maximum(x, y.double()),
}


@pytest.mark.parametrize("second", _PAIRS)
@pytest.mark.parametrize("first", _PAIRS)
@pytest.mark.parametrize("op", list(BINARY))
def test_binary_elementwise(op: str, first: str, second: str) -> None:
    _check(BINARY[op], first, second)


def test_broadcast_operand_does_not_order_dims() -> None:
    # a (4, 1, 1) operand broadcast against a permuted one: only the permuted one orders the dims
    for L in (ember, torch):
        x = L.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)
        r = x + L.ones(4, 1, 1)
        r2 = L.ones(4, 1, 1) + x
        assert (r.stride(), r2.stride()) == ((1, 12, 4), (1, 12, 4))


ACTIVATIONS = {
    "relu": lambda L, F, x: F.relu(x),
    "gelu": lambda L, F, x: F.gelu(x),
    "gelu_tanh": lambda L, F, x: F.gelu(x, approximate="tanh"),
    "silu": lambda L, F, x: F.silu(x),
    "mish": lambda L, F, x: F.mish(x),
    "softplus": lambda L, F, x: F.softplus(x),
    "elu": lambda L, F, x: F.elu(x),
    "selu": lambda L, F, x: F.selu(x),
    "leaky_relu": lambda L, F, x: F.leaky_relu(x),
    "hardtanh": lambda L, F, x: F.hardtanh(x),
    "hardtanh_int": lambda L, F, x: F.hardtanh(x.long()),
    "hardswish": lambda L, F, x: F.hardswish(x),
    "softshrink": lambda L, F, x: F.softshrink(x),
    "threshold": lambda L, F, x: F.threshold(x, 1.0, 0.0),
    "relu6": lambda L, F, x: F.relu6(x),
    "tanhshrink": lambda L, F, x: F.tanhshrink(x),
    "softsign": lambda L, F, x: F.softsign(x),
    "prelu": lambda L, F, x: F.prelu(x, L.tensor([0.25])),
    "logsigmoid": lambda L, F, x: F.logsigmoid(x),  # (contiguous in torch)
    "rrelu_eval": lambda L, F, x: F.rrelu(x),  # (contiguous in torch)
    "glu_last": lambda L, F, x: F.glu(x, -1),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("op", list(ACTIVATIONS))
def test_activations(op: str, layout: str) -> None:
    _check(ACTIVATIONS[op], layout)


REDUCTIONS = {
    "sum": lambda L, F, x: x.sum(0),
    "sum_keepdim": lambda L, F, x: x.sum(1, keepdim=True),
    "sum_two_dims": lambda L, F, x: x.sum((0, 2)),
    "mean": lambda L, F, x: x.mean(1),
    "nansum": lambda L, F, x: x.nansum(1),
    "amax": lambda L, F, x: x.amax(1),
    "amin_keepdim": lambda L, F, x: x.amin(0, keepdim=True),
    "max_dim": lambda L, F, x: tuple(x.max(1)),
    "min_keepdim": lambda L, F, x: tuple(x.min(2, keepdim=True)),
    "argmax": lambda L, F, x: x.argmax(1),
    "var": lambda L, F, x: x.var(1),
    "std": lambda L, F, x: x.std(0),
    "var_mean": lambda L, F, x: L.var_mean(x, 1),
    "norm": lambda L, F, x: x.norm(dim=1),
    "vector_norm_inf": lambda L, F, x: L.linalg.vector_norm(x, float("inf"), dim=1),
    "logsumexp": lambda L, F, x: x.logsumexp(1),
    "prod_keepdim": lambda L, F, x: x.prod(1, keepdim=True),
    "all": lambda L, F, x: x.all(1),
    "any": lambda L, F, x: x.any(0),
    "count_nonzero": lambda L, F, x: x.count_nonzero(1),
    "median": lambda L, F, x: tuple(x.median(1)),
    "nanmedian": lambda L, F, x: tuple(x.nanmedian(1)),
    "mode": lambda L, F, x: tuple(x.mode(1)),
    "kthvalue": lambda L, F, x: tuple(x.kthvalue(2, 1)),
    "pairwise_distance": lambda L, F, x: F.pairwise_distance(x, x + 1),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("op", list(REDUCTIONS))
def test_reductions_are_contiguous(op: str, layout: str) -> None:
    _check(REDUCTIONS[op], layout)


def test_kept_dims_have_torch_strides() -> None:
    # a kept (size-1) dim of a reduction's result shows the stride of a contiguous layout
    for L in (ember, torch):
        x = L.arange(24.0).reshape(2, 4, 3).transpose(1, 2)
        assert (x.sum(1, keepdim=True).stride(), x.amax(0, keepdim=True).stride()) == ((4, 4, 1), (12, 4, 1))


SCANS_AND_SOFTMAX = {
    "cumsum": lambda L, F, x: x.cumsum(0),
    "cumsum_last": lambda L, F, x: x.cumsum(2),
    "cumprod": lambda L, F, x: x.cumprod(1),
    "cummax": lambda L, F, x: tuple(x.cummax(1)),
    "logcumsumexp": lambda L, F, x: x.logcumsumexp(1),
    "softmax": lambda L, F, x: F.softmax(x, 0),
    "softmax_dtype": lambda L, F, x: F.softmax(x, 1, dtype=L.float64),
    "log_softmax": lambda L, F, x: F.log_softmax(x, 1),
    "softmin": lambda L, F, x: F.softmin(x, 2),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("op", list(SCANS_AND_SOFTMAX))
def test_scans_and_softmax(op: str, layout: str) -> None:
    _check(SCANS_AND_SOFTMAX[op], layout)


REARRANGING = {
    "flip": lambda L, F, x: x.flip(0),
    "flip_last": lambda L, F, x: x.flip(-1),
    "roll": lambda L, F, x: x.roll(1, 0),
    "roll_flat": lambda L, F, x: x.roll(1),
    "repeat": lambda L, F, x: x.repeat(1, 1, 1),
    "repeat_more": lambda L, F, x: x.repeat(2, 1, 1),
    "triu": lambda L, F, x: x.triu(),
    "tril": lambda L, F, x: x.tril(1),
    "masked_fill": lambda L, F, x: x.masked_fill(x > 1, 0),
    "masked_scatter": lambda L, F, x: x.masked_scatter(x > 1, L.zeros(24)),
    "pad": lambda L, F, x: F.pad(x, (1, 2)),
    "pad_reflect": lambda L, F, x: F.pad(x, (1, 2), mode="reflect"),
    "rot90": lambda L, F, x: x.rot90(),
    "rot90_twice": lambda L, F, x: x.rot90(2, (1, 2)),
    "rot90_thrice": lambda L, F, x: x.rot90(3),
    "sort": lambda L, F, x: tuple(x.sort(1)),
    "argsort": lambda L, F, x: x.argsort(1),
    "index_fill": lambda L, F, x: x.index_fill(1, L.tensor([0]), 1.0),
    "index_put": lambda L, F, x: x.index_put((L.tensor([0]),), L.tensor(1.0)),
    "one_hot": lambda L, F, x: F.one_hot(x.long().clamp(0, 1), 2),
    "renorm": lambda L, F, x: x.renorm(2, 0, 1.0),
    "matmul_batched": lambda L, F, x: x @ x.mT,
    "max_pool1d": lambda L, F, x: F.max_pool1d(x, 2),
    "avg_pool1d": lambda L, F, x: F.avg_pool1d(x, 2),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("op", list(REARRANGING))
def test_rearranging_and_indexing(op: str, layout: str) -> None:
    _check(REARRANGING[op], layout)


LIKE = {
    "clone": lambda L, F, x: x.clone(),
    "contiguous": lambda L, F, x: x.contiguous(),
    "zeros_like": lambda L, F, x: L.zeros_like(x),
    "ones_like": lambda L, F, x: L.ones_like(x),
    "empty_like": lambda L, F, x: L.empty_like(x),
    "full_like": lambda L, F, x: L.full_like(x, 2),
    "zeros_like_int": lambda L, F, x: L.zeros_like(x, dtype=L.int64),
    "zeros_like_contiguous": lambda L, F, x: L.zeros_like(x, memory_format=L.contiguous_format),
    "rand_like": lambda L, F, x: L.rand_like(x),
    "randn_like": lambda L, F, x: L.randn_like(x),
    "ones_like_plus": lambda L, F, x: L.ones_like(x) + x,
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("op", list(LIKE))
def test_clone_and_like(op: str, layout: str) -> None:
    _check(LIKE[op], layout)


JOINING = {
    "cat_first": lambda L, F, x, y: L.cat([x, y], 0),
    "cat_last": lambda L, F, x, y: L.cat([x, y], -1),
    "stack": lambda L, F, x, y: L.stack([x, y], 0),
    "stack_last": lambda L, F, x, y: L.stack([x, y], -1),
}


@pytest.mark.parametrize("second", _PAIRS)
@pytest.mark.parametrize("first", _PAIRS)
@pytest.mark.parametrize("op", list(JOINING))
def test_cat_and_stack(op: str, first: str, second: str) -> None:
    _check(JOINING[op], first, second)


LOSSES = {
    "mse": lambda L, F, x, y: F.mse_loss(x, y, reduction="none"),
    "l1": lambda L, F, x, y: F.l1_loss(x, y, reduction="none"),
    "huber": lambda L, F, x, y: F.huber_loss(x, y, reduction="none"),
    "smooth_l1": lambda L, F, x, y: F.smooth_l1_loss(x, y, reduction="none"),
    "kl_div": lambda L, F, x, y: F.kl_div(x, y, reduction="none"),
    "bce": lambda L, F, x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid(), reduction="none"),
    "bce_logits": lambda L, F, x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"),
    "soft_margin": lambda L, F, x, y: F.soft_margin_loss(x, y, reduction="none"),
    "poisson_nll": lambda L, F, x, y: F.poisson_nll_loss(x, y, reduction="none"),
}


@pytest.mark.parametrize("second", _PAIRS)
@pytest.mark.parametrize("first", _PAIRS)
@pytest.mark.parametrize("op", list(LOSSES))
def test_losses_without_reduction(op: str, first: str, second: str) -> None:
    _check(LOSSES[op], first, second)


NORMS = {
    "layer_norm": lambda L, F, x: F.layer_norm(x, (4,)),
    "layer_norm_two_dims": lambda L, F, x: F.layer_norm(x, (3, 4), L.ones(3, 4), L.zeros(3, 4)),
    "batch_norm": lambda L, F, x: F.batch_norm(x, None, None, training=True),
    "group_norm": lambda L, F, x: F.group_norm(x, 1),
    "instance_norm": lambda L, F, x: F.instance_norm(x),
    "rms_norm": lambda L, F, x: F.rms_norm(x, (4,)),
    "normalize": lambda L, F, x: F.normalize(x, dim=1),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("op", list(NORMS))
def test_normalizations(op: str, layout: str) -> None:
    _check(NORMS[op], layout)


CHANNELS_LAST = {
    "relu": lambda L, F, x: F.relu(x),
    "add": lambda L, F, x: x + x,
    "batch_norm": lambda L, F, x: F.batch_norm(x, None, None, training=True),
    "group_norm": lambda L, F, x: F.group_norm(x, 2),
    "layer_norm": lambda L, F, x: F.layer_norm(x, (6,)),
    "max_pool2d": lambda L, F, x: F.max_pool2d(x, 2),
    "max_pool2d_indices": lambda L, F, x: F.max_pool2d(x, 2, return_indices=True)[0],
    "avg_pool2d": lambda L, F, x: F.avg_pool2d(x, 2),
    "adaptive_avg_pool2d": lambda L, F, x: F.adaptive_avg_pool2d(x, 2),
    "pad": lambda L, F, x: F.pad(x, (1, 1)),
    "roll": lambda L, F, x: x.roll(1, 1),
    "flip": lambda L, F, x: x.flip(1),
    "repeat": lambda L, F, x: x.repeat(1, 1, 1, 1),
    "masked_fill": lambda L, F, x: x.masked_fill(x > 0, 1.0),
    "softmax": lambda L, F, x: F.softmax(x, 1),
    "sum_keepdim": lambda L, F, x: x.sum(1, keepdim=True),
    "cumsum": lambda L, F, x: x.cumsum(1),
    "sort": lambda L, F, x: x.sort(1)[0],
    "zeros_like": lambda L, F, x: L.zeros_like(x),
    "clone": lambda L, F, x: x.clone(),
    "contiguous": lambda L, F, x: x.contiguous(),
    "mse_loss_second": lambda L, F, x: F.mse_loss(x.contiguous(), x, reduction="none"),
    "logsigmoid": lambda L, F, x: F.logsigmoid(x),
    "conv2d": lambda L, F, x: F.conv2d(x, L.ones(3, 4, 1, 1)),
    "conv_transpose2d": lambda L, F, x: F.conv_transpose2d(x, L.ones(4, 3, 2, 2)),
    "interpolate_nearest": lambda L, F, x: F.interpolate(x, scale_factor=2),
    "cat": lambda L, F, x: L.cat([x, x], 1),
}


@pytest.mark.parametrize("op", list(CHANNELS_LAST))
def test_channels_last_inputs(op: str) -> None:
    # an NHWC-strided (2, 4, 4, 6) input: the ops that follow suggest_memory_format stay channels-last
    got = []
    for L, F in ((ember, F_E), (torch, F_T)):
        x = L.tensor(_RNG.standard_normal((2, 4, 6, 4)).astype(np.float32)).permute(0, 3, 1, 2)
        got.append(_layout(CHANNELS_LAST[op](L, F, x)))
    assert got[0] == got[1], f"ember {got[0]}, torch {got[1]}"


def test_in_place_ops_and_views_keep_their_strides() -> None:
    for L in (ember, torch):
        x = L.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)
        y = x.clone()
        y.add_(1).mul_(L.ones(4, 2, 3)).exp_()
        x[1:] = 0
        assert (y.stride(), x.stride(), x.mT.stride(), x[:, :, ::2].stride()) == \
               ((1, 12, 4), (1, 12, 4), (1, 4, 12), (1, 12, 8))
        e = L.ones(3, 1).expand(3, 4)
        assert (e.stride(), e[:, ::2].stride()) == ((1, 0), (1, 0))


@pytest.mark.parametrize("src", [
    # shrunk from the fuzzer's seeds of the 100k run (seed in the name of each group)
    "x = L.tensor([[0.0, -2.0]]).expand(2, -1, -1); r = x.roll(1, 0)",  # 1214
    "x = L.tensor([[3, 0], [3, 3]]).movedim(1, 0); r = x.masked_fill(x < 0, True)",  # 16008
    "x = L.tensor([[-0.307, -0.839], [-0.661, 0.158]], dtype=L.float64).movedim(0, 1); "
    "r = F.layer_norm(x, (2,), L.tensor([-3.0, 2.0], dtype=L.float64), L.tensor([2.3, -2.4], dtype=L.float64))",  # 111
    "x = L.tensor([[[[2.0], [0.0]], [[1.0], [-3.0]]]]).acosh().permute(0, 3, 2, 1); r = x.flip(-3)",  # 17574
    "x = L.rand(4, 5, 1).half().movedim(0, -1); r = F.mse_loss(x, L.rand(5, 1, 4).half(), reduction='none')",  # 175
    "r = F.tanh(L.tensor([[[-0.212, -2.032]]]).expand(3, -1, 3, -1))",  # 9828
    "x = L.tensor([[[[-3.0], [2.0]]], [[[3.0], [3.0]]]]).permute(3, 2, 0, 1); r = x.count_nonzero(-1)",  # 9918
    "x = L.tensor([[[1.0, -2.0]], [[-3.0, 0.0]]]).T; r = L.ones_like(x) + x",  # 13125
    "x = L.tensor([[0.0, -2.0], [0.0, 1.0]]).permute(1, 0).expand(3, -1, -1); r = x.cumprod(-3)",  # 9636
    "x = L.tensor([[[2.217, 0.873], [-1.848, -1.002]]]).T; r = F.softmax(x, -1)",  # 49619
    "x = L.tensor([[-2.0, 3.0], [-3.0, -2.0]]).transpose(0, -1); r = F.pad(x, (1, 2))",  # 11257
    "x = L.tensor([False, False]).expand(3, -1); r = x >= L.tensor(2.652)",  # 3866
    "x = L.tensor([[0, 1], [1, 0]]).bool().expand(3, 2, 2); r = L.where(x > 0, L.conj(x), x)",  # 773
    "r = L.reciprocal(L.tensor([0, -3]).expand(3, -1))",  # 52337
    "r = 2 / L.tensor([0.257, 0.305]).bool().int().expand(3, -1)",  # 13168
    "x = L.tensor([[[1.0, 3.0], [-2.0, -2.0], [-2.0, -2.0], [2.0, -3.0]]], dtype=L.float16).mH; "
    "r = F.avg_pool1d(x, 3, stride=1)",  # 55231
    "x = L.deg2rad(L.tensor([[[[3, -2]]], [[[-1, -2]]]]).permute(1, 3, 0, 2)); r = L.matmul(x, L.tensor([[[[2.99]]]]))",  # 87303
    "x = L.tensor([[1.5, 0.6], [1.4, 0.9]], dtype=L.float64).transpose(-1, 0); r = L.sigmoid(x)",  # 38107
    "x = L.tensor([[-2, 2], [3, 2], [-1, 3]]).permute(1, 0).asinh(); r = x * L.ones(2, 3, dtype=L.float64)",  # 68870
])
def test_fuzz_seeds(src: str) -> None:
    got = []
    for L, F in ((ember, F_E), (torch, F_T)):
        env: dict = {"L": L, "F": F}
        exec(src, env)  # noqa: S102 (a fixed reproducer, run in both libraries)
        got.append(_layout(env["r"]))
    assert got[0] == got[1], f"ember {got[0]}, torch {got[1]}"
