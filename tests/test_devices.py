"""The device surface of a CPU-only build: ember.cuda, accelerator, mps, backends, device objects,
moving tensors and modules, compile / jit and the process-wide settings, each compared with torch."""

from __future__ import annotations

import pickle
import warnings

import pytest
import torch

import ember


def _outcome(fn):
    """(value, None) or (None, (exception type, message with torch's names turned into ember's))."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(), None
    except Exception as e:  # noqa: BLE001  (any error is compared with torch's)
        msg = str(e).replace("PyTorch", "ember").replace("Torch", "ember").replace("torch", "ember")
        return None, (type(e), msg)


def same_error(efn, tfn, *, full_message: bool = True):
    """ember and torch raise the same exception type (and message, torch -> ember)."""
    _, ee = _outcome(efn)
    _, te = _outcome(tfn)
    assert te is not None, "torch did not raise"
    assert ee is not None, f"ember did not raise (torch: {te})"
    assert ee[0] is te[0], f"ember raised {ee}, torch {te}"
    if full_message:
        assert ee[1] == te[1], f"ember: {ee[1]!r}\ntorch: {te[1]!r}"


# --------------------------------------------------------------------------- ember.cuda
@pytest.mark.parametrize("name, args", [
    ("is_available", ()), ("device_count", ()), ("is_initialized", ()), ("manual_seed", (0,)),
    ("manual_seed_all", (0,)), ("seed", ()), ("seed_all", ()), ("empty_cache", ()), ("memory_allocated", ()),
    ("max_memory_allocated", ()), ("memory_reserved", ()), ("max_memory_reserved", ()), ("get_arch_list", ()),
    ("is_bf16_supported", ()),
])
def test_cuda_queries_answer_as_torch_cpu_build(name, args):
    assert getattr(ember.cuda, name)(*args) == getattr(torch.cuda, name)(*args)


@pytest.mark.parametrize("name, args", [
    ("synchronize", ()), ("current_device", ()), ("get_device_name", ()), ("get_device_name", (0,)),
    ("get_device_properties", (0,)), ("get_device_capability", ()), ("init", ()), ("get_rng_state", ()),
    ("initial_seed", ()), ("ipc_collect", ()), ("mem_get_info", ()), ("current_stream", ()),
])
def test_cuda_calls_that_need_a_gpu_raise_as_torch(name, args):
    same_error(lambda: getattr(ember.cuda, name)(*args), lambda: getattr(torch.cuda, name)(*args))


def test_cuda_device_context_and_oom_error():
    ctx = ember.cuda.device(0)
    with pytest.raises(RuntimeError, match="compiled without CUDA support"):
        ctx.__enter__()
    assert ember.cuda.OutOfMemoryError is ember.OutOfMemoryError
    assert issubclass(ember.OutOfMemoryError, RuntimeError) and issubclass(torch.OutOfMemoryError, RuntimeError)
    assert repr(ember.OutOfMemoryError) == repr(torch.OutOfMemoryError).replace("torch", "ember")


def test_cuda_legacy_types_exist_but_cannot_be_built():
    assert repr(ember.cuda.FloatTensor) == repr(torch.cuda.FloatTensor).replace("torch", "ember")
    assert not isinstance(ember.ones(1), ember.cuda.FloatTensor)
    assert isinstance(torch.ones(1), torch.cuda.FloatTensor) is False
    same_error(lambda: ember.cuda.FloatTensor([1.0]), lambda: torch.cuda.FloatTensor([1.0]))
    with pytest.raises(AttributeError):
        ember.cuda.NoSuchThing  # noqa: B018


# --------------------------------------------------------------------------- accelerator, mps, cpu
def test_accelerator_and_mps_and_cpu_namespaces():
    for name in ("is_available", "current_accelerator", "device_count"):
        assert getattr(ember.accelerator, name)() == getattr(torch.accelerator, name)()
    for name in ("current_device_index", "synchronize", "empty_cache", "memory_allocated"):
        same_error(getattr(ember.accelerator, name), getattr(torch.accelerator, name))
    for name in ("is_available", "device_count"):
        assert getattr(ember.mps, name)() == getattr(torch.mps, name)()
    assert ember.mps.manual_seed(0) is None and torch.mps.manual_seed(0) is None
    for name in ("synchronize", "empty_cache", "seed", "get_rng_state", "current_allocated_memory",
                 "driver_allocated_memory", "recommended_max_memory"):
        same_error(getattr(ember.mps, name), getattr(torch.mps, name))
    for name in ("is_available", "device_count", "current_device", "synchronize"):
        assert getattr(ember.cpu, name)() == getattr(torch.cpu, name)()


# --------------------------------------------------------------------------- backends
def test_backend_flags_and_queries_match_torch():
    eb, tb = ember.backends, torch.backends
    assert (eb.mps.is_available(), eb.mps.is_built()) == (tb.mps.is_available(), tb.mps.is_built())
    for flag in ("enabled", "benchmark", "deterministic", "allow_tf32", "benchmark_limit"):
        assert getattr(eb.cudnn, flag) == getattr(tb.cudnn, flag), flag
    assert eb.cudnn.is_available() == tb.cudnn.is_available() and eb.cudnn.version() == tb.cudnn.version()
    assert eb.cuda.is_built() == tb.cuda.is_built()
    for flag in ("allow_tf32", "allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction"):
        assert getattr(eb.cuda.matmul, flag) == getattr(tb.cuda.matmul, flag), flag
    for q in ("flash_sdp_enabled", "mem_efficient_sdp_enabled", "math_sdp_enabled", "cudnn_sdp_enabled"):
        assert getattr(eb.cuda, q)() == getattr(tb.cuda, q)()
    assert eb.opt_einsum.enabled == tb.opt_einsum.enabled and eb.opt_einsum.strategy == tb.opt_einsum.strategy
    with pytest.raises(AttributeError, match="Unknown attribute foo"):
        eb.cuda.matmul.foo  # noqa: B018


def test_backend_flags_can_be_set_and_scoped():
    c = ember.backends.cudnn
    c.benchmark = True
    try:
        assert ember.backends.cudnn.benchmark is True
    finally:
        c.benchmark = False
    with c.flags(enabled=False):
        assert c.enabled is False
    assert c.enabled is True
    with pytest.warns(FutureWarning, match="sdp_kernel"):
        ctx = ember.backends.cuda.sdp_kernel(enable_flash=False)
    with ctx:
        assert ember.backends.cuda.flash_sdp_enabled() is False
    assert ember.backends.cuda.flash_sdp_enabled() is True


def test_tf32_flag_follows_matmul_precision_as_in_torch():
    try:
        for lib in (ember, torch):
            lib.set_float32_matmul_precision("high")
        assert ember.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32 is True
        ember.backends.cuda.matmul.allow_tf32 = False  # (torch then refuses to mix the two APIs' readings)
        assert ember.get_float32_matmul_precision() == "highest"
    finally:
        for lib in (ember, torch):
            lib.set_float32_matmul_precision("highest")


# --------------------------------------------------------------------------- device objects
@pytest.mark.parametrize("args", [
    ("cpu",), ("cuda",), ("cuda:0",), ("cuda:1",), ("mps",), ("cpu", 0), ("cuda", 2), ("cpu:0",), ("meta",),
    ("xpu",),
])
def test_device_objects(args):
    e, t = ember.device(*args), torch.device(*args)
    assert (repr(e), str(e), e.type, e.index) == (repr(t), str(t), t.type, t.index)
    assert (e == ember.device(*args)) and hash(e) == hash(ember.device(*args))
    assert (e == str(e)) == (t == str(t))  # torch: a device never equals a string
    assert pickle.loads(pickle.dumps(e)) == e


@pytest.mark.parametrize("args", [
    ("foo",), ("cuda:x",), ("cuda:-1",), ("cuda", -1), ("CUDA",), ("cuda:01",), (" cuda",), ("cuda:0", 1), (1,),
    ("cuda", "a"),
])
def test_device_parse_errors(args):
    same_error(lambda: ember.device(*args), lambda: torch.device(*args))


def test_device_equality_and_type_printing():
    assert (ember.device("cuda", 0) == ember.device("cuda:0")) == (torch.device("cuda", 0) == torch.device("cuda:0"))
    assert (ember.device("cuda") == ember.device("cuda:0")) == (torch.device("cuda") == torch.device("cuda:0"))
    assert repr(ember.device) == repr(torch.device).replace("torch", "ember")
    assert ember.ones(1).device == ember.device("cpu")


# --------------------------------------------------------------------------- moving tensors and modules
MOVES = [
    lambda L: L.tensor([1.0], device="cuda"),
    lambda L: L.zeros(2, device="cuda:0"),
    lambda L: L.randn(2, device="cuda"),
    lambda L: L.empty(2, device="cuda"),
    lambda L: L.full((2,), 1.0, device="cuda"),
    lambda L: L.arange(3, device="cuda"),
    lambda L: L.ones_like(L.ones(2), device="cuda"),
    lambda L: L.randint(0, 3, (2,), device="cuda"),
    lambda L: L.randperm(3, device="cuda"),
    lambda L: L.ones(2).to("cuda"),
    lambda L: L.ones(2).to("cuda:1"),
    lambda L: L.ones(2).to(L.device("cuda")),
    lambda L: L.ones(2).to("cuda", L.float64),
    lambda L: L.ones(2).to(device="cuda", non_blocking=True),
    lambda L: L.ones(2).cuda(),
    lambda L: L.ones(2).cuda(0),
    lambda L: L.ones(2).to(0),
    lambda L: L.ones(2).to("xpu"),
    lambda L: L.ones(2).to("mps"),
    lambda L: L.tensor([1.0], device="mps"),
    lambda L: L.ones(2).pin_memory(),
    lambda L: L.nn.Linear(2, 2).cuda(),
    lambda L: L.nn.Linear(2, 2).cuda(0),
    lambda L: L.nn.Linear(2, 2).to("cuda"),
    lambda L: L.nn.Linear(2, 2).to(0),
    lambda L: L.nn.Linear(2, 2).to("cuda:0", L.float64),
    lambda L: L.nn.Linear(2, 2).to(L.device("mps")),
    lambda L: L.nn.Linear(2, 2, device="cuda"),
    lambda L: L.nn.Conv2d(1, 1, 1, device=L.device("cuda", 0)),
    lambda L: L.nn.Embedding(2, 2, device="cuda"),
    lambda L: L.nn.LayerNorm(2, device="cuda"),
    lambda L: L.nn.BatchNorm1d(2, device="cuda"),
    lambda L: L.nn.LSTM(2, 2, device="cuda"),
]


@pytest.mark.parametrize("i", range(len(MOVES)))
def test_moving_to_a_missing_device_raises_as_torch(i):
    same_error(lambda: MOVES[i](ember), lambda: MOVES[i](torch))


def test_cpu_keeps_working():
    x = ember.ones(2)
    assert x.cpu() is x and x.to("cpu") is x and x.to("cpu:0") is x and x.to(device=None) is x
    assert ember.ones(1, device=ember.device("cpu", 0)).device == ember.device("cpu")
    assert (x.is_cpu, x.is_cuda, x.is_mps, x.get_device(), x.is_pinned()) == (True, False, False, -1, False)
    assert x.to(ember.device("cpu"), ember.float64).dtype == ember.float64
    assert ember.nn.Linear(2, 2, device="cpu").weight.device == ember.device("cpu")
    m = ember.nn.Linear(2, 2)
    assert m.cpu() is m and m.to("cpu") is m and m.to(ember.device("cpu")) is m


def test_device_selection_idiom_takes_the_cpu_branch():
    dev = ember.device("cuda" if ember.cuda.is_available() else "cpu")
    m = ember.nn.Linear(3, 1).to(dev)
    out = m(ember.ones(2, 3, device=dev).to(dev))
    assert out.device == dev == ember.device("cpu")


# --------------------------------------------------------------------------- compile and jit
def test_compile_a_module_wraps_it_as_torch():
    ember.manual_seed(0)
    m = ember.nn.Linear(2, 3)
    tm = torch.nn.Linear(2, 3)
    c, tc = ember.compile(m), torch.compile(tm)
    assert repr(c) == repr(tc)
    assert repr(type(c)) == repr(type(tc)).replace("torch", "ember")
    assert list(c.state_dict()) == list(tc.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in tc.named_parameters()]
    assert c._orig_mod is m and c.weight is m.weight and c.in_features == 2
    x = ember.ones(4, 2)
    assert ember.equal(c(x), m(x))
    c.eval()
    assert m.training is False and tc.eval()._orig_mod.training is False
    assert ember.compile(m, disable=True) is m
    with pytest.raises(RuntimeError, match="Missing key"):
        c.load_state_dict(m.state_dict())


def test_compile_functions_and_decorator_forms():
    def f(x):
        return x * 2

    g = ember.compile(f)
    assert g.__wrapped__ is f and g.__name__ == "f" and g(ember.tensor(3.0)).item() == 6.0

    @ember.compile
    def h(x):
        return x + 1

    @ember.compile(mode="max-autotune", fullgraph=True, dynamic=False, backend="inductor")
    def k(x):
        return x - 1

    assert h(ember.tensor(1.0)).item() == 2.0 and k(ember.tensor(1.0)).item() == 0.0
    m = ember.nn.Linear(1, 1)
    assert m.compile() is None


@pytest.mark.parametrize("call", [
    lambda L: L.compile(3),
    lambda L: L.compile(lambda x: x, mode="foo"),
    lambda L: L.compile(lambda x: x, mode="default", options={"a": 1}),
    lambda L: L.compile(lambda x: x, backend="foo"),
])
def test_compile_option_errors(call):
    _, ee = _outcome(lambda: call(ember))
    _, te = _outcome(lambda: call(torch))
    # the same class (torch's InvalidBackend lives in torch._dynamo.exc) and the same text
    assert ee is not None and te is not None
    assert (ee[0].__name__, ee[0].__mro__[1:]) == (te[0].__name__, te[0].__mro__[-len(ee[0].__mro__) + 1:])
    assert ee[1] == te[1]


def test_jit_script_and_trace_fail_clearly():
    with pytest.raises(NotImplementedError, match="ember does not implement torch.jit.script"):
        ember.jit.script(lambda x: x)
    with pytest.raises(NotImplementedError, match="ember does not implement torch.jit.trace"):
        ember.jit.trace(lambda x: x, ember.ones(1))


def test_jit_marker_decorators_pass_functions_through():
    def f(x):
        return x

    for name in ("ignore", "unused", "export"):
        assert getattr(ember.jit, name)(f) is f and getattr(torch.jit, name)(f) is f
    assert ember.jit.ignore(drop=True)(f) is f
    assert ember.jit.is_scripting() == torch.jit.is_scripting() and ember.jit.is_tracing() == torch.jit.is_tracing()
    assert ember.jit.annotate(int, 3) == torch.jit.annotate(int, 3)
    assert ember.compiler.is_compiling() == torch.compiler.is_compiling()
    for lib in (ember, torch):  # (a wrapper that runs f outside any compiled program)
        d = lib.compiler.disable(f)
        assert d is not f and d.__wrapped__ is f and d(3) == 3 and lib.compiler.disable()(f).__wrapped__ is f


# --------------------------------------------------------------------------- settings
def test_float32_matmul_precision():
    assert ember.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == "highest"
    try:
        ember.set_float32_matmul_precision("medium")
        assert ember.get_float32_matmul_precision() == "medium"
        with pytest.warns(UserWarning, match="foo is not one of 'highest', 'high', or 'medium'"):
            ember.set_float32_matmul_precision("foo")
        assert ember.get_float32_matmul_precision() == "medium"
    finally:
        ember.set_float32_matmul_precision("highest")


def test_threads():
    assert ember.get_num_threads() >= 1 and ember.get_num_interop_threads() >= 1
    old = ember.get_num_threads()
    ember.set_num_threads(2)
    assert ember.get_num_threads() == 2
    ember.set_num_threads(old)
    same_error(lambda: ember.set_num_threads(0), lambda: torch.set_num_threads(0))


def test_deterministic_algorithms():
    assert ember.are_deterministic_algorithms_enabled() == torch.are_deterministic_algorithms_enabled() is False
    try:
        ember.use_deterministic_algorithms(True)
        assert ember.are_deterministic_algorithms_enabled() is True
        assert ember.get_deterministic_debug_mode() == 2
        ember.use_deterministic_algorithms(True, warn_only=True)
        assert ember.is_deterministic_algorithms_warn_only_enabled() is True
        assert ember.get_deterministic_debug_mode() == 1
    finally:
        ember.use_deterministic_algorithms(False)
    assert ember.get_deterministic_debug_mode() == 0
    same_error(lambda: ember.use_deterministic_algorithms("x"), lambda: torch.use_deterministic_algorithms("x"))


# --------------------------------------------------------------------------- lazy namespaces
def test_new_namespaces_load_lazily_and_missing_names_stay_missing():
    import subprocess
    import sys

    code = ("import ember\n"
            "y = (ember.ones(2, requires_grad=True) * 2).sum()\n"
            "print(type(ember.viz.graph(y)).__name__ != '', ember.cuda.is_available(), "
            "ember.backends.cudnn.enabled, hasattr(ember, 'no_such_namespace'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False", "True", "False"]


def test_default_device_as_torch():
    assert repr(ember.get_default_device()) == repr(torch.get_default_device())
    try:
        ember.set_default_device("cuda")
        torch.set_default_device("cuda")
        same_error(ember.get_default_device, torch.get_default_device)
        same_error(lambda: ember.ones(1), lambda: torch.ones(1))
        ember.set_default_device("cpu")
        torch.set_default_device("cpu")
        assert repr(ember.get_default_device()) == repr(torch.get_default_device())
        assert ember.ones(1).device == ember.device("cpu")
    finally:
        ember.set_default_device(None)
        torch.set_default_device(None)
    with ember.device("cuda"):
        with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
            ember.zeros(1)
    with torch.device("cuda"):
        with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
            torch.zeros(1)
    assert ember.zeros(1).device == ember.device("cpu")
    with ember.device("cpu"):
        assert ember.zeros(1).device == ember.device("cpu")


def test_memory_formats_and_layouts_exist_and_print_as_torch():
    for name in ("contiguous_format", "preserve_format", "channels_last", "channels_last_3d", "strided", "sparse_coo",
                 "sparse_csr"):
        e, t = getattr(ember, name), getattr(torch, name)
        assert repr(e) == repr(t).replace("torch", "ember") and str(e) == str(t).replace("torch", "ember")
        assert repr(type(e)) == repr(type(t)).replace("torch", "ember")
        assert pickle.loads(pickle.dumps(e)) is e
    assert ember.ones(1).layout is ember.strided and torch.ones(1).layout is torch.strided
    # the request is accepted (ember keeps row-major data); the results are the same numbers
    conv = ember.nn.Conv2d(1, 2, 1).to(memory_format=ember.channels_last)
    x = ember.ones(1, 1, 2, 2).contiguous(memory_format=ember.channels_last).to(memory_format=ember.channels_last)
    assert conv(x).shape == (1, 2, 2, 2)
