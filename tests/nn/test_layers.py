"""Every layer against torch: repr, outputs, gradients w.r.t. inputs and parameters, buffers."""

from __future__ import annotations

import numpy as np
import pytest

from .helpers import compare_module

R = np.random.default_rng(0)


def x(*shape: int) -> np.ndarray:
    return R.standard_normal(shape).astype(np.float32)


def idx(high: int, *shape: int) -> np.ndarray:
    return R.integers(0, high, shape).astype(np.int64)


CASES = [
    ("Linear", (4, 3), {}, (x(5, 4),)),
    ("Linear", (4, 3), {"bias": False}, (x(2, 5, 4),)),
    ("Linear", (4, 3), {}, (x(4),)),
    ("Bilinear", (3, 4, 2), {}, (x(5, 3), x(5, 4))),
    ("Identity", (), {}, (x(3, 2),)),
    ("Flatten", (), {}, (x(2, 3, 4),)),
    ("Unflatten", (1, (2, 2)), {}, (x(3, 4),)),
    ("Embedding", (10, 3), {}, (idx(10, 4, 5),)),
    ("Embedding", (10, 3), {"padding_idx": 0}, (np.array([[0, 2, 0, 5]]),)),
    ("Embedding", (10, 3), {"scale_grad_by_freq": True}, (np.array([[1, 2, 1, 5]]),)),
    ("Conv1d", (3, 4, 3), {}, (x(2, 3, 10),)),
    ("Conv1d", (4, 4, 3), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}, (x(2, 4, 11),)),
    ("Conv1d", (3, 2, 4), {"padding": "same"}, (x(2, 3, 9),)),
    ("Conv2d", (3, 4, 3), {}, (x(2, 3, 8, 7),)),
    ("Conv2d", (3, 4, (3, 2)), {"stride": (2, 1), "padding": (1, 2)}, (x(2, 3, 8, 7),)),
    ("Conv2d", (4, 6, 3), {"groups": 2, "dilation": 2, "bias": False}, (x(1, 4, 9, 9),)),
    ("Conv2d", (3, 4, 4), {"padding": "same", "dilation": (1, 2)}, (x(2, 3, 7, 8),)),
    ("Conv2d", (3, 4, 3), {"padding": "valid"}, (x(3, 6, 6),)),
    ("Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "reflect"}, (x(1, 2, 5, 5),)),
    ("Conv2d", (2, 3, 3), {"padding": 2, "padding_mode": "circular"}, (x(1, 2, 5, 5),)),
    ("Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "replicate"}, (x(1, 2, 5, 5),)),
    ("ConvTranspose2d", (3, 4, 3), {}, (x(2, 3, 5, 4),)),
    ("ConvTranspose2d", (4, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
     (x(2, 4, 5, 4),)),
    ("ConvTranspose2d", (2, 3, (2, 3)), {"stride": (2, 1), "dilation": 2, "bias": False}, (x(1, 2, 4, 4),)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, (x(2, 3, 10),)),
    ("MaxPool2d", (2,), {}, (x(2, 3, 8, 8),)),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (x(2, 3, 8, 7),)),
    ("MaxPool2d", (2,), {"dilation": 2}, (x(1, 2, 7, 7),)),
    ("MaxPool2d", (2,), {"return_indices": True}, (x(1, 2, 6, 6),)),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1}, (x(2, 3, 10),)),
    ("AvgPool2d", (2,), {}, (x(2, 3, 8, 8),)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (x(2, 3, 8, 7),)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, (x(2, 3, 8, 7),)),
    ("AvgPool2d", (2,), {"divisor_override": 3}, (x(1, 1, 4, 4),)),
    ("AdaptiveAvgPool2d", (3,), {}, (x(2, 3, 8, 7),)),
    ("AdaptiveAvgPool2d", ((2, 5),), {}, (x(2, 3, 5, 7),)),
    ("AdaptiveAvgPool1d", (4,), {}, (x(2, 3, 10),)),
    ("AdaptiveMaxPool2d", (3,), {}, (x(2, 3, 8, 7),)),
    ("BatchNorm1d", (4,), {}, (x(8, 4),)),
    ("BatchNorm1d", (4,), {"momentum": None}, (x(8, 4, 3),)),
    ("BatchNorm1d", (4,), {"affine": False}, (x(8, 4),)),
    ("BatchNorm2d", (3,), {}, (x(4, 3, 5, 5),)),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, (x(4, 3, 5, 5),)),
    ("LayerNorm", (5,), {}, (x(3, 4, 5),)),
    ("LayerNorm", ((4, 5),), {"elementwise_affine": False}, (x(3, 4, 5),)),
    ("LayerNorm", (5,), {"bias": False, "eps": 1e-3}, (x(3, 5),)),
    ("GroupNorm", (2, 6), {}, (x(3, 6, 4, 4),)),
    ("GroupNorm", (3, 6), {"affine": False}, (x(3, 6, 5),)),
    ("Dropout", (0.3,), {}, (x(4, 5),)),
    ("RNN", (3, 4), {}, (x(5, 2, 3),)),
    ("RNN", (3, 4, 2), {"nonlinearity": "relu", "batch_first": True}, (x(2, 5, 3),)),
    ("LSTM", (3, 4), {}, (x(5, 2, 3),)),
    ("LSTM", (3, 4, 2), {"bidirectional": True, "batch_first": True}, (x(2, 5, 3),)),
    ("LSTM", (3, 4), {"bias": False}, (x(5, 3),)),
    ("GRU", (3, 4, 2), {}, (x(5, 2, 3),)),
    ("GRU", (3, 4), {"bidirectional": True}, (x(5, 2, 3),)),
    ("RNNCell", (3, 4), {}, (x(2, 3), x(2, 4))),
    ("LSTMCell", (3, 4), {}, (x(2, 3),)),
    ("GRUCell", (3, 4), {}, (x(2, 3), x(2, 4))),
    ("MultiheadAttention", (8, 2), {}, (x(5, 3, 8), x(6, 3, 8), x(6, 3, 8))),
    ("MultiheadAttention", (8, 4), {"batch_first": True}, (x(3, 5, 8), x(3, 6, 8), x(3, 6, 8))),
    ("TransformerEncoderLayer", (8, 2, 16), {"dropout": 0.0}, (x(5, 3, 8),)),
    ("TransformerEncoderLayer", (8, 2, 16), {"dropout": 0.0, "norm_first": True, "batch_first": True,
                                             "activation": "gelu"}, (x(3, 5, 8),)),
]


