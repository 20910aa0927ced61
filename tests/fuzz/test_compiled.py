"""The compiled-against-eager fuzzer (compiled.py) on a bounded sample: every program that traces
whole must replay eager's bytes (outputs, their requires_grad, every input's .grad)."""

from collections import Counter

import pytest

from .compiled import check


@pytest.mark.parametrize("inside", [True, False])  # backward() in the step, or after it on its outputs
def test_compiled_programs_replay_eagers_bytes(inside):
    got = Counter()
    bad = []
    for seed in range(1500):
        r = check(seed, inside)
        kind = r if r in ("raises", "breaks", "same") else "differs"
        got[kind] += 1
        if kind == "differs":
            bad.append(f"seed {seed}: {r}")
    assert not bad, "\n".join(bad[:20])
    assert got["same"] >= 500, got  # (the sample must exercise replays: about half the programs trace whole)
