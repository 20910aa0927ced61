"""API coverage report: which public names of torch, torch.nn.functional, torch.linalg and
torch.Tensor's methods ember lacks.

The missing names are printed (run with ``-s`` to read the gaps); the test fails only when a name
on the must-have list (``api_must_have.txt``: every name ember had when the list was written, plus
the ones added since) goes missing, so coverage cannot shrink silently. Regenerate the list after
adding names with ``python tests/test_api_coverage.py --write``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.linalg
import torch.nn.functional

import ember
import ember.linalg
import ember.nn.functional

MUST_HAVE = Path(__file__).with_name("api_must_have.txt")


def _public(obj: object) -> set:
    return {n for n in dir(obj) if not n.startswith("_")}


def _spaces() -> dict:
    """namespace label -> (torch object, ember object)."""
    return {"torch": (torch, ember), "torch.nn.functional": (torch.nn.functional, ember.nn.functional),
            "torch.linalg": (torch.linalg, ember.linalg), "torch.Tensor": (torch.Tensor, ember.Tensor)}


def _has(obj: object, name: str) -> bool:
    try:
        getattr(obj, name)
    except Exception:  # noqa: BLE001  (a lazy attribute that fails to load counts as missing)
        return False
    return True


def coverage() -> tuple:
    """(present, missing): sets of ``"namespace.name"`` over torch's public names."""
    present, missing = set(), set()
    for label, (t, e) in _spaces().items():
        tnames = _public(t)
        if label == "torch":  # submodules are covered by their own namespaces or tests
            tnames = {n for n in tnames if not type(getattr(t, n, None)).__name__ == "module"}
        for n in tnames:
            (present if _has(e, n) else missing).add(f"{label}.{n}")
    return present, missing


def test_api_coverage() -> None:
    present, missing = coverage()
    by_space: dict = {}
    for full in sorted(missing):
        label, _, name = full.rpartition(".")
        by_space.setdefault(label, []).append(name)
    for label, names in by_space.items():
        print(f"\n{label}: {len(names)} public names ember lacks:\n  " + " ".join(names))
    print(f"\ncovered {len(present)} of {len(present) + len(missing)} public names")
    must = {ln.strip() for ln in MUST_HAVE.read_text().splitlines() if ln.strip() and not ln.startswith("#")}
    lost = sorted(must - present)
    assert not lost, f"ember lost (or never got) must-have names: {lost}"


if __name__ == "__main__" and "--write" in sys.argv:
    have, _ = coverage()
    MUST_HAVE.write_text("# names ember must keep (see test_api_coverage.py); one namespace.name a line\n"
                         + "\n".join(sorted(have)) + "\n")
