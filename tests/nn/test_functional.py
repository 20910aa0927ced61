"""Activations, losses and functional utilities against torch (values and gradients)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

from .helpers import compare_module

R = np.random.default_rng(1)


def x(*shape: int, scale: float = 2.0) -> np.ndarray:
    return (R.standard_normal(shape) * scale).astype(np.float32)


ACTS = [("ReLU", ()), ("LeakyReLU", (0.2,)), ("ELU", (0.7,)), ("SELU", ()), ("CELU", (1.3,)), ("GELU", ()),
        ("GELU", ("tanh",)), ("SiLU", ()), ("Mish", ()), ("Softplus", (2.0, 3.0)), ("Softsign", ()),
        ("Hardtanh", (-0.5, 1.5)), ("Hardsigmoid", ()), ("Hardswish", ()), ("ReLU6", ()), ("Tanh", ()),
        ("Sigmoid", ()), ("LogSigmoid", ()), ("Softmax", (1,)), ("LogSoftmax", (1,)), ("Softmin", (0,)),
        ("PReLU", ()), ("PReLU", (4,)), ("GLU", ()), ("Threshold", (0.1, -2.0)), ("Tanhshrink", ()),
        ("Softshrink", (0.3,)), ("Hardshrink", (0.3,))]


@pytest.mark.parametrize("name,args", ACTS, ids=[f"{a[0]}{i}" for i, a in enumerate(ACTS)])
def test_activation_module(name: str, args: tuple) -> None:
    compare_module(name, args, {}, (x(3, 4, 6),))


@pytest.mark.parametrize("inplace", ["ReLU", "LeakyReLU", "ELU", "Hardtanh", "SiLU"])
def test_inplace_activations(inplace: str) -> None:
    a = x(3, 4)
    t = torch.tensor(a, requires_grad=True)
    e = ember.tensor(a, requires_grad=True)
    to = getattr(torch.nn, inplace)(inplace=True)(t * 1)
    eo = getattr(ember.nn, inplace)(inplace=True)(e * 1)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-6)
    to.sum().backward()
    eo.sum().backward()
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-6)


def _run(fn, arrays, grads=(0,), rtol=1e-5, atol=1e-6):
    res = []
    for lib in (ember, torch):
        ins = [lib.tensor(a, requires_grad=(i in grads)) if isinstance(a, np.ndarray) else a
               for i, a in enumerate(arrays)]
        out = fn(lib, *ins)
        out.sum().backward() if out.requires_grad else None
        res.append((out, [ins[i].grad for i in grads]))
    (eo, eg), (to, tg) = res
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=rtol, atol=atol)
    assert tuple(eo.shape) == tuple(to.shape)
    for a, b in zip(eg, tg):
        if b is None:
            continue
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=atol)


P = np.clip(R.random((4, 5)), 0.05, 0.95).astype(np.float32)
T01 = (R.random((4, 5)) > 0.5).astype(np.float32)
LOGITS = x(6, 5)
CLS = R.integers(0, 5, 6).astype(np.int64)
CLS_IGN = CLS.copy()
CLS_IGN[1] = -100
W5 = R.random(5).astype(np.float32) + 0.5
PM1 = np.where(R.random(6) > 0.5, 1.0, -1.0).astype(np.float32)

LOSSES = [
    ("mse", lambda F, a, b: F.mse_loss(a, b), (x(4, 5), x(4, 5)), (0, 1)),
    ("mse_sum", lambda F, a, b: F.mse_loss(a, b, reduction="sum"), (x(4, 5), x(4, 5)), (0, 1)),
    ("l1", lambda F, a, b: F.l1_loss(a, b), (x(4, 5), x(4, 5)), (0, 1)),
    ("l1_none", lambda F, a, b: F.l1_loss(a, b, reduction="none"), (x(4, 5), x(4, 5)), (0, 1)),
    ("smooth_l1", lambda F, a, b: F.smooth_l1_loss(a, b, beta=0.5), (x(4, 5), x(4, 5)), (0, 1)),
    ("smooth_l1_b0", lambda F, a, b: F.smooth_l1_loss(a, b, beta=0.0), (x(4, 5), x(4, 5)), (0, 1)),
    ("huber", lambda F, a, b: F.huber_loss(a, b, delta=0.7, reduction="sum"), (x(4, 5), x(4, 5)), (0, 1)),
    ("bce", lambda F, a, b: F.binary_cross_entropy(a, b), (P, T01), (0,)),
    ("bce_w", lambda F, a, b, w: F.binary_cross_entropy(a, b, weight=w), (P, T01, W5), (0,)),
    ("bcel", lambda F, a, b: F.binary_cross_entropy_with_logits(a, b), (x(4, 5), T01), (0,)),
    ("bcel_pw", lambda F, a, b, w, pw: F.binary_cross_entropy_with_logits(a, b, weight=w, pos_weight=pw),
     (x(4, 5), T01, W5, W5 * 2), (0,)),
    ("ce", lambda F, a, t: F.cross_entropy(a, t), (LOGITS, CLS), (0,)),
    ("ce_w_ign_ls", lambda F, a, t, w: F.cross_entropy(a, t, weight=w, ignore_index=-100, label_smoothing=0.1),
     (LOGITS, CLS_IGN, W5), (0,)),
    ("ce_probs", lambda F, a, t: F.cross_entropy(a, t.softmax(1)), (LOGITS, x(6, 5)), (0, 1)),
    ("ce_kdim", lambda F, a, t: F.cross_entropy(a, t), (x(2, 5, 3, 4), R.integers(0, 5, (2, 3, 4))), (0,)),
    ("nll_kdim_sum", lambda F, a, t: F.nll_loss(a.log_softmax(1), t, reduction="sum"),
     (x(2, 5, 3), R.integers(0, 5, (2, 3))), (0,)),
    ("kl", lambda F, a, t: F.kl_div(a.log_softmax(1), t.softmax(1), reduction="batchmean"), (LOGITS, x(6, 5)),
     (0, 1)),
    ("kl_log", lambda F, a, t: F.kl_div(a.log_softmax(1), t.log_softmax(1), reduction="sum", log_target=True),
     (LOGITS, x(6, 5)), (0, 1)),
    ("poisson", lambda F, a, t: F.poisson_nll_loss(a, t), (x(4, 5, scale=0.5), np.abs(x(4, 5))), (0,)),
    ("poisson_full", lambda F, a, t: F.poisson_nll_loss(a, t, log_input=False, full=True),
     (np.abs(x(4, 5)) + 0.1, np.abs(x(4, 5)) * 3), (0,)),
    ("gauss", lambda F, a, t, v: F.gaussian_nll_loss(a, t, v), (x(4, 5), x(4, 5), np.abs(x(4, 5)) + 0.1),
     (0, 2)),
    ("gauss_full", lambda F, a, t, v: F.gaussian_nll_loss(a, t, v, full=True, reduction="sum"),
     (x(4, 5), x(4, 5), np.abs(x(4, 1)) + 0.1), (0, 2)),
    ("margin_rank", lambda F, a, b, y: F.margin_ranking_loss(a, b, y, margin=0.3), (x(6), x(6), PM1), (0, 1)),
    ("hinge", lambda F, a, y: F.hinge_embedding_loss(a, y, margin=0.8), (x(6), PM1), (0,)),
    ("soft_margin", lambda F, a, y: F.soft_margin_loss(a, y), (x(6), PM1), (0,)),
    ("cos_emb", lambda F, a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.1), (x(6, 4), x(6, 4), PM1), (0, 1)),
    ("triplet", lambda F, a, p, n: F.triplet_margin_loss(a, p, n, margin=0.5), (x(6, 4), x(6, 4), x(6, 4)),
     (0, 1, 2)),
    ("triplet_swap_p1", lambda F, a, p, n: F.triplet_margin_loss(a, p, n, p=1, swap=True),
     (x(6, 4), x(6, 4), x(6, 4)), (0, 1, 2)),
    ("multilabel", lambda F, a, t, w: F.multilabel_soft_margin_loss(a, t, weight=w), (x(4, 5), T01, W5), (0,)),
    ("multi_margin", lambda F, a, t: F.multi_margin_loss(a, t, p=2, margin=0.5), (LOGITS, CLS), (0,)),
]


@pytest.mark.parametrize("name,fn,arrays,grads", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_functions(name, fn, arrays, grads) -> None:
    _run(lambda lib, *a: fn(lib.nn.functional, *a), arrays, grads)


def test_loss_modules_and_reprs() -> None:
    for name, args, ins in [("MSELoss", (), (x(3), x(3))), ("L1Loss", (), (x(3), x(3))),
                            ("SmoothL1Loss", (), (x(3), x(3))), ("HuberLoss", (), (x(3), x(3))),
                            ("CrossEntropyLoss", (), (LOGITS, CLS)), ("NLLLoss", (), (LOGITS, CLS)),
                            ("BCEWithLogitsLoss", (), (x(4, 5), T01)), ("BCELoss", (), (P, T01)),
                            ("KLDivLoss", (), (LOGITS, np.abs(LOGITS))), ("SoftMarginLoss", (), (x(6), PM1)),
                            ("TripletMarginLoss", (), (x(6, 4), x(6, 4), x(6, 4))),
                            ("MultiLabelSoftMarginLoss", (), (x(4, 5), T01)),
                            ("HingeEmbeddingLoss", (), (x(6), PM1)), ("PoissonNLLLoss", (), (x(3), x(3) ** 2)),
                            ("CosineEmbeddingLoss", (), (x(6, 4), x(6, 4), PM1)),
                            ("MarginRankingLoss", (), (x(6), x(6), PM1))]:
        compare_module(name, args, {}, ins, grad_inputs=False)


def test_extreme_logits_are_finite() -> None:
    F = ember.nn.functional
    a = ember.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], requires_grad=True)
    loss = F.cross_entropy(a, ember.tensor([1, 1])) + F.binary_cross_entropy_with_logits(a, ember.ones(2, 3))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(a.grad.numpy()).all()
    p = ember.tensor([0.0, 1.0, 0.5], requires_grad=True)
    b = F.binary_cross_entropy(p, ember.tensor([1.0, 0.0, 1.0]))
    assert b.item() == pytest.approx(torch.nn.functional.binary_cross_entropy(
        torch.tensor([0.0, 1.0, 0.5]), torch.tensor([1.0, 0.0, 1.0])).item())


def test_invalid_targets_raise_torch_errors() -> None:
    F = ember.nn.functional
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        F.cross_entropy(ember.tensor(LOGITS), ember.tensor([7, 0, 0, 0, 0, 0]))
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(ember.tensor(P), ember.tensor(T01 * 2))
    with pytest.raises(ValueError, match="Target size"):
        F.binary_cross_entropy_with_logits(ember.tensor(P), ember.tensor(T01[:2]))


FUNCS = [
    ("one_hot", lambda lib, t: lib.nn.functional.one_hot(t, 6).float(), (CLS,), ()),
    ("pad_const", lambda lib, a: lib.nn.functional.pad(a, (1, 2, 0, 1), value=0.5), (x(2, 3, 4),), (0,)),
    ("pad_neg", lambda lib, a: lib.nn.functional.pad(a, (-1, 2)), (x(2, 3, 4),), (0,)),
    ("pad_reflect", lambda lib, a: lib.nn.functional.pad(a, (2, 1, 1, 2), mode="reflect"), (x(1, 2, 4, 5),), (0,)),
    ("pad_replicate", lambda lib, a: lib.nn.functional.pad(a, (2, 1), mode="replicate"), (x(1, 2, 4),), (0,)),
    ("pad_circular", lambda lib, a: lib.nn.functional.pad(a, (2, 1, 1, 1), mode="circular"), (x(1, 2, 4, 5),),
     (0,)),
    ("normalize", lambda lib, a: lib.nn.functional.normalize(a, dim=1), (x(4, 5),), (0,)),
    ("normalize_p1", lambda lib, a: lib.nn.functional.normalize(a, p=1.0, dim=0), (x(4, 5),), (0,)),
    ("cos_sim", lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b), (x(4, 5), x(4, 5)), (0, 1)),
    ("pdist", lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b), (x(4, 5), x(4, 5)), (0, 1)),
    ("sdpa", lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v), (x(2, 3, 4), x(2, 5, 4),
                                                                                          x(2, 5, 4)), (0, 1, 2)),
    ("sdpa_causal", lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True),
     (x(2, 4, 4), x(2, 4, 4), x(2, 4, 4)), (0, 1, 2)),
    ("interp_nearest", lambda lib, a: lib.nn.functional.interpolate(a, scale_factor=2), (x(1, 2, 3, 4),), (0,)),
    ("interp_nearest_size", lambda lib, a: lib.nn.functional.interpolate(a, size=(5, 7)), (x(1, 2, 3, 4),), (0,)),
    ("interp_bilinear", lambda lib, a: lib.nn.functional.interpolate(a, size=(5, 7), mode="bilinear"),
     (x(1, 2, 3, 4),), (0,)),
    ("interp_bilinear_ac", lambda lib, a: lib.nn.functional.interpolate(a, scale_factor=2, mode="bilinear",
                                                                        align_corners=True), (x(1, 2, 3, 4),), (0,)),
    ("layer_norm", lambda lib, a, w, b: lib.nn.functional.layer_norm(a, (5,), w, b), (x(3, 5), x(5), x(5)), (0, 1, 2)),
    ("embedding_max_norm", lambda lib, w: lib.nn.functional.embedding(lib.tensor([1, 2, 1]), w * 1, max_norm=1.0),
     (x(4, 3),), (0,)),
]


@pytest.mark.parametrize("name,fn,arrays,grads", FUNCS, ids=[c[0] for c in FUNCS])
def test_functional(name, fn, arrays, grads) -> None:
    _run(fn, arrays, grads)


def test_dropout_matches_torch_rng() -> None:
    a = x(50, 40)
    for p in (0.3, 0.5):
        ember.manual_seed(5)
        torch.manual_seed(5)
        e = ember.tensor(a, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        eo, to = ember.nn.functional.dropout(e, p), torch.nn.functional.dropout(t, p)
        np.testing.assert_array_equal(eo.detach().numpy(), to.detach().numpy())
        assert type(eo.grad_fn).__name__ == "MulBackward0"
        eo.sum().backward()
        to.sum().backward()
        np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())
    assert ember.nn.functional.dropout(e, 0.5, training=False) is e
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        ember.nn.Dropout(1.5)


@pytest.mark.parametrize("view", ["t", "permute", "step", "size1"])
def test_dropout_of_a_view_draws_its_mask_in_memory_order_as_torch(view: str) -> None:
    # torch fills the mask of a permuted input in memory order, a non-dense one in logical order
    make = {"t": lambda lib: lib.randn(7, 9).t(), "permute": lambda lib: lib.randn(2, 3, 4).permute(2, 0, 1),
            "step": lambda lib: lib.randn(6, 4)[::2], "size1": lambda lib: lib.randn(5, 1, 3).transpose(0, 2)}[view]
    outs = []
    for lib in (ember, torch):
        lib.manual_seed(3)
        outs.append(lib.nn.functional.dropout(make(lib), 0.4).numpy())
    np.testing.assert_array_equal(outs[0], outs[1])


def test_init_functions_match_torch() -> None:
    for fn, kw in [("uniform_", {"a": -2, "b": 3}), ("normal_", {"mean": 1, "std": 2}), ("xavier_uniform_", {}),
                   ("xavier_normal_", {"gain": 2}), ("kaiming_uniform_", {"mode": "fan_out"}),
                   ("kaiming_normal_", {"nonlinearity": "relu"}), ("orthogonal_", {}), ("eye_", {}),
                   ("constant_", {"val": 0.3}), ("zeros_", {}), ("ones_", {})]:
        ember.manual_seed(11)
        torch.manual_seed(11)
        e, t = ember.empty(4, 6), torch.empty(4, 6)
        getattr(ember.nn.init, fn)(e, **kw)
        getattr(torch.nn.init, fn)(t, **kw)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, atol=1e-6, err_msg=fn)
    assert ember.nn.init.calculate_gain("leaky_relu", 0.2) == torch.nn.init.calculate_gain("leaky_relu", 0.2)
    e = ember.empty(1000)
    ember.nn.init.trunc_normal_(e, std=0.5, a=-0.3, b=0.6)
    assert e.numpy().min() >= -0.3 and e.numpy().max() <= 0.6


def test_default_init_matches_torch() -> None:
    for name, args in [("Linear", (5, 3)), ("Conv2d", (3, 4, 3)), ("Conv1d", (2, 3, 2)),
                       ("ConvTranspose2d", (3, 2, 3)), ("Embedding", (7, 3)), ("Bilinear", (2, 3, 4)),
                       ("LSTM", (3, 4, 2)), ("GRUCell", (3, 4)), ("MultiheadAttention", (4, 2)),
                       ("TransformerEncoderLayer", (4, 2, 8)), ("PReLU", (3,)), ("BatchNorm1d", (3,))]:
        ember.manual_seed(0)
        torch.manual_seed(0)
        e, t = getattr(ember.nn, name)(*args), getattr(torch.nn, name)(*args)
        for (n, a), (_, b) in zip(e.state_dict().items(), t.state_dict().items()):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"{name}.{n}")


_INT_CALLS = ["F.hardtanh(x)", "F.hardtanh(x, -2.5, 3.7)", "F.relu6(x)", "F.relu6(x, inplace=True)", "F.threshold(x, 1, 5)",
              "F.threshold(x, -0.5, 2.7)", "F.leaky_relu(x)", "F.softshrink(x)", "F.hardshrink(x)", "F.gelu(x)", "F.selu(x)",
              "F.elu(x)", "F.hardsigmoid(x)", "F.softmax(x, -1)", "F.softmax(x, 0)", "F.log_softmax(x, -1)",
              "F.log_softmax(x, 0)", "F.relu(x)", "x.relu_()", "F.glu(x)", "F.softplus(x)"]


@pytest.mark.parametrize("call", _INT_CALLS)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int8", "bool"])
def test_activations_on_integers_and_bool_as_torch(call: str, dtype: str) -> None:
    # torch computes hardtanh (relu6) and threshold on integers and raises NotImplementedError naming
    # its kernel for the rest; ember had raised RuntimeError for all of them
    outs = []
    for L in (torch, ember):
        x = L.tensor([[-2, 0], [3, 8]]).to(getattr(L, dtype))
        try:
            r = eval(call, {"F": L.nn.functional, "x": x})
            outs.append((str(r.dtype).split(".")[1], r.tolist()))
        except Exception as e:  # noqa: BLE001 (the exception is what is compared)
            outs.append((type(e).__name__, str(e)))
    assert outs[1] == outs[0]


@pytest.mark.parametrize("call", ["F.mse_loss(a, b)", "F.mse_loss(a, b, reduction='none')", "F.smooth_l1_loss(a, b)",
                                  "F.huber_loss(a, b)", "F.normalize(a[None])", "a.abs()"])
@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("int32", "float32"), ("bool", "bool"), ("float16", "int64"),
                                    ("int64", "float32"), ("uint8", "int64"), ("float64", "bool")])
def test_losses_of_integer_tensors_as_torch(call: str, dtypes: tuple) -> None:
    # the kernels take floating types only (torch names them in a NotImplementedError); the result
    # type is torch's promotion (NumPy's would make int64 with float32 float64)
    outs = []
    for L in (torch, ember):
        a, b = (L.tensor([3, 1]).to(getattr(L, d)) for d in dtypes)
        try:
            r = eval(call, {"F": L.nn.functional, "a": a, "b": b})
            outs.append((str(r.dtype).split(".")[1], r.tolist()))
        except Exception as e:  # noqa: BLE001 (the exception is what is compared)
            outs.append((type(e).__name__, str(e)))
    assert outs[1] == outs[0]
