"""A PyTorch DDP script, unmodified: test_torch_script.py runs it on ember (``ember run``) on 2 ranks."""

import os

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DistributedSampler

dist.init_process_group("gloo")
rank = dist.get_rank()
torch.manual_seed(0)
model = DDP(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)))
x = torch.randn(16, 4)
mine = list(DistributedSampler(range(16), shuffle=True, seed=3))
model(x[mine]).pow(2).mean().backward()
grads = " ".join(f"{p.grad.sum().item():.7f}" for p in model.parameters())
os.write(1, f"rank {rank} indices {mine} grads {grads}\n".encode())
dist.destroy_process_group()
