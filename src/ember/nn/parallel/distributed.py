"""``DistributedDataParallel``: one model replica per process, gradients averaged across processes.

At wrap, rank 0's parameters and buffers are broadcast so every replica starts equal. Parameters are
grouped into buckets of about ``bucket_cap_mb`` (in reverse registration order, roughly the order
backward produces their gradients; the first bucket is capped at 1 MiB so communication starts
early). A post-accumulate-grad hook on each parameter counts it ready; when a bucket is full its
gradients are flattened, divided by the world size and handed to MPI's non-blocking all-reduce
while backward goes on computing the earlier layers' gradients. Buckets start strictly in order, so
every rank issues the same collectives in the same order. When the last bucket has started, the
hook waits for all of them and writes the averaged gradients back into each ``.grad``: by the time
``loss.backward()`` returns, the gradients are the same on every rank.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Iterator

import numpy as np

from ..._tensor import Tensor, _new
from ...autograd import grad_mode
from ...autograd.graph import AccumulateGrad
from ...distributed import _mpi
from ...distributed.distributed_c10d import ProcessGroup, _default
from ..modules.module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024
_UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This error indicates "
    "that your module has parameters that were not used in producing loss. You can enable unused parameter "
    "detection by passing the keyword argument `find_unused_parameters=True` to "
    "`ember.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs participate "
    "in calculating loss.")


class _Bucket:
    """Parameters whose gradients travel together in one flat array and one all-reduce."""

    def __init__(self, params: list, dtype: np.dtype) -> None:
        self.params = params
        self.sizes = [p._data.size for p in params]
        self.offsets = list(np.cumsum([0] + self.sizes[:-1]))
        self.dtype = dtype
        self.flat: np.ndarray | None = None
        self.request: Any = None


def _assign_buckets(params: list, cap_bytes: int, first_cap_bytes: int) -> list[_Bucket]:
    """Group ``params`` (already in reverse order) by dtype into buckets of about ``cap_bytes``."""
    buckets: list[_Bucket] = []
    open_: dict[np.dtype, tuple[list, int]] = {}
    for p in params:
        dt = p._data.dtype
        members, nbytes = open_.get(dt, ([], 0))
        members.append(p)
        nbytes += p._data.nbytes
        limit = first_cap_bytes if not buckets else cap_bytes
        if nbytes >= limit:
            buckets.append(_Bucket(members, dt))
            members, nbytes = [], 0
        open_[dt] = (members, nbytes)
    buckets.extend(_Bucket(members, dt) for dt, (members, _) in open_.items() if members)
    return buckets


def _reachable_leaves(outputs: Any) -> set[int]:
    """ids of the leaf tensors the autograd graph behind ``outputs`` reaches (find_unused_parameters)."""
    stack, seen, leaves = [], set(), set()

    def collect(o: Any) -> None:
        if isinstance(o, Tensor):
            if o.grad_fn is not None:
                stack.append(o.grad_fn)
            elif o.requires_grad:
                leaves.add(id(o))
        elif isinstance(o, (list, tuple)):
            for x in o:
                collect(x)
        elif isinstance(o, dict):
            for x in o.values():
                collect(x)

    collect(outputs)
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if type(node) is AccumulateGrad:
            leaves.add(id(node.variable))
        stack.extend(n for n, _ in node.next_functions)
    return leaves


class DistributedDataParallel(Module):
    """Data parallelism across processes: wrap the model in each rank; backward averages gradients.

    ``process_group``: the group to average over (the default group when None). ``bucket_cap_mb``:
    the bucket size (25 MiB by default). ``forward_sync_buffers`` (torch 2.13's name for the
    deprecated ``broadcast_buffers``): re-broadcast rank 0's buffers (such as BatchNorm's running
    statistics) before each forward. ``find_unused_parameters``: search the
    output's graph for parameters that take no part, so backward need not wait for them.
    ``state_dict()`` keys carry the ``module.`` prefix, as torch's do; save ``ddp.module.state_dict()``
    for a checkpoint that loads into the bare model.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0,
                 broadcast_buffers: bool | None = None, init_sync: bool = True, process_group: ProcessGroup | None = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 delay_all_reduce_named_params: Any = None, param_to_hook_all_reduce: Any = None,
                 mixed_precision: Any = None, device_mesh: Any = None, skip_all_reduce_unused_params: bool = False,
                 bucket_cap_mb_list: Any = None, batched_grad_copy: bool = False,
                 forward_sync_buffers: bool | None = None) -> None:
        super().__init__()
        for name, value in (("mixed_precision", mixed_precision), ("device_mesh", device_mesh),
                            ("delay_all_reduce_named_params", delay_all_reduce_named_params),
                            ("bucket_cap_mb_list", bucket_cap_mb_list)):
            if value is not None:
                raise NotImplementedError(f"ember does not implement torch.nn.parallel.DistributedDataParallel's {name}")
        if not any(p.requires_grad for p in module.parameters()):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        self.module = module
        self.process_group = process_group if process_group is not None else _default()
        # torch 2.13: forward_sync_buffers replaces broadcast_buffers, which (False) also skipped the
        # buffers' broadcast at wrap
        sync_buffers_at_wrap = True
        if broadcast_buffers is not None:
            warnings.warn("`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead"
                          + (" (its value is ignored when `forward_sync_buffers` is given)." if forward_sync_buffers is not None
                             else "; unlike `broadcast_buffers=False`, `forward_sync_buffers=False` still syncs buffers at init."),
                          FutureWarning, stacklevel=2)
            if forward_sync_buffers is None:
                sync_buffers_at_wrap = broadcast_buffers
        self.forward_sync_buffers = forward_sync_buffers if forward_sync_buffers is not None else (
            broadcast_buffers if broadcast_buffers is not None else True)
        self.broadcast_buffers = self.forward_sync_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.static_graph = static_graph
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        first = _FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        params = [p for p in module.parameters() if p.requires_grad]
        self._verify_same_model(params)
        if init_sync:
            self._broadcast_arrays(list(module.parameters()) + (list(module.buffers()) if sync_buffers_at_wrap else []))
        self._buckets = _assign_buckets(params[::-1], self.bucket_bytes_cap, first)
        self._where = {id(p): i for i, b in enumerate(self._buckets) for p in b.params}
        self._expect_hooks = False
        self._require_finalize = False
        self._pending: list[int] = []
        self._next = 0
        self._marked: set[int] = set()
        self._used = np.zeros(len(params), np.int32)
        self._index = {id(p): i for i, p in enumerate(params)}
        self._handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]

    # -- construction ---------------------------------------------------------------------------
    def _verify_same_model(self, params: list) -> None:
        comm = self.process_group._comm
        mine = [(tuple(p._data.shape), p._data.dtype.name) for p in params]
        everyone = comm.allgather(mine)
        for rank, theirs in zip(self.process_group._ranks, everyone):
            if theirs != everyone[0]:
                raise RuntimeError(f"DDP expects same model across all ranks, but rank {rank} has {len(theirs)} params "
                                   f"(shapes {[list(s) for s, _ in theirs]}) while rank {self.process_group._ranks[0]} has "
                                   f"{len(everyone[0])} (shapes {[list(s) for s, _ in everyone[0]]}).")

    def _broadcast_arrays(self, tensors: list) -> None:
        """Overwrite ``tensors`` with rank 0's values, one flat broadcast per dtype."""
        by_dtype: dict[np.dtype, list] = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        comm = self.process_group._comm
        for group in by_dtype.values():
            flat, _ = _mpi.wire_array(np.concatenate([t._data.ravel() for t in group]))
            comm.Bcast(flat, 0)
            offset = 0
            for t in group:
                n = t._data.size
                t._data[...] = flat[offset:offset + n].reshape(t._data.shape)
                t._vc[0] += 1
                offset += n

    # -- forward --------------------------------------------------------------------------------
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """Run the wrapped module; with gradients enabled, the next backward averages its gradients."""
        prepare = self._pre_forward(grad_mode.is_grad_enabled())
        out = self.module(*inputs, **kwargs)
        if prepare and self.find_unused_parameters:
            reached = _reachable_leaves(out)
            for b in self._buckets:
                for p in b.params:
                    if id(p) not in reached:
                        self._pending[self._where[id(p)]] -= 1
            # buckets with nothing to wait for start when their turn comes (after a hook); a graph
            # that reaches no parameter at all leaves nothing to average
            if not any(self._pending):
                self._expect_hooks = False
        return out

    def _pre_forward(self, grad_enabled: bool) -> bool:
        """What a forward does before the module runs: the buffers' broadcast, and (when the next
        backward averages, returned) the reducer's state for it. (ember.compile replays this call.)"""
        if self._require_finalize:
            raise RuntimeError(_UNFINISHED)
        if self.forward_sync_buffers and self.process_group.size() > 1:
            buffers = list(self.module.buffers())
            if buffers:
                self._broadcast_arrays(buffers)
        prepare = grad_enabled and self.require_backward_grad_sync
        self._expect_hooks = False              # a forward without a sync (no_sync, no_grad) reduces nothing
        if prepare:
            self._expect_hooks = True
            self._pending = [len(b.params) for b in self._buckets]
            self._next = 0
            self._marked = set()
            self._used[:] = 0
        return prepare

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside this block, backward accumulates gradients locally without averaging them; the first
        backward after it averages the sum."""
        saved = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = saved

    def register_comm_hook(self, state: Any, hook: Any) -> None:
        """Not available: ember's DDP always averages with its own all-reduce."""
        raise NotImplementedError("ember does not implement torch.nn.parallel.DistributedDataParallel.register_comm_hook")

    def join(self, *args: Any, **kwargs: Any) -> Any:
        """Not available: every rank must run the same number of steps (uneven inputs are not handled)."""
        raise NotImplementedError("ember does not implement torch.nn.parallel.DistributedDataParallel.join")

    # -- backward -------------------------------------------------------------------------------
    def _grad_ready(self, param: Any) -> None:
        if not self._expect_hooks:
            return
        key = id(param)
        if key in self._marked:
            raise RuntimeError("Expected to mark a variable ready only once. This error is caused by one of the "
                               "following reasons: 1) Use of a module parameter outside the `forward` function, or "
                               "2) backward run twice on one forward's graph (retain_graph=True).")
        self._marked.add(key)
        self._used[self._index[key]] = 1
        self._require_finalize = True
        self._pending[self._where[key]] -= 1
        while self._next < len(self._buckets) and self._pending[self._next] == 0:
            self._launch(self._buckets[self._next])
            self._next += 1
        if self._next == len(self._buckets):
            self._finalize()

    def _launch(self, bucket: _Bucket) -> None:
        MPI = _mpi.require()
        flat = np.zeros(sum(bucket.sizes), _mpi.wire_array(np.empty(0, bucket.dtype))[0].dtype)
        for p, o, n in zip(bucket.params, bucket.offsets, bucket.sizes):
            if p.grad is not None:
                flat[o:o + n] = p.grad._data.ravel()
        np.divide(flat, self.process_group.size(), out=flat, casting="unsafe")
        bucket.flat = flat
        bucket.request = self.process_group._comm.Iallreduce(MPI.IN_PLACE, flat, MPI.SUM)

    def _finalize(self) -> None:
        MPI = _mpi.require()
        MPI.Request.Waitall([b.request for b in self._buckets])
        used = self._used
        if self.find_unused_parameters:
            used = used.copy()
            self.process_group._comm.Allreduce(MPI.IN_PLACE, used, MPI.MAX)
        for b in self._buckets:
            flat = b.flat
            assert flat is not None
            for p, o, n in zip(b.params, b.offsets, b.sizes):
                g = p.grad
                avg = flat[o:o + n].reshape(p._data.shape)
                if g is None:
                    if used[self._index[id(p)]]:  # unused here, used elsewhere: its average still counts
                        p.grad = _new(avg.astype(b.dtype))
                elif g._data.flags.writeable:
                    g._data[...] = avg
                    g._vc[0] += 1
                else:
                    p.grad = _new(avg.astype(b.dtype))
            b.flat = b.request = None
        self._expect_hooks = False
        self._require_finalize = False
