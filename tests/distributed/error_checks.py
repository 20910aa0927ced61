"""Run under mpiexec -n 2: misuse raises torch's errors on every rank (never a hang or a wrong sum).
Prints one ``rank R: <check> ok`` line per check that behaved."""

from __future__ import annotations

import os

import ember
import ember.distributed as dist
from ember.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("gloo")
R = dist.get_rank()


def raises(kind: type, fragment: str, fn, *args, **kwargs) -> None:
    try:
        fn(*args, **kwargs)
    except kind as e:
        assert fragment in str(e), (fragment, str(e))
        return
    raise AssertionError(f"{fn.__name__} did not raise {kind.__name__}")


checks = {
    "shape": lambda: raises(RuntimeError, "rank 0: float32 [3], rank 1: float32 [4]", dist.all_reduce, ember.ones(3 + R)),
    "dtype": lambda: raises(RuntimeError, "different shapes or dtypes", dist.broadcast,
                            ember.ones(3, dtype=ember.float32 if R == 0 else ember.float64), 0),
    "gather_shape": lambda: raises(RuntimeError, "different shapes", dist.all_gather, [ember.zeros(2 + R), ember.zeros(2 + R)],
                                   ember.zeros(2 + R)),
    "second_init": lambda: raises(ValueError, "trying to initialize the default process group twice!", dist.init_process_group, "gloo"),
    "avg_int": lambda: raises(RuntimeError, "can't be cast to the desired output type Long", dist.all_reduce,
                              ember.ones(2, dtype=ember.int64), dist.ReduceOp.AVG),
    # rank 1 is not the destination yet passes a list: it raises before any message (rank 0 sends none)
    "gather_list_off_dst": lambda: R == 0 or raises(ValueError, "must NOT be specified on non-destination ranks",
                                                    dist.gather, ember.ones(2), [ember.zeros(2)] * 2, 0),
    "send_to_self": lambda: raises(ValueError, "should not be the same as the rank", dist.send, ember.ones(1), R),
    "splits": lambda: raises(RuntimeError, "split sizes do not match", dist.all_to_all_single, ember.zeros(4),
                             ember.zeros(4), [2, 2], [1, 3] if R == 0 else [2, 2]),
    "ddp_model": lambda: raises(RuntimeError, "DDP expects same model across all ranks",
                                DDP, ember.nn.Linear(2, 2 + R)),
    "list_length": lambda: raises(ValueError, "one tensor per rank", dist.all_gather, [ember.zeros(1)], ember.zeros(1)),
}


def short_recv() -> None:
    if R == 0:
        dist.send(ember.ones(2), 1)
    else:
        raises(RuntimeError, "sent 2 elements but the receiving tensor holds 5", dist.recv, ember.zeros(5), 0)


checks["short_recv"] = short_recv

for name, check in checks.items():
    check()
    dist.barrier()                           # all ranks still talk after each error
    os.write(1, f"rank {R}: {name} ok\n".encode())   # one write per line: ranks' lines don't interleave
x = ember.ones(2)
dist.all_reduce(x)                            # and collectives still work
assert x.tolist() == [2.0, 2.0]
os.write(1, f"rank {R}: still works ok\n".encode())
