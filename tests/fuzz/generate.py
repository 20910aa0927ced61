"""Seeded random programs over ember's op table and common ``nn.functional`` calls.

A program grows one statement at a time. Each candidate statement is run on the spot in torch (on
the values built so far), so the generator needs no shape rules of its own: a candidate torch
rejects is usually dropped and tried again, and now and then kept as the program's last statement
to check that ember raises the same exception type. Templates pick arguments loosely (dims that may
be out of range, operands that may not broadcast, scalars, mixed dtypes); torch is the filter.

Statement flags: ``disc`` marks ops whose output jumps under a last-bit change of the input
(floor, comparisons, argmax, integer casts) and ``kink`` ops whose gradient does (relu, abs,
max, clamp). The comparer forgives such a statement when its input already differed from torch's
by float noise; see run.py.
"""

from __future__ import annotations

import random
import warnings
from typing import Any, Callable

import numpy as np
import torch

from .program import Input, Program, Stmt

FLOAT = ("float16", "float32", "float64")
DTYPES = ["float32"] * 11 + ["float64"] * 4 + ["float16", "int64", "int64", "int32", "bool"]

UNARY = ("abs neg exp log sqrt sin cos tan tanh sigmoid reciprocal rsqrt expm1 log1p erf erfc square atan asin acos "
         "sinh cosh asinh acosh atanh exp2 log2 log10 sinc deg2rad rad2deg positive lgamma digamma erfinv i0 logit "
         "relu angle conj nan_to_num").split()
UNARY_DISC = "floor ceil round trunc frac sign sgn signbit isnan isinf isfinite isposinf isneginf logical_not bitwise_not".split()
KINK = {"abs", "relu", "maximum", "minimum", "fmax", "fmin", "clamp", "amax", "amin", "max", "min", "median", "hardtanh",
        "relu6", "leaky_relu", "hardshrink", "softshrink", "threshold", "hardswish", "hardsigmoid", "norm", "cummax",
        "cummin", "sort", "topk", "max_pool1d", "max_pool2d", "l1_loss", "smooth_l1_loss", "huber_loss", "sgn"}
BINARY = ("add sub mul div true_divide maximum minimum fmax fmin atan2 hypot copysign logaddexp logaddexp2 xlogy pow "
          "float_power").split()
BINARY_DISC = ("floor_divide remainder fmod eq ne lt le gt ge logical_and logical_or logical_xor bitwise_and bitwise_or "
               "bitwise_xor heaviside").split()
OPERATORS = ["+", "-", "*", "/", "**", "//", "%", "==", "<", ">=", "&", "|", "^", "@"]
REDUCE = "sum mean prod amax amin max min argmax argmin std var logsumexp norm all any nansum count_nonzero median".split()
SCAN = "cumsum cumprod cummax cummin logcumsumexp".split()
ACT = ("relu relu6 elu selu celu gelu silu mish softplus leaky_relu hardtanh hardswish hardsigmoid logsigmoid softsign "
       "tanhshrink hardshrink softshrink sigmoid tanh").split()
INPLACE_UNARY = "exp_ neg_ relu_ sigmoid_ tanh_ abs_ sqrt_ zero_ floor_ t_ squeeze_".split()


