"""RNN, LSTM, GRU and their cells, written as compositions of ember ops (an LSTM layer without
projections runs each direction as one fused op, nn/_rnn_ops.py)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..._dtype import _FROM_NP
from ..._tensor import Tensor, _new
from ...ops.creation import zeros
from ...ops.shape import stack
from .. import functional as F
from .. import init
from .._packed_sequence import PackedSequence
from .._rnn_ops import lstm_cell as _lstm_cell
from .._rnn_ops import lstm_sequence
from ._utils import empty_param
from .module import Module

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _rnn_cell(x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, relu: bool) -> Tensor:
    pre = x_proj + F.linear(h, w_hh, b_hh)
    return pre.relu() if relu else pre.tanh()


def _gru_cell(x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    gh = F.linear(h, w_hh, b_hh)
    i_r, i_z, i_n = x_proj.chunk(3, -1)
    h_r, h_z, h_n = gh.chunk(3, -1)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return n + z * (h - n)


class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU``: stacked, optionally bidirectional layers over a
    sequence, with weights ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list = []
        self._all_weights: list = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else real_hidden * num_directions
                suffix = "_reverse" if direction == 1 else ""
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                params = [empty_param(gate_size, layer_input_size, dtype=dtype),
                          empty_param(gate_size, real_hidden, dtype=dtype)]
                if bias:
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                    params += [empty_param(gate_size, dtype=dtype), empty_param(gate_size, dtype=dtype)]
                if proj_size > 0:
                    names.append(f"weight_hr_l{layer}{suffix}")
                    params.append(empty_param(proj_size, hidden_size, dtype=dtype))
                for n, p in zip(names, params):
                    setattr(self, n, p)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def all_weights(self) -> list:
        return [[getattr(self, w) for w in ws] for ws in self._all_weights]

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def _weights(self, layer: int, direction: int) -> tuple:
        suffix = "_reverse" if direction == 1 else ""
        w_ih = getattr(self, f"weight_ih_l{layer}{suffix}")
        w_hh = getattr(self, f"weight_hh_l{layer}{suffix}")
        b_ih = getattr(self, f"bias_ih_l{layer}{suffix}") if self.bias else None
        b_hh = getattr(self, f"bias_hh_l{layer}{suffix}") if self.bias else None
        return w_ih, w_hh, b_ih, b_hh

    def _step_fn(self, layer: int, d: int) -> Any:
        """One time step of layer ``layer``, direction ``d``: (x_proj_t, h, c) -> (h, c)."""
        _, w_hh, _, b_hh = self._weights(layer, d)
        w_hr = getattr(self, f"weight_hr_l{layer}{'_reverse' if d == 1 else ''}") if self.proj_size else None
        mode = self.mode

        def step(x_t: Tensor, h: Tensor, c: Any) -> tuple:
            if mode == "LSTM":
                h, c = _lstm_cell(x_t, h, c, w_hh, b_hh)
                return (F.linear(h, w_hr) if w_hr is not None else h), c
            if mode == "GRU":
                return _gru_cell(x_t, h, w_hh, b_hh), None
            return _rnn_cell(x_t, h, w_hh, b_hh, mode == "RNN_RELU"), None
        return step

    def forward(self, input: Any, hx: Any = None) -> tuple:
        w = self._weights(0, 0)[0]
        data = input.data if isinstance(input, PackedSequence) else input
        if isinstance(data, Tensor) and data.dtype != w.dtype:
            raise ValueError(f"RNN input dtype ({data.dtype}) does not match weight dtype ({w.dtype}). Convert "
                             f"input: input.to({w.dtype}), or convert model: model.to({data.dtype})")
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        is_lstm = self.mode == "LSTM"
        batched = input.dim() == 3
        if input.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        if hx is not None:
            self._check_hx_dims(hx, batched)
        if not batched:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if is_lstm else hx.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.shape[-1]}")
        T, N = input.shape[0], input.shape[1]
        D = 2 if self.bidirectional else 1
        if hx is not None:
            self._check_hidden_size(hx, N)
        h0, c0 = self._initial_state(hx, N, input._data.dtype)
        layer_in = input
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, d)
                idx = layer * D + d
                h = h0[idx]
                c: Any = c0[idx] if is_lstm else None  # (the cell state: an LSTM's only)
                if is_lstm and not self.proj_size and T > 0:  # the whole sequence as one op (_rnn_ops)
                    hs, h, c = lstm_sequence(layer_in, h, c, w_ih, w_hh, b_ih, b_hh, d == 1)
                    outs.append(hs)
                    h_n.append(h)
                    c_n.append(c)
                    continue
                xp = F.linear(layer_in.reshape(T * N, -1), w_ih, b_ih).reshape(T, N, -1)
                step = self._step_fn(layer, d)
                seq: list = [None] * T
                for t in (range(T - 1, -1, -1) if d == 1 else range(T)):
                    h, c = step(xp[t], h, c)
                    seq[t] = h
                outs.append(stack(seq, 0))
                h_n.append(h)
                if is_lstm:
                    c_n.append(c)
            layer_in = self._between_layers(outs, layer)
        output = layer_in
        hn = stack(h_n, 0)
        cn = stack(c_n, 0) if is_lstm else None
        if not batched:
            output = output.squeeze(1)
            hn = hn.squeeze(1)
            cn = cn.squeeze(1) if cn is not None else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (hn, cn)) if is_lstm else (output, hn)

    def _check_hx_dims(self, hx: Any, batched: bool) -> None:
        want = 3 if batched else 2
        kind = "batched 3-D" if batched else "unbatched 2-D"
        if self.mode == "LSTM":
            if hx[0].dim() != want or hx[1].dim() != want:
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                                   f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
        elif hx.dim() != want:
            raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {hx.dim()}-D tensor")

    def _check_hidden_size(self, hx: Any, N: int) -> None:
        """torch's check of the initial state's shape: (layers * directions, batch, hidden)."""
        D = 2 if self.bidirectional else 1
        lead = (self.num_layers * D, N)
        if self.mode == "LSTM":
            pairs = [(hx[0], lead + (self.proj_size or self.hidden_size,), "hidden[0]"),
                     (hx[1], lead + (self.hidden_size,), "hidden[1]")]
        else:
            pairs = [(hx, lead + (self.hidden_size,), "hidden")]
        for t, want, name in pairs:
            if tuple(t.shape) != want:
                raise RuntimeError(f"Expected {name} size {want}, got {list(t.shape)}")

    def _initial_state(self, hx: Any, N: int, dt: Any) -> tuple:
        """(h0, c0) as given, or zeros (c0 is None except for an LSTM)."""
        is_lstm = self.mode == "LSTM"
        if hx is None:
            D = 2 if self.bidirectional else 1
            if not is_lstm:  # (the factory: ember.compile calls it again at replay; the fused LSTM takes its own)
                return zeros((self.num_layers * D, N, self.hidden_size), dtype=_FROM_NP[np.dtype(dt)]), None
            z = _new(np.zeros((self.num_layers * D, N, self.proj_size or self.hidden_size), dt))
            zc = _new(np.zeros((self.num_layers * D, N, self.hidden_size), dt))
            hx = (z, zc)
        elif is_lstm and any(h._data.dtype != dt for h in hx):
            # (the fused LSTM would compute in the input's dtype; torch's kernels refuse)
            names = {np.dtype(np.float16): "Half", np.dtype(np.float32): "Float", np.dtype(np.float64): "Double"}
            bad = next(h._data.dtype for h in hx if h._data.dtype != dt)
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {names.get(bad, bad)} and {names.get(dt, dt)}")
        return hx if is_lstm else (hx, None)

    def _between_layers(self, outs: list, layer: int) -> Any:
        """The directions' outputs joined along features, with dropout between layers in training."""
        layer_out = outs[0] if len(outs) == 1 else _cat_last(outs)
        if self.dropout and self.training and layer < self.num_layers - 1:
            layer_out = F.dropout(layer_out, self.dropout, True)
        return layer_out

    def _forward_packed(self, input: Any, hx: Any) -> tuple:
        """A PackedSequence, step by step over its batch sizes: at step t the first batch_sizes[t]
        (length-sorted) sequences advance; a sequence's final state is taken at its last valid
        step (forward) or after step 0 (reverse, where shorter sequences join late from h0)."""
        from ...ops.shape import cat
        is_lstm = self.mode == "LSTM"
        data, bsz = input.data, [int(b) for b in input.batch_sizes._data]
        sorted_idx, unsorted_idx = input.sorted_indices, input.unsorted_indices
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {data.shape[-1]}")
        N = bsz[0] if bsz else 0
        if hx is not None:
            self._check_hidden_size(hx, N)
        if hx is not None and sorted_idx is not None:  # the caller's batch order -> the packed order
            hx = tuple(h.index_select(1, sorted_idx) for h in hx) if is_lstm else hx.index_select(1, sorted_idx)
        h0, c0 = self._initial_state(hx, N, data._data.dtype)
        starts = np.concatenate(([0], np.cumsum(bsz))).tolist()
        T, D = len(bsz), 2 if self.bidirectional else 1
        layer_in = data
        h_n: list[Tensor] = []
        c_n: list[Tensor] = []
        c: Any  # (the cell state: an LSTM's only)
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                w_ih, _, b_ih, _ = self._weights(layer, d)
                idx = layer * D + d
                xp = F.linear(layer_in, w_ih, b_ih)
                step = self._step_fn(layer, d)
                seq: list = [None] * T
                if d == 0:
                    h, c = h0[idx], (c0[idx] if is_lstm else None)
                    done_h, done_c = [], []  # finished sequences' final states, last rows first
                    for t in range(T):
                        b = bsz[t]
                        if b < h.shape[0]:
                            done_h.append(h[b:])
                            h = h[:b]
                            if is_lstm:
                                done_c.append(c[b:])
                                c = c[:b]
                        h, c = step(xp[starts[t]:starts[t + 1]], h, c)
                        seq[t] = h
                    h = cat([h] + done_h[::-1], 0) if done_h else h
                    c = (cat([c] + done_c[::-1], 0) if done_c else c) if is_lstm else None
                else:
                    h, c = h0[idx][:0], (c0[idx][:0] if is_lstm else None)
                    for t in range(T - 1, -1, -1):
                        b = bsz[t]
                        if b > h.shape[0]:  # sequences whose last step is t join from their h0
                            h = cat([h, h0[idx][h.shape[0]:b]], 0)
                            if is_lstm:
                                c = cat([c, c0[idx][c.shape[0]:b]], 0)
                        h, c = step(xp[starts[t]:starts[t + 1]], h, c)
                        seq[t] = h
                outs.append(cat(seq, 0))
                h_n.append(h)
                if is_lstm:
                    c_n.append(c)
            layer_in = self._between_layers(outs, layer)
        hn = stack(h_n, 0)
        cn = stack(c_n, 0) if is_lstm else None
        if unsorted_idx is not None:
            hn = hn.index_select(1, unsorted_idx)
            cn = cn.index_select(1, unsorted_idx) if cn is not None else None
        output = PackedSequence(layer_in, input.batch_sizes, sorted_idx, unsorted_idx)
        return (output, (hn, cn)) if is_lstm else (output, hn)


