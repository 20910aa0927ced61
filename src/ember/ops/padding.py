"""``pad`` (torch.nn.functional.pad): constant, reflect, replicate and circular padding, each with a
node of its own whose derivative is the pad's adjoint (a crop, or the gradient summed back onto the
elements each padded one was read from)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ._core import node_class, record
from .pooling import _scatter_flat


def _pad_grads(n: Any, g: Tensor) -> Tensor:
    # the pad read each output element from flat position idx of its plane: sum the grads back
    # there (recorded under create_graph, where its derivative reads the same positions again)
    idx, shape = n.attrs
    lead = int(np.prod(shape[: len(shape) - idx.ndim]))
    inner = int(np.prod(shape[len(shape) - idx.ndim:]))
    flat = (np.arange(lead)[:, None] * inner + idx.ravel()[None, :]).reshape(g._data.shape)
    return _scatter_flat(g, shape, flat, x=n.saved[0] if n.saved else None)


_PAD_NODES = {
    "reflect": node_class("reflection_pad2d", _pad_grads, "grad folded back onto the reflected elements", layout="suggested"),
    "replicate": node_class("replication_pad2d", _pad_grads, "grad folded back onto the edge elements", layout="suggested"),
    "circular": node_class("circular_pad2d", _pad_grads, "grad folded back onto the wrapped elements", layout="suggested"),
}
def _const_pad_grad(n: Any, g: Tensor) -> Tensor:
    # the crop as a slice (re-padded with zeros where the pad had cut into the input)
    crop, src, shape = n.attrs
    out = g[crop]
    widths = []
    for sl, size in zip(reversed(src), reversed(shape)):
        widths += [sl.start, size - sl.stop]
    return pad(out, widths) if any(widths) else out


ConstantPadNdBackward0 = node_class("constant_pad_nd", _const_pad_grad, "grad cropped to self", layout="suggested")


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    pad = tuple(pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    x = input._data
    k = len(pad) // 2
    if k > x.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {x.ndim}")
    widths = [(0, 0)] * (x.ndim - k) + [(pad[2 * (k - 1 - i)], pad[2 * (k - 1 - i) + 1]) for i in range(k)]
    if mode == "constant":
        crop = []
        src = []
        for (a, b), s in zip(widths, x.shape):
            src.append(slice(max(-a, 0), s - max(-b, 0)))
            crop.append(slice(max(a, 0), max(a, 0) + s - max(-a, 0) - max(-b, 0)))
        xs = x[tuple(src)]
        out = np.pad(xs, [(max(a, 0), max(b, 0)) for a, b in widths], constant_values=0 if value is None else value)
        return record(ConstantPadNdBackward0, out, (input,), attrs=(tuple(crop), tuple(src), x.shape))
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    npmode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
    if npmode is None:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if not 1 <= k <= 3 or x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {x.ndim}D input tensor.\nSupported combinations for "
            "non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads last dimension)\n  - 3D or 4D input: "
            "padding size = 4 (pads last 2 dimensions)\n  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    inner_shape = x.shape[x.ndim - k:]
    if mode == "circular":
        if any(max(a, b) > s for (a, b), s in zip(widths[x.ndim - k:], inner_shape)):
            raise RuntimeError("Padding value causes wrapping around more than once.")
    elif 0 in (x.shape[1:] if x.ndim == k + 2 else x.shape):  # (only a batch dim may be empty)
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {list(x.shape)}")
    if mode == "reflect":
        for (a, b), s in zip(widths[x.ndim - k:], inner_shape):
            if a >= s or b >= s:
                raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                                   f"but got: padding ({a}, {b}) at dimension {x.ndim - 1} of input {list(x.shape)}")
    if x.dtype == np.bool_ and mode != "circular":
        kernel = f"{'reflection' if mode == 'reflect' else 'replication'}_pad{k}d"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    idx = np.arange(int(np.prod(inner_shape))).reshape(inner_shape)
    idx = np.pad(idx, widths[x.ndim - k:], mode=npmode)
    lead = x.shape[: x.ndim - k]
    out = x.reshape(lead + (int(np.prod(inner_shape)),))[..., idx.ravel()].reshape(lead + idx.shape)
    # (torch's reflection/replication pad backward takes the input; its circular pad is composite)
    return record(_PAD_NODES[mode], np.ascontiguousarray(out), (input,), (input,) if mode != "circular" else (),
                  attrs=(idx, x.shape))


