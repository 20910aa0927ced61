"""Launched by test_launcher.py: prints torch's variables as the launcher set them, all-reduces, and on
request fails on rank 1 in the way argv names."""

from __future__ import annotations

import os
import signal
import sys

import ember
import ember.distributed as dist

how = sys.argv[1] if len(sys.argv) > 1 else ""
if how == "exit_before_init" and os.environ.get("RANK") == "1":
    sys.exit(3)


def say(*words: object) -> None:
    os.write(1, (" ".join(map(str, words)) + "\n").encode())   # one write per line: ranks' lines don't interleave


say("env", *(os.environ.get(k) for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")),
    *sys.argv[1:])
dist.init_process_group("gloo")
if dist.get_rank() == 1:
    if how == "raise":
        raise ValueError("rank 1 fails on purpose")
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
x = ember.ones(2)
dist.all_reduce(x)                               # the other ranks wait here for the failed one
say("sum", x.tolist())
