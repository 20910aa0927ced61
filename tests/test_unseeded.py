"""Without manual_seed, each process draws different numbers, as torch's entropy-seeded default generator does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

import ember

SRC = str(Path(ember.__file__).resolve().parents[1])
PROBE = "import json, {m}; print(json.dumps([{m}.initial_seed(), {m}.rand(4).tolist(), {m}.Generator().initial_seed()]))"


def fresh(module: str) -> tuple[int, list[float], int]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", PROBE.format(m=module)], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    return tuple(json.loads(proc.stdout))


def test_two_fresh_processes_draw_different_numbers_like_torch():
    for module in ("torch", "ember"):
        (seed_a, draws_a, new_a), (seed_b, draws_b, new_b) = fresh(module), fresh(module)
        assert seed_a != seed_b and draws_a != draws_b, module
        assert 0 <= seed_a < 2**64 and 0 <= seed_b < 2**64
        # a Generator() made by hand still starts from the fixed default seed, in both
        assert new_a == new_b == 67280421310721


def test_the_entropy_seed_reproduces_the_stream():
    # a run's seed, read with initial_seed(), replays it in ember and in torch alike
    seed, draws, _ = fresh("ember")
    ember.manual_seed(seed)
    torch.manual_seed(seed)
    ours, theirs = ember.rand(4), torch.rand(4)
    assert ours.tolist() == draws
    assert ours.numpy().tobytes() == theirs.numpy().tobytes()


def test_initial_seed_after_manual_seed_is_that_seed():
    for s in (0, 1, 42, 2**32 + 5, 2**63 + 7, 2**64 - 1):
        ember.manual_seed(s)
        torch.manual_seed(s)
        assert ember.initial_seed() == torch.initial_seed() == s
        assert ember.rand(3).numpy().tobytes() == torch.rand(3).numpy().tobytes()


def test_seed_draws_a_new_64_bit_seed_like_torch():
    a, b = ember.seed(), ember.seed()
    assert a != b and ember.initial_seed() == b and 0 <= b < 2**64
    ember.manual_seed(b)
    torch.manual_seed(b)
    assert ember.randn(5).numpy().tobytes() == torch.randn(5).numpy().tobytes()
