"""Run under mpiexec: every collective on ember tensors against the same computation in NumPy.

Each rank knows every rank's input (a function of the rank), so it computes the expected result
itself. The outcome of each check is gathered to rank 0, which writes them as JSON to argv[1].
"""

from __future__ import annotations

import json
import sys
import traceback

import numpy as np

import ember
import ember.distributed as dist

dist.init_process_group("gloo")
R, N = dist.get_rank(), dist.get_world_size()


def data(rank: int, shape: tuple = (3, 4), dtype: str = "float32") -> np.ndarray:
    """Rank ``rank``'s input: distinct values per rank, exactly representable."""
    return (np.arange(np.prod(shape)).reshape(shape) * (rank + 1) - rank * 2.5).astype(dtype)


def everyone(shape: tuple = (3, 4), dtype: str = "float32") -> np.ndarray:
    return np.stack([data(r, shape, dtype) for r in range(N)])


def t(a: np.ndarray) -> ember.Tensor:
    return ember.tensor(a)


def same(got: ember.Tensor, want: np.ndarray, exact: bool = True) -> None:
    g = got.numpy()
    assert g.dtype == want.dtype, (g.dtype, want.dtype)
    assert g.shape == want.shape, (g.shape, want.shape)
    if exact:
        np.testing.assert_array_equal(g, want)
    else:
        np.testing.assert_allclose(g, want, rtol=1e-6)


def check_all_reduce_sum() -> None:
    x = t(data(R))
    assert dist.all_reduce(x) is None
    same(x, everyone().sum(0))


def check_all_reduce_avg() -> None:
    x = t(data(R))
    dist.all_reduce(x, op=dist.ReduceOp.AVG)
    same(x, (everyone().sum(0) / np.float32(N)).astype(np.float32), exact=False)


def check_all_reduce_max_min_product() -> None:
    for op, f in ((dist.ReduceOp.MAX, np.max), (dist.ReduceOp.MIN, np.min), (dist.ReduceOp.PRODUCT, np.prod)):
        x = t(data(R))
        dist.all_reduce(x, op=op)
        same(x, f(everyone(), axis=0))


def check_all_reduce_int64_and_bitwise() -> None:
    x = t(data(R, (5,), "int64"))
    dist.all_reduce(x)
    same(x, everyone((5,), "int64").sum(0))
    x = t(data(R, (5,), "int64"))
    dist.all_reduce(x, op=dist.ReduceOp.BXOR)
    same(x, np.bitwise_xor.reduce(everyone((5,), "int64"), axis=0))


def check_all_reduce_bool_float64_float16() -> None:
    b = t(np.array([R == 0, False, True]))
    dist.all_reduce(b)                       # torch's SUM on bool is a logical or
    same(b, np.array([True, False, True]))
    d = t(data(R, (2, 2), "float64"))
    dist.all_reduce(d)
    same(d, everyone((2, 2), "float64").sum(0))
    h = t(data(R, (4,), "float16"))
    dist.all_reduce(h)
    same(h, everyone((4,), "float16").astype(np.float32).sum(0).astype(np.float16))


def check_all_reduce_in_place_on_a_view() -> None:
    base = t(data(R, (4, 3)))
    view = base.t()                          # not contiguous: the result must land in base
    dist.all_reduce(view)
    same(base, everyone((4, 3)).sum(0))
    same(view, everyone((4, 3)).sum(0).T.copy())


def check_all_reduce_async() -> None:
    x = t(data(R))
    work = dist.all_reduce(x, async_op=True)
    assert work is not None
    assert work.wait() is True
    assert work.is_completed()
    same(x, everyone().sum(0))


def check_broadcast() -> None:
    for src in range(N):
        x = t(data(R))
        dist.broadcast(x, src=src)
        same(x, data(src))


def check_reduce() -> None:
    x = t(data(R))
    dist.reduce(x, dst=N - 1, op=dist.ReduceOp.MAX)
    same(x, everyone().max(0) if R == N - 1 else data(R))


def check_all_gather() -> None:
    outs = [ember.zeros(3, 4) for _ in range(N)]
    dist.all_gather(outs, t(data(R)))
    for r in range(N):
        same(outs[r], data(r))


def check_all_gather_into_tensor() -> None:
    cat = ember.zeros(3 * N, 4)
    dist.all_gather_into_tensor(cat, t(data(R)))
    same(cat, np.concatenate([data(r) for r in range(N)]))
    stacked = ember.zeros(N, 3, 4)
    dist.all_gather_into_tensor(stacked, t(data(R)))
    same(stacked, everyone())


def check_reduce_scatter() -> None:
    out = ember.zeros(3, 4)
    dist.reduce_scatter(out, [t(data(R * 10 + i)) for i in range(N)])
    same(out, sum(data(r * 10 + R) for r in range(N)))


