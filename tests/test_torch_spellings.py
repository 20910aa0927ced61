"""torch's other spellings of ops ember has (ember/ops/spellings.py, ember/_functional_spellings.py):
top-level forms of nn.functional calls in torch's native argument order, in-place function forms,
the legacy linear-algebra calls, h/v/dsplit, torch.range and the predicates, each against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember


def _data(*shape):
    """Fixed data for a shape (the same on every call, so torch and ember see the same numbers)."""
    return np.random.default_rng(abs(hash(shape)) % 2**32).standard_normal(shape)


X34 = _data(3, 4)
X234 = _data(2, 3, 4)
IMG = _data(2, 4, 6, 6)
W2D = _data(3, 4, 3, 3)
SPD = X34 @ X34.T + 3 * np.eye(3)
SEQ = _data(2, 3, 8)


def T(lib, a, grad=False, dtype=None):
    return lib.tensor(a, dtype=dtype or lib.float64, requires_grad=grad)


# name -> function(lib) returning a tensor or a tuple of tensors; inputs requiring grad are returned too
CASES = {
    "conv2d": lambda L: L.conv2d(T(L, IMG, True), T(L, W2D), None, 1, 1),
    "conv1d": lambda L: L.conv1d(T(L, SEQ, True), T(L, _data(5, 3, 3)), T(L, _data(5)), 2),
    "conv_transpose2d": lambda L: L.conv_transpose2d(T(L, IMG, True), T(L, _data(4, 2, 3, 3)), None, 2, 1, 1),
    "convolution": lambda L: L.convolution(T(L, IMG, True), T(L, W2D), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),
    "dropout_eval": lambda L: L.dropout(T(L, X34, True), 0.5, False),
    "alpha_dropout_eval": lambda L: L.alpha_dropout(T(L, X34, True), 0.5, False),
    "batch_norm": lambda L: L.batch_norm(T(L, IMG, True), T(L, _data(4)), T(L, _data(4)), None, None, True, 0.1, 1e-5, True),
    "instance_norm": lambda L: L.instance_norm(T(L, IMG, True), None, None, None, None, True, 0.1, 1e-5, True),
    "layer_norm": lambda L: L.layer_norm(T(L, X234, True), [4], T(L, _data(4)), None, 1e-5, True),
    "group_norm": lambda L: L.group_norm(T(L, IMG, True), 2, None, None, 1e-5, True),
    "embedding": lambda L: L.embedding(T(L, X34, True), L.tensor([[0, 2], [1, 1]]), 1),
    "kl_div": lambda L: L.kl_div(T(L, X34, True).log_softmax(1), T(L, X34).softmax(1), 2),
    "bce_logits": lambda L: L.binary_cross_entropy_with_logits(T(L, X34, True), T(L, (X34 > 0) * 1.0), None, None, 0),
    "cosine_embedding_loss": lambda L: L.cosine_embedding_loss(T(L, X34, True), T(L, X34[::-1].copy()), L.tensor([1., -1., 1.], dtype=L.float64)),
    "hinge_embedding_loss": lambda L: L.hinge_embedding_loss(T(L, X34, True), T(L, np.sign(X34)), 1.0, 2),
    "margin_ranking_loss": lambda L: L.margin_ranking_loss(T(L, X34[0], True), T(L, X34[1]), T(L, np.sign(X34[2])), 0.1, 1),
    "triplet_margin_loss": lambda L: L.triplet_margin_loss(T(L, X34, True), T(L, X34 + 1), T(L, X34[::-1].copy())),
    "poisson_nll_loss": lambda L: L.poisson_nll_loss(T(L, X34, True), T(L, np.abs(X34)), True, False, 1e-8, 1),
    "cosine_similarity": lambda L: L.cosine_similarity(T(L, X34, True), T(L, X34[::-1].copy())),
    "pairwise_distance": lambda L: L.pairwise_distance(T(L, X34, True), T(L, X34[::-1].copy()), 1.5),
    "pixel_shuffle": lambda L: L.pixel_shuffle(T(L, IMG, True), 2),
    "pixel_unshuffle": lambda L: L.pixel_unshuffle(T(L, IMG, True), 2),
    "prelu": lambda L: L.prelu(T(L, IMG, True), T(L, _data(4))),
    "selu": lambda L: L.selu(T(L, X34, True)),
    "celu": lambda L: L.celu(T(L, X34, True), 0.7),
    "rrelu_eval": lambda L: L.rrelu(T(L, X34, True)),
    "hardshrink": lambda L: L.hardshrink(T(L, X34, True), 0.3),
    "threshold": lambda L: L.threshold(T(L, X34, True), 0.1, -2.0),
    "max_pool2d": lambda L: L.max_pool2d(T(L, IMG, True), 2),
    "max_pool1d_with_indices": lambda L: L.max_pool1d_with_indices(T(L, SEQ, True), 3, 2),
    "avg_pool1d": lambda L: L.avg_pool1d(T(L, SEQ, True), 2),
    "adaptive_max_pool1d": lambda L: L.adaptive_max_pool1d(T(L, SEQ, True), 3),
    "bilinear": lambda L: L.bilinear(T(L, X34, True), T(L, X34), T(L, _data(2, 4, 4)), T(L, _data(2))),
    "constant_pad_nd": lambda L: L.constant_pad_nd(T(L, X34, True), [1, 2, 0, 1], 3.0),
    "affine_grid_generator": lambda L: L.affine_grid_generator(T(L, _data(2, 2, 3), True), [2, 1, 3, 4], False),
    "grid_sampler": lambda L: L.grid_sampler(T(L, IMG, True), T(L, np.tanh(_data(2, 3, 5, 2))), 0, 1, False),
    "svd": lambda L: L.svd(T(L, X34, True)),
    "svd_some_false": lambda L: tuple(t.abs() for t in L.svd(T(L, X34, True), some=False)),
    "svd_no_uv": lambda L: L.svd(T(L, X34, True), compute_uv=False),
    "qr": lambda L: L.qr(T(L, X34.T.copy(), True)),
    "cholesky": lambda L: L.cholesky(T(L, SPD, True)),
    "cholesky_upper": lambda L: T(L, SPD, True).cholesky(upper=True),
    "lu": lambda L: L.lu(T(L, SPD, True)),
    "lu_get_infos": lambda L: L.lu(T(L, SPD, True), get_infos=True),
    "lu_solve": lambda L: L.lu_solve(T(L, X34, True), *L.lu(T(L, SPD))),
    "matrix_power": lambda L: L.matrix_power(T(L, SPD, True), 3),
    "ger": lambda L: L.ger(T(L, X34[0], True), T(L, X34[1])),
    "hsplit": lambda L: L.hsplit(T(L, X34, True), 2),
    "hsplit_1d": lambda L: L.hsplit(T(L, X34[0], True), [1, 3]),
    "vsplit": lambda L: T(L, X34, True).vsplit([1]),
    "dsplit": lambda L: L.dsplit(T(L, X234, True), 2),
    "split_with_sizes": lambda L: L.split_with_sizes(T(L, X34, True), [1, 3], 1),
    "unsafe_chunk": lambda L: L.unsafe_chunk(T(L, X34, True), 2, 1),
    "moveaxis": lambda L: L.moveaxis(T(L, X234, True), 0, 2),
    "range": lambda L: L.range(0, 1, 0.25, dtype=L.float64),
    "range_default": lambda L: L.range(1, 4),
    "scalar_tensor": lambda L: L.scalar_tensor(3),
    "acos_": lambda L: L.acos_(T(L, X34 / 4)),
    "square_": lambda L: L.square_(T(L, X34)),
    "xlogy_": lambda L: L.xlogy_(T(L, X34), T(L, np.abs(X34))),
    "gt_": lambda L: T(L, X34).gt_(0.1),
    "eq_tensor_": lambda L: T(L, X34).eq_(T(L, X34[0])),
    "cumsum_": lambda L: T(L, X34).cumsum_(1),
    "addmm_": lambda L: T(L, _data(3, 3)).addmm_(T(L, X34), T(L, X34.T.copy()), beta=0.5),
    "polygamma_": lambda L: T(L, np.abs(X34) + 1).polygamma_(1),
    "new_sizes": lambda L: T(L, X34).new(2, 3).fill_(1),
    "new_data": lambda L: T(L, X34, dtype=L.float32).new([1, 2]),
    "new_empty": lambda L: T(L, X34).new(),
    "cfloat": lambda L: T(L, X34).cfloat(),
}


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


@pytest.mark.parametrize("name", sorted(CASES))
def test_spelling_matches_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        want = _flat(CASES[name](torch))
        ember.manual_seed(0)
        got = _flat(CASES[name](ember))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape)
        assert str(g.dtype).split(".")[1] == str(w.dtype).split(".")[1]
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-7, atol=1e-10)
        if g.requires_grad or w.requires_grad:
            assert g.requires_grad == w.requires_grad
    # gradients flow as torch's do (through whatever op does the work)
    diff = [(g, w) for g, w in zip(got, want) if w.requires_grad and w.dtype.is_floating_point]
    if diff:
        gl = ember.stack([g.double().sum() for g, _ in diff]).sum()
        wl = torch.stack([w.double().sum() for _, w in diff]).sum()
        leaves_e = [t for t in _leaves(gl)]
        leaves_t = [t for t in _leaves(wl)]
        ge = ember.autograd.grad(gl, leaves_e, allow_unused=True)
        gt = torch.autograd.grad(wl, leaves_t, allow_unused=True)
        for a, b in zip(ge, gt):
            if b is not None:
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-9)


def _leaves(t):
    """The leaf tensors requiring grad under ``t``'s graph, in the order the graph reaches them."""
    seen, out, stack = set(), [], [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if hasattr(node, "variable"):
            out.append(node.variable)
        stack.extend(n for n, _ in node.next_functions)
    return out


@pytest.mark.parametrize("call", [
    lambda L: L.hsplit(L.ones(3, 4), 3),
    lambda L: L.vsplit(L.ones(3), 3),
    lambda L: L.dsplit(L.ones(3, 4), 2),
    lambda L: L.is_nonzero(L.tensor([])),
    lambda L: L.is_nonzero(L.tensor([1, 2])),
    lambda L: L.convolution(L.ones(1, 1), L.ones(1, 1), None, [1], [0], [1], False, [0], 1),
], ids=["hsplit", "vsplit", "dsplit", "is_nonzero_empty", "is_nonzero_many", "convolution_rank"])
def test_spelling_errors_match_torch(call):
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(Exception) as got:
        call(ember)
    assert type(got.value) is type(want.value)
    assert str(got.value).replace("ember", "torch") == str(want.value)


def test_predicates_and_typename():
    for L in (torch, ember):
        x = L.ones(2, 3)
        assert L.is_nonzero(L.tensor([1.5])) and not L.is_nonzero(L.tensor([0]))
        assert x.is_signed() and not L.tensor([1], dtype=L.uint8).is_signed()
        assert L.is_same_size(x, x.clone()) and not L.is_same_size(x, x.t())
        assert L.typename(3) == "int"
    assert ember.typename(ember.ones(2)) == torch.typename(torch.ones(2)).replace("torch", "ember") or \
        ember.typename(ember.ones(2)) == torch.typename(torch.ones(2))


_DEPRECATED = {
    "cholesky": "L.cholesky(L.tensor([[2.0, 1.0], [1.0, 2.0]]))",
    "qr": "L.qr(L.ones(2, 2))",
    "lu": "L.lu(L.eye(2))",
    "lu_solve": "L.lu_solve(L.ones(2, 1), *L.lu(L.eye(2)))",
    "range": "L.range(0, 2)",
}


def _warnings_of(module: str, call: str) -> list:
    """The UserWarnings a fresh process prints for ``call`` made twice (torch warns once a process)."""
    import subprocess
    import sys

    code = (f"import warnings, {module} as L\nwarnings.simplefilter('always')\n"
            f"with warnings.catch_warnings(record=True) as w:\n    {call}\n    {call}\n"
            "print(repr([str(m.message).split(' (Triggered internally')[0] for m in w if m.category is UserWarning]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return eval(out.stdout)


@pytest.mark.parametrize("name", sorted(_DEPRECATED))
def test_deprecation_warnings_match_torch(name):
    assert _warnings_of("ember", _DEPRECATED[name]) == _warnings_of("torch", _DEPRECATED[name])


def test_functional_spellings_load_nn_lazily():
    import subprocess
    import sys

    code = "import sys, ember; assert 'ember.nn' not in sys.modules; ember.selu(ember.ones(2)); print('ember.nn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


@pytest.mark.parametrize("name", ["solve", "lstsq", "eig", "symeig", "matrix_rank"])
def test_removed_functions_raise_like_torch(name):
    args = (torch.eye(2), torch.eye(2)) if name in ("solve", "lstsq") else (torch.eye(2),)
    with pytest.raises(RuntimeError, match="This function was deprecated since version 1.9 and is now removed"):
        getattr(torch, name)(*args)
    with pytest.raises(RuntimeError, match="This function was deprecated since version 1.9 and is now removed"):
        getattr(ember, name)(*[ember.eye(2)] * len(args))


def test_small_top_level_spellings():
    for L in (torch, ember):
        a = L.eye(2)
        assert L.get_device(a) == -1 and a.get_device() == -1 and L.newaxis is None
        np.testing.assert_allclose(L.pinverse(L.tensor([[2.0, 0.0], [0.0, 4.0]])).numpy(), [[0.5, 0.0], [0.0, 0.25]])
        np.testing.assert_allclose(L.pdist(a).numpy(), [2 ** 0.5], rtol=1e-6)
        assert tuple(L.channel_shuffle(L.arange(4.0).reshape(1, 4, 1), 2).flatten().tolist()) == (0.0, 2.0, 1.0, 3.0)
        np.testing.assert_allclose(L.tensor([-1.0, 0.2, 3.0]).hardshrink().numpy(), [-1.0, 0.0, 3.0])
        np.testing.assert_allclose(L.tensor([-1.0, 2.0]).prelu(L.tensor([0.5])).numpy(), [-0.5, 2.0])
