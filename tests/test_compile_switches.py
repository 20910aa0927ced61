"""torch.compiler's and torch._dynamo's switches around ember.compile, as scripts use them:
``is_compiling()`` inside a traced call, ``disable`` and ``graph_break()`` (the code runs at every
call), ``torch._dynamo`` / ``torch._inductor`` reached as attributes after a bare import."""

from __future__ import annotations

import os
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

    noisy = Noisy()
    n = ember.compiler.disable(noisy)  # (as torch's: a wrapper Module, the module itself unchanged)
    assert type(n).__name__ == type(torch.compiler.disable(torch.nn.Linear(2, 2))).__name__ == "OptimizedModule"
    assert n._orig_mod is noisy and "forward" not in vars(noisy)
    seq = ember.compile(ember.nn.Sequential(ember.nn.Linear(2, 2), n))
    with pytest.warns(UserWarning, match="Noisy is wrapped in torch.compiler.disable"):
        seq(ember.ones(2))
    assert seq(ember.ones(2)).tolist() == seq._orig_mod(ember.ones(2)).tolist()


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


SCALE = 1.0


def test_a_global_the_forward_reads_is_a_guard_and_a_global_of_the_same_name_as_an_attribute_is_not():
    # torch.compile(model) whose forward reads a module-level number: the replay had kept the traced
    # value (the guards looked at the compiled function's own code only, which a Module has none of)
    global SCALE

    class M(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = ember.nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x) * SCALE

    m = M()
    f = ember.compile(m)
    x = ember.ones(1, 2)
    try:
        for v in (1.0, 3.0, 3.0):
            SCALE = v
            assert f(x).tolist() == m(x).tolist()
    finally:
        SCALE = 1.0
    assert "2 cache entries" in f._compiled.explain() and "replayed 1 times" in f._compiled.explain()


