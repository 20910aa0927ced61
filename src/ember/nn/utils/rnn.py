"""torch.nn.utils.rnn: variable-length batches for recurrent layers.

A batch of sequences of different lengths is either *padded* (one (T, B, *) tensor, shorter
sequences filled up) or *packed*: the valid steps only, time step by time step, longest sequence
first, so that step t holds ``batch_sizes[t]`` rows. ``PackedSequence`` carries the packed rows with
``batch_sizes`` and the permutation that sorted the batch by length.

Packing is one gather (``PackPaddedSequenceBackward0``, whose gradient scatters back into zeros);
unpacking writes the rows into a padded tensor (``CopySlices``, whose gradient reads them back), so
each is the other's derivative and gradients of any order flow through both.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..._tensor import Tensor, _new
from ...ops._core import node_class, record
from ...ops.indexing import CopySlices
from .._packed_sequence import PackedSequence, invert_permutation

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _packed_positions(batch_sizes: np.ndarray) -> tuple:
    """(time index, batch index) of each packed row, in packed order."""
    t = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    b = np.concatenate([np.arange(n) for n in batch_sizes]) if len(batch_sizes) else np.zeros(0, np.int64)
    return t, b


def _scatter_rows(data: Tensor, key: tuple, shape: tuple, fill: float) -> Tensor:
    """A ``shape`` tensor filled with ``fill``, ``data``'s rows written at ``key`` (the padded form)."""
    out = np.full(shape, fill, dtype=data._data.dtype)
    out[key] = data._data
    base = _new(np.full(shape, fill, dtype=data._data.dtype))
    return record(CopySlices, out, (base, data), attrs=key)


def _pack_grad(n: Any, g: Tensor) -> Tensor:
    key, batch_first = n.attrs
    shape = n._in_meta[0][0]
    padded_shape = (shape[1], shape[0]) + shape[2:] if batch_first else shape
    out = _scatter_rows(g, key, padded_shape, 0.0)
    return out.transpose(0, 1) if batch_first else out


PackPaddedSequenceBackward0 = node_class("pack_padded_sequence", _pack_grad,
                                         "grad written back into zeros at the packed positions")


def _as_lengths(lengths: Any) -> np.ndarray:
    if isinstance(lengths, Tensor):
        return np.asarray(lengths._data, dtype=np.int64).reshape(-1)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) batch (``batch_first``: (B, T, *)) whose sequence ``b`` has
    ``lengths[b]`` valid steps. With ``enforce_sorted`` the lengths must be decreasing; otherwise
    the batch is sorted here and the permutation kept in the result."""
    from ...ops.order_statistics import (
        sort,
    )

    lens = _as_lengths(lengths)
    if enforce_sorted:
        sorted_indices = None
    else:
        lens_t, sorted_indices = sort(_new(lens), descending=True)
        lens = lens_t._data
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    shape = input._data.shape
    B, T = (shape[0], shape[1]) if batch_first else (shape[1], shape[0])
    if lens.size != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.size} "
                           f"(batch_size={B})")
    if B and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if np.any(lens[1:] > lens[:-1]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                           "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                           "sidestep this requirement if you do not need ONNX exportability.")
    if B and lens[0] > T:  # torch reads past the end here; ember refuses rather than invent rows
        raise RuntimeError(f"pack_padded_sequence: a length ({int(lens[0])}) exceeds the padded sequence "
                           f"length ({T})")
    max_len = int(lens[0]) if B else 0
    batch_sizes = (lens[None, :] > np.arange(max_len)[:, None]).sum(1).astype(np.int64)
    t, b = _packed_positions(batch_sizes)
    key = (b, t) if batch_first else (t, b)
    data = record(PackPaddedSequenceBackward0, input._data[key], (input,), attrs=((t, b), batch_first))
    return PackedSequence(data, _new(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple:
    """Undo ``pack_padded_sequence``: (padded tensor, lengths as an int64 tensor), the batch back
    in its original order; ``total_length`` pads the time axis to that length."""
    bs = sequence.batch_sizes._data.astype(np.int64)
    max_len = len(bs)
    if total_length is not None:
        if total_length < max_len:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {max_len}")
        max_len = total_length
    data = sequence.data
    B = int(bs[0]) if len(bs) else 0
    t, b = _packed_positions(bs)
    out = _scatter_rows(data, (t, b), (max_len, B) + tuple(data._data.shape[1:]), padding_value)
    lengths = (bs[None, :] > np.arange(B)[:, None]).sum(1).astype(np.int64)
    if batch_first:
        out = out.transpose(0, 1)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        out = out.index_select(0 if batch_first else 1, unsorted)
        lengths = lengths[unsorted._data]
    return out, _new(lengths)


def pad_sequence(sequences: Any, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shape (L_i, *) into one (L_max, B, *) tensor (``batch_first``: (B, L_max, *)),
    filling with ``padding_value`` on the ``padding_side`` ("right" or "left")."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    L = max(s._data.shape[0] for s in seqs)
    trailing = tuple(seqs[0]._data.shape[1:])
    for s in seqs[1:]:  # each sequence is copied into a slot of the first one's trailing shape
        other = tuple(s._data.shape[1:])
        for d, (a, b) in enumerate(zip(trailing, other)):
            if a != b and b != 1:
                raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                                   f"non-singleton dimension {d + 1}")
    B = len(seqs)
    t_parts, b_parts = [], []
    for i, s in enumerate(seqs):
        n = s._data.shape[0]
        start = L - n if padding_side == "left" else 0
        t_parts.append(np.arange(start, start + n))
        b_parts.append(np.full(n, i))
    from ...ops.shape import cat

    dtype = seqs[0].dtype  # the result has the first sequence's dtype, as torch's
    data = cat([s if s.dtype == dtype else s.to(dtype) for s in seqs], 0)
    t, b = np.concatenate(t_parts), np.concatenate(b_parts)
    key = (b, t) if batch_first else (t, b)
    shape = (B, L) + trailing if batch_first else (L, B) + trailing
    return _scatter_rows(data, key, shape, padding_value)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list:
    """Split a padded batch back into its sequences (the first ``lengths[b]`` steps of each).

    Without ``batch_first`` the padded tensor is transposed in place to (B, T, *), as torch does."""
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    lens = _as_lengths(lengths)
    return [padded_sequences[i][_new(np.arange(int(n)))] for i, n in enumerate(lens)]


def pack_sequence(sequences: Iterable[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors (longest first unless ``enforce_sorted=False``)."""
    seqs = list(sequences)
    lengths = _new(np.array([s._data.shape[0] for s in seqs], np.int64))
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences a ``PackedSequence`` holds, in the original batch order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
