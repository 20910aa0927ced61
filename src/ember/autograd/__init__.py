"""ember.autograd: backward(), grad(), Function, and the grad-mode switches.

This layer knows nothing of ops: it walks graphs of Nodes and calls methods on tensors.
"""

from __future__ import annotations

from typing import Any, Sequence

from . import engine, grad_mode, graph
from . import function as _function
from .function import Function, FunctionCtx, InplaceFunction, NestedIOFunction, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .graph import grad_accumulator
from .variable import Variable

__all__ = ["backward", "grad", "explain", "detect_anomaly", "set_detect_anomaly", "Function", "FunctionCtx",
           "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled", "once_differentiable", "graph", "InplaceFunction",
           "NestedIOFunction", "Variable"]


def _tensor_seq(x: Any, name: str) -> tuple:
    Tensor = _function._Tensor
    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, (list, tuple)):
        for t in x:
            if not isinstance(t, Tensor):
                raise TypeError(f"{name} must be a Tensor or a sequence of Tensors, got {type(t).__name__}")
        return tuple(x)
    raise TypeError(f"{name} must be a Tensor or a sequence of Tensors, got {type(x).__name__}")


def _make_grads(outputs: Sequence, grad_outputs: Sequence) -> list:
    """Default gradient for scalar outputs (ones); check given ones against the outputs' shapes."""
    import numpy as np

    from .._printing_size import size_str

    _new = _function._new_tensor
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if out._rg and out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.dtype.is_floating_point and not out.dtype.is_complex and out._rg:
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
            grads.append(_new(np.ones(out._data.shape, out._data.dtype)))
        else:
            if not hasattr(g, "_data"):
                raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
            if g._data.shape != out._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {size_str(g._data.shape)} and "
                    f"output[{i}] has a shape of {size_str(out._data.shape)}.")
            if g._data.dtype.kind != out._data.dtype.kind and not (
                    g._data.dtype.kind in "fc" and out._data.dtype.kind in "fc"):
                raise RuntimeError(
                    f"For complex Tensors, both grad_output and output are required to have the same dtype. "
                    f"Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and output[{i}] has a dtype "
                    f"of {out.dtype}.")
            grads.append(g)
    return grads


def _root_edges(outputs: Sequence) -> list:
    edges = []
    for i, out in enumerate(outputs):
        if not out._rg:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        edges.append((out.grad_fn, out._out_nr) if out.grad_fn is not None else (grad_accumulator(out), 0))
    return edges


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables: Any = None, inputs: Any = None) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves (or of ``inputs``)."""
    outputs = _tensor_seq(tensors, "tensors")
    if grad_tensors is None:
        grad_tensors = [None] * len(outputs)
    elif not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors]
    if len(grad_tensors) != len(outputs):
        raise RuntimeError(f"got {len(grad_tensors)} tensors and {len(outputs)} gradients")
    grads = _make_grads(outputs, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    roots = _root_edges(outputs)
    only = None
    if inputs is not None:
        ins = _tensor_seq(inputs, "inputs")
        if len(ins) == 0:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        only = []
        for t in ins:
            if not t._rg:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            if t.grad_fn is None:
                only.append((grad_accumulator(t), 0))
            else:
                t.retain_grad()
                only.append((t.grad_fn, t._out_nr))
    engine.run_backward(roots, grads, retain_graph, create_graph, only=only)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated) as a tuple."""
    outs = _tensor_seq(outputs, "outputs")
    ins = _tensor_seq(inputs, "inputs")
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    if grad_outputs is None:
        grad_outputs = [None] * len(outs)
    elif not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outs):
        raise RuntimeError(f"grad_outputs has {len(grad_outputs)} tensors but outputs has {len(outs)}")
    grads = _make_grads(outs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    for t in ins:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    roots = _root_edges(outs)
    capture = [(grad_accumulator(t), 0) if t.grad_fn is None else (t.grad_fn, t._out_nr) for t in ins]
    result = engine.run_backward(roots, grads, retain_graph, create_graph, capture=capture, accumulate=False)
    assert result is not None
    out = []
    for i, (t, g) in enumerate(zip(ins, result)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior.")
            if materialize_grads:
                import numpy as np

                g = _function._new_tensor(np.zeros(t._data.shape, t._data.dtype))
        elif g._data.shape != t._data.shape:
            g = g.sum_to_size(t._data.shape)
        out.append(g)
    return tuple(out)


_ = grad_mode

from .anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: E402
from .explain import explain  # noqa: E402

# ``functional`` (built on ops) and ``gradcheck`` (on Tensor) sit above this layer: ``ember/__init__``
# imports them once the op table exists and installs them here, so the autograd core imports neither.
__all__ += ["functional", "gradcheck", "gradgradcheck", "GradcheckError"]  # noqa: E402
explain_forward: Any  # forward mode narrated (forward_explain.py, above this layer): installed the same way
