"""torch.compiler's and torch._dynamo's switches around ember.compile, as scripts use them:
``is_compiling()`` inside a traced call, ``disable`` and ``graph_break()`` (the code runs at every
call), ``torch._dynamo`` / ``torch._inductor`` reached as attributes after a bare import."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import ember


def test_is_compiling_is_true_while_a_call_is_traced_as_in_torch():
    # (a check skipped under compile, as scripts write it, no longer reads a value: no graph break)
    def body(lib, x):
        if not lib.compiler.is_compiling():
            assert bool((x >= 0).all())
        return x * 2 + lib.compiler.is_compiling()

    f = ember.compile(lambda x: body(ember, x))
    tf = torch.compile(lambda x: body(torch, x), backend="eager")
    for v in (1.0, 2.0):
        assert f(ember.full((2,), v)).tolist() == tf(torch.full((2,), v)).tolist() == [2 * v + 1] * 2
    assert "graph break" not in f.explain() and "replayed 1 times" in f.explain()
    assert ember.compiler.is_compiling() is False and body(ember, ember.ones(1)).tolist() == [2.0]


def test_a_disabled_function_runs_at_every_call_of_a_compiled_one():
    calls = []

    @ember.compiler.disable
    def log(x):
        calls.append(x.sum().item())  # (a side effect a replay would skip)

    @ember.compile
    def f(x):
        y = x * 2
        log(y)
        return y + 1

    with pytest.warns(UserWarning, match=r"log is wrapped in torch.compiler.disable, so it runs at every call"):
        f(ember.ones(2))
    f(ember.ones(2))
    f(ember.full((2,), 2.0))
    assert calls == [4.0, 4.0, 8.0] and log.__wrapped__ is not None
    with pytest.raises(ember._dynamo.exc.Unsupported, match="torch.compiler.disable"):
        ember.compile(f.__wrapped__, fullgraph=True)(ember.ones(2))

    class Noisy(ember.nn.Module):
        def forward(self, x):
            return x + 1

    n = ember.compiler.disable(Noisy())
    assert isinstance(n, ember.nn.Module)
    seq = ember.compile(ember.nn.Sequential(ember.nn.Linear(2, 2), n))
    with pytest.warns(UserWarning, match="Noisy.forward is wrapped in torch.compiler.disable"):
        seq(ember.ones(2))


def test_dynamo_graph_break_breaks_the_graph_there():
    @ember.compile
    def f(x):
        y = x * 2
        ember._dynamo.graph_break()
        return y + 1

    with pytest.warns(UserWarning, match=r"torch._dynamo.graph_break\(\) was called \(at .*graph_break\(\)\)"):
        assert f(ember.ones(1)).tolist() == [3.0]
    assert f(ember.ones(1)).tolist() == [3.0] and "graph break" in f.explain()


def test_dynamo_and_inductor_are_attributes_after_a_bare_import_and_inductor_config_keeps_settings():
    code = ("import ember as torch\n"
            "torch._dynamo.config.cache_size_limit = 16\n"
            "torch._inductor.config.coordinate_descent_tuning = True\n"
            "torch._inductor.config.triton.unique_kernel_names = True\n"
            "torch.compiler.cudagraph_mark_step_begin()\n"
            "print(torch._dynamo.config.recompile_limit, torch._inductor.config.coordinate_descent_tuning,\n"
            "      torch._inductor.config.triton.unique_kernel_names)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["16", "True", "True"]
    assert ember.compiler.assume_constant_result(len) is len and ember._dynamo.allow_in_graph(len) is len
