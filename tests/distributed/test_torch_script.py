"""An unmodified PyTorch DDP script runs on ember across 2 processes (``ember run`` under the
launcher): each rank draws torch's sampler indices, and the averaged gradients equal torch's
gradient of the full batch, computed here with torch itself."""

from __future__ import annotations

import ast
import re
import sys

import pytest
import torch
from torch.utils.data import DistributedSampler

from .launch import HERE, needs_mpi, run


@needs_mpi
def test_torch_ddp_script_on_ember_gives_torchs_gradients():
    proc = run([sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", "2", "-m", "ember", "run",
                str(HERE / "torch_ddp_script.py")])
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = dict(re.findall(r"rank (\d) (indices .*)", proc.stdout))
    assert set(lines) == {"0", "1"}, proc.stdout
    # torch's own answer: the same model and batch on one process; DDP's average over two equal
    # shards is the gradient of the mean loss over the whole batch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    x = torch.randn(16, 4)
    shards = [list(DistributedSampler(range(16), num_replicas=2, rank=r, shuffle=True, seed=3)) for r in range(2)]
    sum(model(x[s]).pow(2).mean() for s in shards).div(2).backward()
    want = [p.grad.sum().item() for p in model.parameters()]
    for r in range(2):
        indices, grads = re.match(r"indices (\[.*\]) grads (.*)", lines[str(r)]).groups()
        assert ast.literal_eval(indices) == shards[r]
        assert [float(g) for g in grads.split()] == pytest.approx(want, rel=1e-5, abs=1e-6)