@pytest.mark.parametrize("name,args,kwargs,inputs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(name: str, args: tuple, kwargs: dict, inputs: tuple) -> None:
    train = name != "Dropout"
    compare_module(name, args, kwargs, inputs, train=train)


def test_mha_masks() -> None:
    kpm = np.zeros((3, 6), bool)
    kpm[0, -2:] = True
    am = np.triu(np.ones((5, 6), bool), 1)
    import torch

    import ember

    for lib_mask in ("bool", "float"):
        amk = am if lib_mask == "bool" else np.where(am, -1e9, 0).astype(np.float32)
        compare_module("MultiheadAttention", (8, 2), {}, (x(5, 3, 8), x(6, 3, 8), x(6, 3, 8)),
                       call_kwargs={})
        tm = torch.nn.MultiheadAttention(8, 2)
        em = ember.nn.MultiheadAttention(8, 2)
        em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
        q, k = x(5, 3, 8), x(6, 3, 8)
        to, tw = tm(torch.tensor(q), torch.tensor(k), torch.tensor(k), key_padding_mask=torch.tensor(kpm),
                    attn_mask=torch.tensor(amk), average_attn_weights=False)
        eo, ew = em(ember.tensor(q), ember.tensor(k), ember.tensor(k), key_padding_mask=ember.tensor(kpm),
                    attn_mask=ember.tensor(amk), average_attn_weights=False)
        np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(ew.detach().numpy(), tw.detach().numpy(), rtol=1e-4, atol=1e-5)