def check_reduce_scatter_tensor() -> None:
    out = ember.zeros(2, 4)
    big = data(R, (2 * N, 4))
    dist.reduce_scatter_tensor(out, t(big), op=dist.ReduceOp.SUM)
    same(out, everyone((2 * N, 4)).sum(0)[2 * R:2 * R + 2])


def check_gather() -> None:
    dst = N - 1
    outs = [ember.zeros(3, 4) for _ in range(N)] if R == dst else None
    dist.gather(t(data(R)), outs, dst=dst)
    if R == dst:
        for r in range(N):
            same(outs[r], data(r))


def check_scatter() -> None:
    x = ember.zeros(3, 4)
    dist.scatter(x, [t(data(r + 7)) for r in range(N)] if R == 0 else None, src=0)
    same(x, data(R + 7))


def check_send_recv() -> None:
    nxt, prev = (R + 1) % N, (R - 1) % N
    if R % 2 == 0:
        dist.send(t(data(R)), dst=nxt)
        x = ember.zeros(3, 4)
        assert dist.recv(x, src=prev) == prev
    else:
        x = ember.zeros(3, 4)
        assert dist.recv(x) == prev           # from any source
        dist.send(t(data(R)), dst=nxt)
    same(x, data(prev))


def check_isend_irecv() -> None:
    nxt, prev = (R + 1) % N, (R - 1) % N
    x = ember.zeros(3, 4)
    works = [dist.irecv(x, src=prev, tag=5), dist.isend(t(data(R)), dst=nxt, tag=5)]
    for w in works:
        w.wait()
        assert w.is_completed()
    same(x, data(prev))


def check_object_collectives() -> None:
    objs = [None] * N
    dist.all_gather_object(objs, {"rank": R, "name": f"r{R}"})
    assert objs == [{"rank": r, "name": f"r{r}"} for r in range(N)], objs
    lst = ["mine", R] if R == 1 else [None, None]
    dist.broadcast_object_list(lst, src=1)
    assert lst == ["mine", 1], lst


def check_new_group() -> None:
    sub = dist.new_group([0, N - 1])
    x = t(data(R))
    if R in (0, N - 1):
        assert dist.get_rank(sub) == (0 if R == 0 else 1) and dist.get_world_size(sub) == 2
        dist.all_reduce(x, group=sub)
        same(x, data(0) + data(N - 1))
    else:
        assert dist.get_rank(sub) == -1 and dist.get_world_size(sub) == -1
    dist.barrier()


def check_all_to_all_single_even() -> None:
    inp = data(R, (2 * N, 3))                  # rows 2j, 2j+1 go to rank j
    out = ember.zeros(2 * N, 3)
    dist.all_to_all_single(out, t(inp))
    same(out, np.concatenate([data(j, (2 * N, 3))[2 * R:2 * R + 2] for j in range(N)]))


def check_all_to_all_single_uneven() -> None:
    # rank j sends (i + j + 1) rows to rank i
    sizes_in = [i + R + 1 for i in range(N)]
    sizes_out = [R + j + 1 for j in range(N)]
    inp = data(R, (sum(sizes_in), 2))
    out = ember.zeros(sum(sizes_out), 2)
    dist.all_to_all_single(out, t(inp), output_split_sizes=sizes_out, input_split_sizes=sizes_in)
    pieces = []
    for j in range(N):
        theirs = [i + j + 1 for i in range(N)]
        start = sum(theirs[:R])
        pieces.append(data(j, (sum(theirs), 2))[start:start + theirs[R]])
    same(out, np.concatenate(pieces))


def check_all_to_all() -> None:
    ins = [t(data(R * N + i, (i + 1,))) for i in range(N)]
    outs = [ember.zeros(R + 1) for _ in range(N)]
    dist.all_to_all(outs, ins)
    for j in range(N):
        same(outs[j], data(j * N + R, (R + 1,)))


def check_batch_isend_irecv() -> None:
    nxt, prev = (R + 1) % N, (R - 1) % N
    x = ember.zeros(3, 4)
    ops = [dist.P2POp(dist.isend, t(data(R)), nxt), dist.P2POp(dist.irecv, x, prev)]
    for w in dist.batch_isend_irecv(ops):
        w.wait()
    same(x, data(prev))


def check_barrier() -> None:
    assert dist.barrier() is None
    dist.barrier(async_op=True).wait()


def main() -> None:
    results = {}
    for name, fn in sorted((k, v) for k, v in globals().items() if k.startswith("check_")):
        try:
            fn()
            results[name[6:]] = "ok"
        except Exception:  # noqa: BLE001  (reported per check, per rank)
            results[name[6:]] = f"rank {R}: {traceback.format_exc()}"
        dist.barrier()
    gathered = [None] * N
    dist.all_gather_object(gathered, results)
    if R == 0:
        merged = {k: "; ".join(r[k] for r in gathered if r[k] != "ok") or "ok" for k in results}
        with open(sys.argv[1], "w") as f:
            json.dump(merged, f)
    dist.destroy_process_group()


main()