def _cat_last(ts: list) -> Tensor:
    from ...ops.shape import cat

    return cat(ts, -1)


class RNN(RNNBase):
    """Elman recurrent network: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ``relu``).

    Args: ``input_size``, ``hidden_size``, ``num_layers``, ``nonlinearity``, ``bias``, ``batch_first``
    (input (N, L, H_in) instead of (L, N, H_in)), ``dropout`` between layers, ``bidirectional``.
    Returns ``(output, h_n)``: the last layer's hidden state at every step, and every layer's last one.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory network: input, forget, cell and output gates per step.

    Args as ``RNN`` plus ``proj_size`` (project the hidden state to that size). ``forward(input,
    (h_0, c_0))`` returns ``(output, (h_n, c_n))``; input (L, N, H_in), or (N, L, H_in) with
    ``batch_first``; also a ``PackedSequence``.

    >>> lstm = ember.nn.LSTM(input_size=3, hidden_size=5, batch_first=True)
    >>> out, (h, c) = lstm(ember.randn(2, 7, 3))
    >>> out.shape, h.shape
    (ember.Size([2, 7, 5]), ember.Size([1, 2, 5]))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit network: reset and update gates per step. Args and returns as ``RNN``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    """The shared parameters of the one-step cells: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = empty_param(num_chunks * hidden_size, input_size, dtype=dtype)
        self.weight_hh = empty_param(num_chunks * hidden_size, hidden_size, dtype=dtype)
        if bias:
            self.bias_ih = empty_param(num_chunks * hidden_size, dtype=dtype)
            self.bias_hh = empty_param(num_chunks * hidden_size, dtype=dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prep(self, input: Tensor, hx: Any, lstm: bool = False) -> tuple:
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            z = _new(np.zeros((input.shape[0], self.hidden_size), input._data.dtype))
            hx = (z, _new(np.zeros_like(z._data))) if lstm else z
        elif not batched:
            hx = tuple(h.unsqueeze(0) for h in hx) if lstm else hx.unsqueeze(0)
        return input, hx, batched


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``; input (N, H_in) or (H_in,)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, hx, batched = self._prep(input, hx)
        xp = F.linear(input, self.weight_ih, self.bias_ih)
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h = _rnn_cell(xp, hx, self.weight_hh, self.bias_hh, self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``forward(x, (h, c))`` returns the next ``(h, c)``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, dtype=dtype)

    def forward(self, input: Tensor, hx: Any = None) -> tuple:
        input, hx, batched = self._prep(input, hx, lstm=True)
        xp = F.linear(input, self.weight_ih, self.bias_ih)
        h, c = _lstm_cell(xp, hx[0], hx[1], self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: ``forward(x, h)`` returns the next hidden state."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, hx, batched = self._prep(input, hx)
        xp = F.linear(input, self.weight_ih, self.bias_ih)
        h = _gru_cell(xp, hx, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
