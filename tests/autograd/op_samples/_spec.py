"""What a sample call of the op table is: a callable run once with ``m=ember`` and once with
``m=torch``, and the inputs to run it on (made from NumPy arrays, so both libraries see the same
numbers).

Input makers say the domain an op needs: ``N`` any real, ``P`` positive, ``U`` inside (-1, 1),
``WC`` well-conditioned square matrices, ``SPD`` symmetric positive definite ones, ``C`` complex;
``I``, ``B`` and ``K`` make integer, bool and float tensors that are not differentiated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Arg:
    """One input: its shape, how its values are drawn and whether it is differentiated."""

    shape: tuple
    kind: str = "normal"
    grad: bool = True
    high: int = 0  # integer inputs: values in [0, high)

    def make(self, rng: np.random.Generator) -> np.ndarray:
        s, k = self.shape, self.kind
        if k == "normal":
            return rng.standard_normal(s)
        if k == "pos":
            return rng.uniform(0.5, 2.0, s)
        if k == "unit":
            return rng.uniform(-0.9, 0.9, s)
        if k == "prob":
            return rng.uniform(0.1, 0.9, s)
        if k == "complex":
            return rng.standard_normal(s) + 1j * rng.standard_normal(s)
        if k == "wc":  # I * 3 + noise: well away from singular
            return rng.standard_normal(s) * 0.5 + 3 * np.eye(s[-1])
        if k == "spd":
            a = rng.standard_normal(s)
            return a @ np.swapaxes(a, -1, -2) + s[-1] * np.eye(s[-1])
        if k == "distinct":  # entries at least 0.1 apart (sorting, max, median: no near-ties)
            n = int(np.prod(s))
            return (rng.permutation(n) * 0.3 + rng.uniform(0, 0.1, n) - 0.15 * n).reshape(s)
        if k == "int":
            return rng.integers(0, self.high, s)
        if k == "perm":  # distinct indices along the last dim
            return np.stack([rng.permutation(self.high)[:s[-1]] for _ in range(int(np.prod(s[:-1])))]).reshape(s)
        if k == "bool":
            m = rng.random(s) < 0.5
            m.flat[0] = True
            return m
        raise ValueError(k)


def N(*shape: int) -> Arg:
    return Arg(shape)


def P(*shape: int) -> Arg:
    return Arg(shape, "pos")


def U(*shape: int) -> Arg:
    return Arg(shape, "unit")


def PR(*shape: int) -> Arg:
    """Probabilities in (0.1, 0.9)."""
    return Arg(shape, "prob")


def C(*shape: int) -> Arg:
    return Arg(shape, "complex")


def WC(*shape: int) -> Arg:
    return Arg(shape, "wc")


def SPD(*shape: int) -> Arg:
    return Arg(shape, "spd")


def D(*shape: int) -> Arg:
    return Arg(shape, "distinct")


def I(high: int, *shape: int) -> Arg:  # noqa: E743
    return Arg(shape, "int", grad=False, high=high)


def PERM(high: int, *shape: int) -> Arg:
    return Arg(shape, "perm", grad=False, high=high)


def B(*shape: int) -> Arg:
    return Arg(shape, "bool", grad=False)


def K(*shape: int, kind: str = "normal") -> Arg:
    """A float input that is not differentiated (a target, a constant)."""
    return Arg(shape, kind, grad=False)


@dataclass
class Sample:
    """``fn(m, *inputs)`` for each tuple of ``Arg`` in ``shapes``.

    ``double``: None when the second derivative is checked, else why not (torch's double backward
    not implemented). ``xfail``: check name (``gradcheck``, ``gradgradcheck``, ``torch``,
    ``requires_grad``), optionally
    ``:shape index``, to the reason and reproducer of a known bug. ``random``: forward values differ
    between libraries (samplers), only gradients are compared.
    """

    name: str
    fn: Callable
    shapes: list
    double: str | None = None
    xfail: dict = field(default_factory=dict)
    random: bool = False
    atol: float = 1e-5
    rtol: float = 1e-3
    eps: float = 1e-6


def S(name: str, fn: Callable, *shapes: tuple, **kw: object) -> Sample:
    """A sample; each positional after ``fn`` is one tuple of inputs (an ``Arg`` alone is a 1-tuple)."""
    return Sample(name, fn, [s if isinstance(s, tuple) else (s,) for s in shapes], **kw)
