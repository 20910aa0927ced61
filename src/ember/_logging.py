"""``torch._logging``: which of torch.compile's logs to print (``set_logs``, or the ``TORCH_LOGS``
environment variable, as ``TORCH_LOGS="recompiles,output_code"``).

ember's compiler prints two of them: ``recompiles`` (each time a compiled function traces again,
the guard that failed) and ``output_code`` (each program it generates, the NumPy source that
``compiled.source()`` returns). Graph breaks are warnings in ember whatever the setting; the other
names torch knows (``dynamo``, ``inductor``, ``aot_graphs`` ...) are accepted and print nothing,
ember having no such stage.
"""

from __future__ import annotations

import os
from typing import Any

from . import _compile

# the names torch's set_logs takes (keyword-only), of which ember prints recompiles and output_code
_NAMES = frozenset((
    "all", "aot", "aot_graphs", "aot_joint_graph", "autograd", "autotuning", "benchmarking", "bytecode", "c10d",
    "caching", "compiled_autograd", "compiled_autograd_verbose", "compute_dependencies", "cudagraph_static_inputs",
    "cudagraphs", "ddp", "ddp_graphs", "distributed", "dtensor", "dynamic", "dynamo", "export", "fsdp", "fusion",
    "graph", "graph_breaks", "graph_code", "graph_code_verbose", "graph_region_expansion", "graph_sizes", "guards",
    "hierarchical_compile", "incremental", "inductor", "inductor_metrics", "ir_post_fusion", "ir_pre_fusion",
    "kernel_code", "modules", "onnx", "onnx_diagnostics", "output_code", "overlap", "perf_hints", "post_grad_graphs",
    "pre_grad_graphs", "recompiles", "recompiles_verbose", "schedule", "side_effects", "sym_node", "trace_bytecode",
    "trace_call", "trace_source"))


def set_logs(**kwargs: Any) -> None:
    """Turn torch.compile's logs on or off by name (``set_logs(recompiles=True)``); a call replaces
    the previous settings, as torch's does, and a name torch's does not take is a TypeError."""
    for name in kwargs:
        if name not in _NAMES:
            raise TypeError(f"set_logs() got an unexpected keyword argument '{name}'")
    logs = {name for name, on in kwargs.items() if on}
    if "recompiles_verbose" in logs:
        logs.add("recompiles")
    _compile.config_values["logs"] = logs


def enabled(name: str) -> bool:
    """Whether log ``name`` is on: set by ``set_logs``, else named in ``TORCH_LOGS``."""
    logs = _compile.config_values.get("logs")
    if logs is None:
        logs = {n.strip().lstrip("+-") for n in os.environ.get("TORCH_LOGS", "").split(",") if n.strip()}
    return name in logs