class Gen:
    """Builds one program; ``env`` holds the torch values of its variables."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.prog = Program([], [], seed=seed)
        self.env: dict[str, Any] = {"L": torch, "F": torch.nn.functional}
        self.nvar = 0

    # ------------------------------------------------------------------ inputs and operands
    def shape(self, like: list[int] | None = None) -> list[int]:
        r = self.r
        if like is not None and r.random() < 0.75:
            tail = like[r.randint(0, len(like)):] if r.random() < 0.5 else list(like)
            return [1 if r.random() < 0.25 else d for d in tail]
        rank = r.choice([0, 1, 1, 2, 2, 2, 3, 3, 4])
        return [0 if r.random() < 0.04 else r.choice([1, 1, 2, 3, 3, 4, 5]) for _ in range(rank)]

    def new(self, shape: list[int], dtype: str | None = None, grad: bool | None = None, low: int = -3, high: int = 4) -> str:
        """A new input tensor; ints are drawn from [low, high)."""
        r, n = self.r, int(np.prod(shape))
        dtype = dtype or r.choice(DTYPES)
        if dtype == "bool":
            data = (self.np.random(n) < 0.5).tolist()
        elif dtype.startswith("int"):
            data = self.np.integers(low, high, n).tolist()
        else:
            style = r.choice(["normal", "normal", "positive", "integers"])
            a = {"normal": lambda: self.np.standard_normal(n) * r.choice([1.0, 3.0]),
                 "positive": lambda: self.np.uniform(0.1, 3.0, n),
                 "integers": lambda: self.np.integers(-3, 4, n).astype(float)}[style]()
            a = np.round(a, 3)  # short literals in printed reproducers
            if r.random() < 0.05 and n:
                a[self.np.integers(0, n)] = r.choice([0.0, -0.0, np.inf, -np.inf, np.nan])
            data = a.tolist()
        if grad is None:
            grad = dtype in FLOAT and r.random() < (0.8 if dtype != "float16" else 0.3)
        name = f"i{len(self.prog.inputs)}"
        inp = Input(name, dtype, list(shape), data, bool(grad))
        self.prog.inputs.append(inp)
        self.env[name] = inp.make(torch)
        return name

    def tensors(self, pred: Callable[[Any], bool] | None = None) -> list[str]:
        return [k for k, v in self.env.items() if isinstance(v, torch.Tensor) and (pred is None or pred(v))]

    def t(self, pred: Callable[[Any], bool] | None = None) -> str:
        names = self.tensors(pred) or self.tensors()
        # favour recent values, so programs chain rather than fan out from the inputs
        return names[-1] if self.r.random() < 0.4 else self.r.choice(names)

    def ft(self) -> str:
        return self.t(lambda v: v.is_floating_point())

    def dim(self, name: str) -> int:
        nd = self.env[name].dim()
        if self.r.random() < 0.03:
            return nd  # out of range
        return self.r.randint(-max(nd, 1), max(nd, 1) - 1)

    def scalar(self) -> str:
        return self.r.choice(["2", "-1", "0", "3", "0.5", "-1.5", "2.0", "1e-3", "True"])

    def operand(self, name: str) -> str:
        """Something to combine with ``name``: a scalar, another value, or a new broadcastable input."""
        x = self.r.random()
        if x < 0.3:
            return self.scalar()
        if x < 0.65:
            return self.t()
        return self.new(self.shape(list(self.env[name].shape)))

    def idx(self, name: str, d: int) -> int:
        v = self.env[name]
        n = v.shape[d] if -v.dim() <= d < v.dim() else 1
        return self.r.randint(-n, max(n - 1, 0)) if n else 0

    # ------------------------------------------------------------------ statements
    def define(self, expr: str, flags: str = "") -> Stmt:
        name = f"v{self.nvar}"
        return Stmt(f"{name} = {expr}", name, flags)

    def step(self) -> bool:
        """Add one statement; False when the program should end (a kept raising statement)."""
        for _ in range(30):
            st = pick_template(self.r)(self)
            if st is None:
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    exec(st.src, self.env)
            except Exception:
                if self.r.random() < 0.06:
                    self.prog.stmts.append(st)
                    return False
                continue
            self.prog.stmts.append(st)
            if st.out == f"v{self.nvar}":
                self.nvar += 1
            return True
        return True


def generate(seed: int) -> Program:
    g = Gen(seed)
    first = g.new(g.shape())
    for _ in range(g.r.randint(0, 2)):
        g.new(g.shape(list(g.env[first].shape)))
    for _ in range(g.r.randint(1, 7)):
        if not g.step():
            break
    g.prog.second = g.r.random() < 0.3
    return g.prog


# ---------------------------------------------------------------------- templates
def _flag(op: str, disc: bool = False) -> str:
    return "disc" if disc else ("kink" if op in KINK else "")


def unary(g: Gen) -> Stmt:
    r = g.r
    op = r.choice(UNARY + UNARY_DISC)
    a = g.t()
    expr = f"L.{op}({a})" if r.random() < 0.5 else f"{a}.{op}()"
    if op == "logit" and r.random() < 0.5:
        expr = f"L.logit({a}, eps=0.01)"
    return g.define(expr, _flag(op, op in UNARY_DISC))


def binary(g: Gen) -> Stmt:
    r = g.r
    op = r.choice(BINARY + BINARY_DISC)
    a = g.t()
    b = g.operand(a)
    extra = ""
    if op in ("add", "sub") and r.random() < 0.3:
        extra = f", alpha={r.choice(['2', '-1', '0.5'])}"
    if op == "div" and r.random() < 0.3:
        extra = f", rounding_mode={r.choice(['None', repr('floor'), repr('trunc')])}"
    if r.random() < 0.5 and not b[0].isdigit() and b[0] not in "-T":
        return g.define(f"{a}.{op}({b}{extra})", _flag(op, op in BINARY_DISC or "rounding" in extra))
    return g.define(f"L.{op}({a}, {b}{extra})", _flag(op, op in BINARY_DISC or "rounding" in extra))


def operator(g: Gen) -> Stmt:
    r = g.r
    op = r.choice(OPERATORS)
    a = g.t()
    b = g.t() if op == "@" else g.operand(a)
    if r.random() < 0.3 and op != "@":
        a, b = b, a
    if r.random() < 0.1:
        return g.define(f"-{a}" if r.random() < 0.5 else f"~{a}")
    return g.define(f"{a} {op} {b}", "disc" if op in ("//", "%", "==", "<", ">=", "&", "|", "^") else "")


def ternary(g: Gen) -> Stmt:
    r = g.r
    a = g.t()
    kind = r.choice(["where", "clamp", "clamp", "lerp", "addcmul", "addcdiv"])
    if kind == "where":
        cond = g.t(lambda v: v.dtype == torch.bool) if r.random() < 0.5 else f"({a} > 0)"
        return g.define(f"L.where({cond}, {a}, {g.operand(a)})", "disc")
    if kind == "clamp":
        lo, hi = (g.operand(a) if r.random() < 0.7 else "None"), (g.operand(a) if r.random() < 0.5 else "None")
        return g.define(f"{a}.clamp({lo}, {hi})" if r.random() < 0.5 else f"L.clamp({a}, min={lo}, max={hi})", "kink")
    if kind == "lerp":
        return g.define(f"L.lerp({a}, {g.operand(a)}, {r.choice(['0.3', g.operand(a)])})")
    return g.define(f"L.{kind}({a}, {g.operand(a)}, {g.operand(a)}, value={r.choice(['1', '0.5', '-2'])})")


def reduction(g: Gen) -> Stmt:
    r = g.r
    op = r.choice(REDUCE + SCAN)
    a = g.t()
    flags = _flag(op, op in ("argmax", "argmin", "all", "any", "count_nonzero"))
    if op in SCAN:
        expr = f"{a}.{op}({g.dim(a)})"
        return g.define(expr + (".values" if op in ("cummax", "cummin") else ""), flags)
    args = []
    form = r.random()
    nd = g.env[a].dim()
    if form < 0.6 or op == "logsumexp":
        args.append(str(g.dim(a)))
    elif form < 0.75 and nd >= 2 and op in ("sum", "mean", "amax", "amin", "std", "var", "logsumexp", "nansum", "norm",
                                             "count_nonzero"):
        args.append(str(tuple(r.sample(range(nd), 2))))
    if args and r.random() < 0.4 and op not in ("count_nonzero",):
        args.append("keepdim=True")
    if op in ("std", "var") and r.random() < 0.4:
        args.append(f"correction={r.choice([0, 1, 2])}")
    if op == "norm":
        args.insert(0, r.choice(["2", "1", "float('inf')", "3"]) if args else "")
        args = [x for x in args if x]
    if op == "sum" and r.random() < 0.15:
        args.append(f"dtype=L.{r.choice(['float64', 'int64', 'float32'])}")
    expr = f"{a}.{op}({', '.join(args)})"
    if op in ("max", "min", "median") and args and not args[0].startswith("keepdim"):
        expr += r.choice([".values", ".indices", "[0]"])
    return g.define(expr, flags)


def reshape_args(shape: list[int], r: random.Random) -> str:
    n = int(np.prod(shape))
    if n == 0 or r.random() < 0.2:
        dims = list(shape)[::-1] or [1]
    else:
        dims, m = [], n
        for p in (2, 3, 5):
            while m % p == 0 and r.random() < 0.7:
                dims.append(p)
                m //= p
        dims = ([m] if m > 1 else []) + dims
        r.shuffle(dims)
    if dims and r.random() < 0.3:
        dims[r.randrange(len(dims))] = -1
    return ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "")


def view(g: Gen) -> Stmt:
    r = g.r
    a = g.t()
    v = g.env[a]
    nd, d, d2 = v.dim(), g.dim(a), g.dim(a)
    shape = list(v.shape)
    k = r.randrange(19)
    expr = [
        lambda: f"{a}.{r.choice(['view', 'reshape'])}({reshape_args(shape, r)})",
        lambda: f"{a}.transpose({d}, {d2})",
        lambda: f"{a}.permute({', '.join(map(str, r.sample(range(nd), nd)))})" if nd else f"{a}.permute()",
        lambda: f"{a}.{r.choice(['t()', 'mT', 'T', 'mH'])}",
        lambda: f"{a}.squeeze({r.choice(['', str(d)])})",
        lambda: f"{a}.unsqueeze({r.randint(-nd - 1, nd)})",
        lambda: f"{a}.flatten({r.choice(['', f'{d}', f'0, {d}'])})",
        lambda: f"{a}.expand({r.choice([2, 3])}, {', '.join('-1' if x != 1 else str(r.choice([1, 3])) for x in shape)})",
        lambda: f"{a}.repeat({', '.join(str(r.choice([1, 2])) for _ in range(nd + r.randint(0, 1)))})",
        lambda: f"{a}.flip({d})",
        lambda: f"{a}.roll({r.choice([1, -2, 3])}, {d})",
        lambda: f"{a}.narrow({d}, {g.idx(a, d) if nd else 0}, {r.choice([0, 1, 2])})",
        lambda: f"{a}.{r.choice(['split', 'chunk'])}({r.choice([1, 2])}, {d})[{r.choice([0, -1])}]",
        lambda: f"{a}.unbind({d})[{g.idx(a, d) if nd else 0}]",
        lambda: f"L.{r.choice(['cat', 'stack'])}([{a}, {g.t() if r.random() < 0.5 else a}], {d})",
        lambda: f"L.movedim({a}, {d}, {d2})",
        lambda: f"{a}.{r.choice(['contiguous', 'clone', 'detach', 'tril', 'triu', 'diagonal'])}()",
        lambda: f"{a}.select({d}, {g.idx(a, d) if nd else 0})",
        lambda: f"{a}.diagonal({r.choice([0, 1, -1])}, {d}, {d2})",
    ][k]()
    return g.define(expr)


def index_key(g: Gen, a: str) -> str:
    r = g.r
    v = g.env[a]
    nd = v.dim()
    if r.random() < 0.15:
        return f"{a} > 0" if v.dtype != torch.bool else a
    parts = []
    for d in range(min(nd, r.randint(1, 3))):
        n = v.shape[d]
        c = r.random()
        if c < 0.3 and n:
            parts.append(str(g.idx(a, d)))
        elif c < 0.55:
            parts.append(r.choice([":", "1:", ":-1", "::2", "1::2", "-2:"]))
        elif c < 0.75 and n:
            parts.append(str([g.idx(a, d) for _ in range(r.randint(1, 3))]))
        elif c < 0.85:
            parts.append("None")
        else:
            parts.append("...")
    if not parts or parts.count("...") > 1 and r.random() < 0.7:
        parts = ["..."]
    return ", ".join(parts) + ("," if len(parts) == 1 and r.random() < 0.2 else "")


def indexing(g: Gen) -> Stmt:
    r = g.r
    a = g.t()
    v = g.env[a]
    k = r.randrange(8)
    if k < 4:
        return g.define(f"{a}[{index_key(g, a)}]")
    d = g.dim(a)
    n = v.shape[d] if v.dim() and -v.dim() <= d < v.dim() else 1
    ix = g.new([r.randint(0, 3)], "int64", False, -n, max(n, 1))
    if k == 4:
        return g.define(f"L.index_select({a}, {d}, {ix})")
    if k == 5:
        shape = [r.randint(0, s) for s in v.shape]
        gi = g.new(shape, "int64", False, 0, max(n, 1))
        return g.define(f"L.gather({a}, {d}, {gi})")
    if k == 6:
        return g.define(f"{a}.masked_fill({a} {r.choice(['>', '<'])} 0, {g.scalar()})", "disc")
    return g.define(f"L.masked_select({a}, {a} > 0)", "disc")


def inplace(g: Gen) -> Stmt:
    r = g.r
    a = g.t()
    k = r.randrange(7)
    if k == 0:
        op = r.choice(INPLACE_UNARY)
        src = f"{a}.{op}()"
    elif k == 1:
        op = r.choice(["add_", "sub_", "mul_", "div_", "pow_", "clamp_", "copy_", "lerp_"])
        src = f"{a}.{op}({g.operand(a)}{', 0.5' if op == 'lerp_' else ''})"
    elif k == 2:
        src = f"{a}[{index_key(g, a)}] = {g.scalar() if r.random() < 0.6 else g.t()}"
    elif k == 3:
        src = f"{a} {r.choice(['+=', '*=', '-='])} {g.operand(a)}"
    elif k == 4:
        src = f"{a}.fill_({g.scalar()})"
    elif k == 5:
        src = f"F.{r.choice(['relu', 'hardtanh', 'leaky_relu', 'elu', 'threshold'])}({a}, inplace=True)"
        if "threshold" in src:
            src = src.replace("inplace", "0.1, 2.0, inplace")
    else:
        src = f"{a}.masked_fill_({a} > 0, {g.scalar()})"
    return Stmt(src, a, "kink")


def cast(g: Gen) -> Stmt:
    r = g.r
    a = g.t()
    to = r.choice(["float", "double", "half", "long", "int", "bool"] + [f"to(L.{x})" for x in ("float32", "float64", "int64", "bool")])
    src = f"{a}.{to}" + ("" if to.startswith("to") else "()")
    if r.random() < 0.2:
        src = f"{a}.type_as({g.t()})"
    return g.define(src, "disc" if any(x in src for x in ("long", "int", "bool", "type_as")) else "")


def activation(g: Gen) -> Stmt:
    r = g.r
    a = g.ft()
    op = r.choice(ACT + ["softmax", "log_softmax", "softmin", "normalize", "glu", "prelu", "dropout"])
    if op in ("softmax", "log_softmax", "softmin"):
        return g.define(f"F.{op}({a}, {g.dim(a)})")
    if op == "normalize":
        return g.define(f"F.normalize({a}, p={r.choice([1, 2])}, dim={g.dim(a)})")
    if op == "glu":
        return g.define(f"F.glu({a}, {g.dim(a)})")
    if op == "prelu":
        c = g.env[a].shape[1] if g.env[a].dim() > 1 else 1
        return g.define(f"F.prelu({a}, {g.new([r.choice([1, c])], str(g.env[a].dtype)[6:])})", "kink")
    if op == "dropout":
        return g.define(f"F.dropout({a}, p={r.choice(['0.0', '0.5'])}, training=False)")
    kw = {"elu": "alpha=0.5", "celu": "alpha=2.0", "gelu": "approximate='tanh'", "softplus": "beta=2, threshold=3",
          "leaky_relu": "0.2", "hardtanh": "-0.5, 1.5", "hardshrink": "0.7", "softshrink": "0.3"}.get(op, "")
    return g.define(f"F.{op}({a}{', ' + kw if kw and r.random() < 0.5 else ''})", _flag(op))


def loss(g: Gen) -> Stmt:
    r = g.r
    a = g.ft()
    v = g.env[a]
    red = f", reduction={r.choice(['mean', 'sum', 'none'])!r}"
    op = r.choice(["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "bce_logits", "cross_entropy", "nll_loss", "kl_div",
                   "cosine_similarity", "pairwise_distance"])
    if op in ("cross_entropy", "nll_loss"):
        shape = list(v.shape)
        c = shape[1] if len(shape) > 1 else (shape[0] if shape else 1)
        tshape = shape[:1] + shape[2:] if len(shape) > 1 else []
        t = g.new(tshape, "int64", False, 0 if r.random() < 0.9 else -1, max(c, 1))
        extra = r.choice(["", ", ignore_index=0", ", label_smoothing=0.1"]) if op == "cross_entropy" else r.choice(["", ", ignore_index=1"])
        inp = a if op == "cross_entropy" else f"F.log_softmax({a}, {1 if len(shape) > 1 else 0})"
        return g.define(f"F.{op}({inp}, {t}{extra}{red})")
    b = g.new(list(v.shape) if r.random() < 0.9 else g.shape(list(v.shape)), str(v.dtype)[6:])
    if op == "bce_logits":
        return g.define(f"F.binary_cross_entropy_with_logits({a}, {b}.sigmoid(){red})")
    if op == "kl_div":
        return g.define(f"F.kl_div(F.log_softmax({a}, -1), F.softmax({b}, -1){red})")
    if op == "cosine_similarity":
        return g.define(f"F.cosine_similarity({a}, {b}, dim={g.dim(a)})")
    if op == "pairwise_distance":
        return g.define(f"F.pairwise_distance({a}, {b})")
    return g.define(f"F.{op}({a}, {b}{red})", _flag(op))


def layer(g: Gen) -> Stmt:
    """linear, layer_norm, conv and pooling, with their own weight inputs."""
    r = g.r
    a = g.ft()
    v = g.env[a]
    dt = str(v.dtype)[6:]
    shape = list(v.shape)
    last = shape[-1] if shape else 1
    k = r.randrange(5)
    if k == 0:
        o = r.choice([1, 2, 3])
        bias = f", {g.new([o], dt)}" if r.random() < 0.6 else ""
        return g.define(f"F.linear({a}, {g.new([o, last], dt)}{bias})")
    if k == 1:
        ns = shape[-r.randint(1, 2):] if shape else []
        w = f", {g.new(ns, dt)}, {g.new(ns, dt)}" if r.random() < 0.5 else ""
        return g.define(f"F.layer_norm({a}, {tuple(ns)}{w})")
    if k == 2:
        if len(shape) not in (3, 4):
            return None
        nd = len(shape) - 2
        c = shape[1]
        w = g.new([r.choice([1, 2]), c] + [r.choice([1, 2, 3])] * nd, dt)
        opts = r.choice(["", ", stride=2", ", padding=1", ", dilation=2", ", padding='same'"])
        return g.define(f"F.conv{nd}d({a}, {w}{opts})")
    if k == 3:
        if len(shape) not in (3, 4):
            return None
        nd = len(shape) - 2
        op = r.choice(["max_pool", "avg_pool"])
        opts = r.choice(["", ", stride=1", ", padding=1", ", ceil_mode=True"])
        return g.define(f"F.{op}{nd}d({a}, {r.choice([1, 2, 3])}{opts})", "kink" if op == "max_pool" else "")
    pad = ", ".join(str(r.choice([0, 1, 2])) for _ in range(2 * r.randint(1, 2)))
    mode = r.choice(["", ", value=1.5", ", mode='reflect'", ", mode='replicate'"])
    return g.define(f"F.pad({a}, ({pad}){mode})")


def linalg(g: Gen) -> Stmt:
    r = g.r
    a = g.ft()
    v = g.env[a]
    dt = str(v.dtype)[6:]
    shape = list(v.shape)
    k = r.randrange(6)
    if k == 0:
        b = g.new(shape[:-2] + ([shape[-1], r.choice([1, 2, 3])] if shape else []) if r.random() < 0.8 else g.shape(), dt)
        return g.define(f"L.matmul({a}, {b})")
    if k == 1:
        return g.define(f"L.outer({a}, {g.ft()})" if r.random() < 0.5 else f"L.dot({a}, {g.ft()})")
    if k == 2:
        return g.define(f"L.trace({a})" if r.random() < 0.5 else f"L.einsum('ij->j', {a})")
    if k == 3:
        return g.define(f"L.linalg.vector_norm({a}, {r.choice([2, 1, 3])}, dim={g.dim(a)})", "kink")
    if k == 4:
        return g.define(f"L.{r.choice(['zeros_like', 'ones_like'])}({a}) + {a}")
    return g.define(f"L.addmm({g.new([shape[0] if shape else 1, 1], dt)}, {a}, {g.new([shape[-1] if shape else 1, 2], dt)})")


TEMPLATES: list[tuple[int, Callable[[Gen], Stmt | None]]] = [
    (10, unary), (8, binary), (8, operator), (4, ternary), (9, reduction), (11, view), (8, indexing), (9, inplace),
    (3, cast), (8, activation), (4, loss), (4, layer), (3, linalg),
]


def pick_template(r: random.Random) -> Callable[[Gen], Stmt | None]:
    return r.choices([t for _, t in TEMPLATES], [w for w, _ in TEMPLATES])[0]