def test_a_loop_variable_named_like_an_attribute_the_step_calls_does_not_retrace():
    # a script's top-level ``for step in range(n): train_step(...)``, whose train_step calls
    # opt.step(): 'step' was among the code's names, so the global loop variable was a guard and every
    # call traced anew until the recompile limit (then ran eagerly)
    code = ("import ember, warnings\n"
            "warnings.simplefilter('error')\n"
            "m = ember.nn.Linear(2, 1)\n"
            "opt = ember.optim.SGD(m.parameters(), 0.1)\n"
            "@ember.compile\n"
            "def train_step(x):\n"
            "    opt.zero_grad(); loss = m(x).sum(); loss.backward(); opt.step(); return loss\n"
            "for step in range(12):\n"
            "    loss = train_step(ember.ones(1, 2))\n"
            "print(train_step.explain().splitlines()[0])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "1 cache entry " in out


_COUNT = 0


def _count(x):
    global _COUNT
    _COUNT += 1
    return x * 2


def test_a_global_a_called_function_sets_breaks_the_graph():
    @ember.compile
    def f(x):
        return _count(x) + 1

    with pytest.warns(UserWarning, match=r"the call set the global '_COUNT'"):
        f(ember.ones(1))
    f(ember.ones(1))
    f(ember.ones(1))
    assert _COUNT == 3


def test_a_bound_method_a_partial_and_a_callable_object_guard_what_they_are_bound_to():
    import functools

    class M(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.scale = ember.nn.Linear(2, 2), 1.0

        def forward(self, x):
            return self.lin(x) * self.scale

    class Loss:
        def __init__(self):
            self.w = 1.0

        def __call__(self, a):
            return (a * self.w).sum()

    m, loss = M(), Loss()
    fwd, part, lc = ember.compile(m.forward), ember.compile(functools.partial(lambda x, mod: mod(x) * 2, mod=m)), \
        ember.compile(loss)
    x = ember.ones(1, 2)
    for scale in (1.0, 3.0):
        m.scale, loss.w = scale, scale
        assert fwd(x).tolist() == m(x).tolist() and part(x).tolist() == (m(x) * 2).tolist()
        assert lc(x).item() == 2 * scale
    assert "def forward(T_x):" in fwd.source() and "T_self_lin_weight" in fwd.source()


class _CFG:  # (a class used as a namespace of settings)
    scale = 1.0


def test_settings_on_a_class_a_module_holds_or_a_global_class_are_guards():
    # self.factor found on the class, self.config.mult on a plain object the module holds, CFG.scale
    # on a class the forward loads as a global: each was read as a constant and kept by the replay
    class Config:
        def __init__(self):
            self.mult = 1.0

    class M(ember.nn.Module):
        factor = 1.0

        def __init__(self):
            super().__init__()
            self.lin, self.config = ember.nn.Linear(2, 2), Config()

        def forward(self, x):
            return self.lin(x) * self.factor * _CFG.scale * self.config.mult

    m = M()
    f = ember.compile(m)
    x = ember.ones(1, 2)
    try:
        for change in ("nothing", "factor", "CFG", "config", "nothing"):
            if change == "factor":
                M.factor = 2.0
            elif change == "CFG":
                _CFG.scale = 3.0
            elif change == "config":
                m.config.mult = 5.0
            assert f(x).tolist() == m(x).tolist(), change
    finally:
        _CFG.scale = 1.0
    assert "4 cache entries" in f._compiled.explain() and "replayed 1 times" in f._compiled.explain()


_HISTORY: list = []


def test_a_list_the_function_reads_is_guarded_by_its_size_and_its_items_are_read_afresh():
    # REINFORCE's finish_episode reads policy.rewards, which the loop appends to between calls: the
    # replay ran the traced number of iterations over the traced tensors (3.0 every time, silently)
    class Policy(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.rewards, self.log = ember.nn.Linear(1, 1), [], []

    def finish(policy):
        return sum(r * 2 for r in policy.rewards) + sum(h for h in _HISTORY)

    p = Policy()
    f = ember.compile(finish)
    _HISTORY.clear()
    for n in range(1, 5):
        p.rewards.append(ember.tensor([float(n)]))
        _HISTORY.append(ember.tensor([1.0]))
        assert f(p).item() == finish(p).item() == n * (n + 1) + n
    _HISTORY[0] = ember.tensor([5.0])  # (an item replaced: read afresh)
    assert f(p).item() == finish(p).item() == 28.0 and "replayed 1 times" in f.explain()

    @ember.compile
    def g(x):
        return p.lin(x) * 2

    for n in range(3):  # (a list of the module that the function does not load: no guard)
        p.log.append(n)
        g(ember.ones(1))
    assert "1 cache entry " in g.explain() and "replayed 2 times" in g.explain()


_HPARAMS = {"scale": 1.0}


def test_a_dict_of_settings_the_function_reads_is_a_guard_but_a_registry_is_not():
    registry = {"act": ember.nn.functional.relu}

    @ember.compile
    def f(x):
        return registry["act"](x) * _HPARAMS["scale"]

    x = ember.ones(1)
    try:
        for v in (1.0, 2.0, 2.0):
            _HPARAMS["scale"] = v
            registry[f"other{v}"] = ember.nn.functional.gelu  # (a registry growing: no guard)
            assert f(x).item() == v
    finally:
        _HPARAMS["scale"] = 1.0
    assert "2 cache entries" in f.explain() and "replayed 1 times" in f.explain()


def test_torch_logs_recompiles_and_output_code_print_the_reason_and_the_program():
    # (ember's recompile-limit warning points at TORCH_LOGS="recompiles", as torch's does)
    code = ("import ember as torch\n"
            "@torch.compile\n"
            "def f(x):\n"
            "    return (x * 2).sum()\n"
            "for n in (2, 3, 3):\n"
            "    f(torch.ones(n))\n"
            "torch._logging.set_logs(output_code=True)\n"
            "f(torch.ones(5))\n")
    env = dict(os.environ, TORCH_LOGS="recompiles")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stderr
    assert "Recompiling function f" in err and "size mismatch: expected (2,), actual (3,)" in err
    assert err.count("Recompiling") == 1  # (set_logs replaced TORCH_LOGS' settings, as torch's)
    assert "output code of f:\ndef f(T_x):" in err and "mul0 = x * 2" in err
    for lib in (ember, torch):  # (a name torch's set_logs does not take)
        with pytest.raises(TypeError, match="set_logs\\(\\) got an unexpected keyword argument 'recompile'"):
            lib._logging.set_logs(recompile=True)
