"""``unfold`` (im2col) and ``fold`` (col2im) of torch.nn.functional: sliding blocks as columns and
back, each the other's derivative."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from . import convolution as _conv
from ._core import node_class, record


def _blocks(size: tuple, k: tuple, d: tuple, p: tuple, s: tuple) -> tuple:
    return tuple((size[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))


Im2ColBackward0 = node_class("im2col", lambda n, g: fold(g, *n.attrs), "grad folded back (col2im)")
Col2ImBackward0 = node_class("col2im", lambda n, g: unfold(g, *n.attrs[1:]), "grad unfolded (im2col)")


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Sliding blocks as columns: (N, C, H, W) -> (N, C*kh*kw, L), L the number of blocks (im2col)."""
    if input.dim() < 3:  # (torch looks for the third-last dim first)
        raise IndexError(f"Dimension out of range (expected to be in range of [-{input.dim()}, {input.dim() - 1}], "
                         f"but got 2)")
    if input.dim() > 4:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    k, d, p, st = (_conv._pair(v) for v in (kernel_size, dilation, padding, stride))
    x = input._data if input.dim() == 4 else input._data[None]  # (unbatched input: its own node, as torch)
    N, C, H, W = x.shape
    Ho, Wo = _blocks((H, W), k, d, p, st)
    if Ho < 1 or Wo < 1:
        raise RuntimeError(f"Given input with spatial size ({H}, {W}), kernel_size={tuple(k)}, dilation={tuple(d)}, "
                           f"padding={tuple(p)}, calculated shape of the array of sliding blocks as ({Ho}, {Wo}), "
                           "but its components must be at least one.")
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    win = _conv._windows(xp, k, st, d)[:, :, :, :, :Ho, :Wo]
    out = win.reshape(N, C * k[0] * k[1], Ho * Wo)
    return record(Im2ColBackward0, out if input.dim() == 4 else out[0], (input,), attrs=((H, W), k, d, p, st))


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Columns summed back into an image, overlaps added: (N, C*kh*kw, L) -> (N, C, H, W) (col2im)."""
    if input.dim() not in (2, 3):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    size, k, d, p, st = (_conv._pair(v) for v in (output_size, kernel_size, dilation, padding, stride))
    x = input._data if input.dim() == 3 else input._data[None]
    N, CK, L = x.shape
    if CK % (k[0] * k[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={CK} and kernel_size={tuple(k)}.")
    Ho, Wo = _blocks(size, k, d, p, st)
    if L != Ho * Wo:
        raise RuntimeError(
            f"Given output_size={tuple(size)}, kernel_size={tuple(k)}, dilation={tuple(d)}, padding={tuple(p)}, "
            f"stride={tuple(st)}, expected size of input's dimension 2 to match the calculated number of sliding "
            f"blocks {Ho} * {Wo} = {Ho * Wo}, but got input.size(2)={L}.")
    C = CK // (k[0] * k[1])
    Hp, Wp = size[0] + 2 * p[0], size[1] + 2 * p[1]
    cols = x.reshape(N, C, k[0], k[1], Ho, Wo)
    out = _conv._col2im(cols, (N, C, Hp, Wp), st, d)
    out = np.ascontiguousarray(out[:, :, p[0]:p[0] + size[0], p[1]:p[1] + size[1]])
    return record(Col2ImBackward0, out if input.dim() == 3 else out[0], (input,), attrs=(tuple(size), k, d, p, st))
