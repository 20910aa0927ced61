"""The bad-input catalogue (tests/bad_inputs.py): every wrong call runs under torch and ember.

A case fails when torch raises and ember does not (a silent result), when ember's exception comes
out of NumPy or is not of torch's exception type, or when ember raises where torch does not.
Messages are compared modulo the library's name; the exact-match count may only go up (RATCHET).
``python tests/test_bad_input_catalogue.py`` prints every case whose message differs.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import warnings
from typing import Any, NamedTuple

import pytest
import torch

import ember

sys.path.insert(0, os.path.dirname(__file__))
from bad_inputs import CASES  # noqa: E402

ALL = [(group, code) for group, codes in CASES.items() for code in codes]
# the exact-message matches reached so far: raise it when ember's messages improve, never lower it
RATCHET = 361
TYPE_RATCHET = 370


class Outcome(NamedTuple):
    kind: str | None  # the builtin exception class the call raised (None: it returned)
    message: str
    numpy: bool  # raised from inside NumPy, or a NumPy exception type


def _builtin_kind(exc: BaseException) -> str:
    # torch raises its own subclasses (torch.OutOfMemoryError, _LinAlgError): compare the most
    # specific builtin class each exception is
    for cls in type(exc).__mro__:
        if cls.__module__ == "builtins":
            return cls.__name__
    return type(exc).__name__


def _from_numpy(exc: BaseException) -> bool:
    if type(exc).__module__.split(".")[0] == "numpy":
        return True
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and f"{os.sep}numpy{os.sep}" in tb.tb_frame.f_code.co_filename


def _namespace(lib: Any) -> dict:
    lib.manual_seed(0)
    lin = lib.nn.Linear(2, 2)
    return {"t": lib, "F": lib.nn.functional, "nn": lib.nn, "optim": lib.optim, "D": lib.utils.data,
            "x": lib.ones(2, requires_grad=True), "lin": lin, "sd": lin.state_dict()}


def run(lib: Any, code: str) -> Outcome:
    ns = _namespace(lib)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exec(compile(code, "<case>", "exec"), ns)
        except Exception as e:  # noqa: BLE001 - every exception is the observation
            return Outcome(_builtin_kind(e), str(e), _from_numpy(e))
    return Outcome(None, "", False)


def _normal(message: str) -> str:
    # a printed set's order follows string hashing, which differs between runs: sort its items
    message = re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message)
    return re.sub(r"\b[Ee]mber\b|\bTorch\b", "torch", message).strip()


@functools.cache
def outcomes(code: str) -> tuple[Outcome, Outcome]:
    return run(torch, code), run(ember, code)


@pytest.mark.parametrize("code", [c for _, c in ALL], ids=[f"{g}: {c}" for g, c in ALL])
def test_case(code: str) -> None:
    want, got = outcomes(code)
    if want.kind is None:
        assert got.kind is None, f"torch returns, ember raises {got.kind}: {got.message}"
        return
    assert got.kind is not None, f"torch raises {want.kind}({want.message!r}); ember returns silently"
    assert not got.numpy, f"ember's {got.kind} comes from NumPy: {got.message!r} (torch: {want.message!r})"
    assert got.kind == want.kind, f"torch raises {want.kind}({want.message!r}), ember {got.kind}({got.message!r})"


def counts() -> dict:
    raised = [(code, *outcomes(code)) for _, code in ALL]
    raised = [(code, w, g) for code, w, g in raised if w.kind is not None]
    same_type = [r for r in raised if r[2].kind == r[1].kind]
    exact = [r for r in same_type if _normal(r[2].message) == _normal(r[1].message)]
    return {"cases": len(ALL), "torch_raises": len(raised), "same_type": len(same_type), "exact": len(exact),
            "differing": [(c, w.message, g.message) for c, w, g in same_type if (c, w, g) not in exact]}


class _Summary:
    """A plugin registered by the ratchet test: its line ends pytest's terminal summary."""

    def __init__(self, line: str) -> None:
        self.line = line

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_line(self.line)


def test_catalogue_size_and_message_ratchet(request: pytest.FixtureRequest) -> None:
    c = counts()
    line = (f"bad-input catalogue: {c['cases']} cases, torch raises in {c['torch_raises']}; ember raises the same "
            f"type in {c['same_type']} and the same message in {c['exact']} (python tests/test_bad_input_catalogue.py lists the rest)")
    request.config.pluginmanager.register(_Summary(line), "bad-input-catalogue-summary")
    assert c["cases"] >= 150
    assert c["same_type"] >= TYPE_RATCHET
    assert c["exact"] >= RATCHET, f"exact-message matches fell to {c['exact']} (ratchet {RATCHET})"


if __name__ == "__main__":
    c = counts()
    for code, want, got in c["differing"]:
        print(f"{code}\n   torch: {want!r}\n   ember: {got!r}")
    for _, code in ALL:
        want, got = outcomes(code)
        if want.kind != got.kind or got.numpy:
            print(f"FAIL {code}\n   torch: {want}\n   ember: {got}")
    print({k: v for k, v in c.items() if k != "differing"})
