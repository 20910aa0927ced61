"""torch.func's reverse-mode transforms: grad, grad_and_value, vjp, jacrev (forward mode: _forward_transforms).

Each call differentiates ``func`` with ``autograd.grad`` at fresh copies of its inputs. When a
transform runs inside another (``jacrev(jacrev(f))``, ``vmap(grad(f))``) or its inputs require grad,
the graph is kept (``create_graph``), so the outer transform differentiates the inner result; at
the outermost level the results are plain tensors, as torch's are. Inside a forward-mode transform
the fresh copies keep their inputs' tangents, so ``jvp(grad(f))`` gives Hessian-vector products.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable

from .. import autograd, ops
from .._tensor import Tensor
from ..autograd import _forward_levels as _lv
from ..ops import creation
from . import _batched
from ._pytree import tree_flatten
from ._vmap import vmap

_depth = threading.local()  # how many transforms are running on this thread


def _level() -> int:
    return getattr(_depth, "n", 0)


class _Nested:
    def __enter__(self) -> None:
        _depth.n = _level() + 1

    def __exit__(self, *exc: Any) -> None:
        _depth.n = _level() - 1


def _fresh(x: Any, keep: bool) -> Any:
    """A leaf-like copy of ``x`` to differentiate at: linked to ``x`` when a graph is kept."""
    if not isinstance(x, Tensor):
        return x
    if keep and x.requires_grad:
        return x.view_as(x)
    fresh = x.detach().requires_grad_(True)
    if _lv.fw.on:  # (a dual input: its fresh copy carries the same tangents, for forward over reverse;
        # inside vmap they ride the plain tensors underneath)
        src, dst = _batched.unwrap(x), _batched.unwrap(fresh)
        for lv in _lv.visible():
            t = _lv.get(src, lv)
            if t is not None:
                _lv.put(dst, lv, t)
    return fresh


def _argnums_tuple(argnums: Any, n: int, name: str) -> tuple:
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    for a in nums:
        if not isinstance(a, int):
            raise RuntimeError(f"{name}: argnums must be int or Tuple[int, ...], got: {type(argnums)}")
        if not -n <= a < n:
            raise RuntimeError(f"Got argnum={a}, but only {n} positional inputs")
    return tuple(a % n for a in nums)


def _prepare(args: tuple, argnums: Any, name: str) -> tuple:
    nums = _argnums_tuple(argnums, len(args), name)
    keep = _level() > 0 or any(isinstance(leaf, Tensor) and leaf.requires_grad
                               for a in nums for leaf in tree_flatten(args[a])[0])
    new_args = list(args)
    diff_leaves, rebuilds = [], []
    for a in nums:
        leaves, rebuild = tree_flatten(args[a])
        if _batched.active():  # inside vmap: one gradient per batch element, also for unbatched inputs
            leaves = [_batched.lift(x) for x in leaves]
        fresh = [_fresh(x, keep) for x in leaves]
        new_args[a] = rebuild(fresh)
        diff_leaves.append(fresh)
        rebuilds.append(rebuild)
    return tuple(new_args), nums, diff_leaves, rebuilds, keep


def _output_and_aux(out: Any, has_aux: bool, name: str) -> tuple:
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{name}(f, ...)(*args): output of function f should be a tuple: (output, aux) "
                           "if has_aux is True")
    return out


def _detach_tree(tree: Any, keep: bool) -> Any:
    leaves, rebuild = tree_flatten(tree)
    return rebuild([x.detach() if isinstance(x, Tensor) and not keep else x for x in leaves])


def grad_and_value(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """A function returning ``(gradient of func w.r.t. args[argnums], func's value)``; ``func`` must
    return a scalar tensor (with ``has_aux``: ``(scalar, aux)``, and the value is ``(scalar, aux)``).

    >>> ember.func.grad_and_value(lambda x: (x * x).sum())(ember.tensor([1.0, 2.0]))
    (tensor([2., 4.]), tensor(5.))
    """
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        new_args, nums, diff_leaves, rebuilds, keep = _prepare(args, argnums, "grad_and_value")
        with _Nested(), autograd.enable_grad():
            out = _batched.entry(func)(*new_args, **kwargs)
            value, aux = _output_and_aux(out, has_aux, "grad_and_value")
            if not isinstance(value, Tensor):
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                                   f"{type(value)}")
            if value.dim() != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor "
                                   f"with {value.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
            flat = [x for leaves in diff_leaves for x in leaves]
            grads = _batched.grad([value], flat, create_graph=keep, allow_unused=True, materialize_grads=True) \
                if value.requires_grad else [ops.zeros_like(x) for x in flat]
        grads = [g if keep else g.detach() for g in grads]
        out_grads, i = [], 0
        for leaves, rebuild in zip(diff_leaves, rebuilds):
            out_grads.append(rebuild(grads[i:i + len(leaves)]))
            i += len(leaves)
        result = out_grads[0] if not isinstance(argnums, tuple) else tuple(out_grads)
        value = value if keep else value.detach()
        if has_aux:
            return result, (value, _detach_tree(aux, keep))
        return result, value

    return wrapper


def grad(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """The gradient of scalar-valued ``func`` with respect to ``args[argnums]`` (a tuple of argnums
    gives a tuple of gradients); with ``has_aux``, ``func`` returns ``(scalar, aux)`` and the result
    is ``(gradient, aux)``. Compose freely: ``vmap(grad(f))`` gives per-sample gradients.

    >>> ember.func.grad(lambda x: (x ** 3).sum())(ember.tensor([1.0, 2.0]))
    tensor([ 3., 12.])
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(func(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` returns, for each primal, the cotangents
    pulled back through ``func`` (one backward pass each call); with ``has_aux`` also ``aux``.

    >>> out, pull = ember.func.vjp(lambda x: x * 3, ember.tensor([1.0, 2.0]))
    >>> pull(ember.ones(2))
    (tensor([3., 3.]),)
    """
    new_args, _, diff_leaves, rebuilds, keep = _prepare(primals, tuple(range(len(primals))), "vjp")
    with _Nested(), autograd.enable_grad():
        out = _batched.entry(func)(*new_args)
    value, aux = _output_and_aux(out, has_aux, "vjp")
    out_leaves, _ = tree_flatten(value)
    flat_in = [x for leaves in diff_leaves for x in leaves]

    def rerun_batched(cts: list) -> tuple:
        """``func`` again, at the primals lifted to the vmap levels of ``cts`` that the outputs lack
        (``vmap(vjp_fn)``, jacrev): one batched backward then pulls back every cotangent."""
        levels = sorted({lv for c in cts for lv in _batched.levels_of(c)})
        lifted = [[_batched.lift(x, levels) for x in leaves] for leaves in diff_leaves]
        again = _batched.entry(func)(*(rebuild(xs) for rebuild, xs in zip(rebuilds, lifted)))
        return tree_flatten(_output_and_aux(again, has_aux, "vjp")[0])[0], [x for xs in lifted for x in xs]

    def vjp_fn(cotangents: Any, retain_graph: bool = True, create_graph: bool | None = None) -> tuple:
        cts, _ = tree_flatten(cotangents)
        if len(cts) != len(out_leaves):
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function. cotangents: {len(cts)} tensors, outputs: {len(out_leaves)}")
        make_graph = keep or _level() > 0 if create_graph is None else create_graph
        with _Nested(), autograd.enable_grad():
            outs, ins = out_leaves, flat_in
            if _batched.active() and _batched.more_batched(cts, out_leaves):
                outs, ins = rerun_batched(cts)
            pairs = [(o, c) for o, c in zip(outs, cts) if isinstance(o, Tensor) and o.requires_grad]
            grads = _batched.grad([o for o, _ in pairs], ins, [c for _, c in pairs], retain_graph=True,
                                  create_graph=make_graph, allow_unused=True, materialize_grads=True) \
                if pairs else [ops.zeros_like(x) for x in ins]
        grads = [g if make_graph else g.detach() for g in grads]
        out_grads, i = [], 0
        for leaves, rebuild in zip(diff_leaves, rebuilds):
            out_grads.append(rebuild(grads[i:i + len(leaves)]))
            i += len(leaves)
        return tuple(out_grads)

    shown = value if keep else _detach_tree(value, False)
    if has_aux:
        return shown, vjp_fn, _detach_tree(aux, keep)
    return shown, vjp_fn


def _jacobian(func: Callable, argnums: Any, has_aux: bool, name: str, chunk_size: int | None = None) -> Callable:
    @functools.wraps(func)
    def wrapper(*args: Any) -> Any:
        nums = _argnums_tuple(argnums, len(args), name)
        sub = [args[a] for a in nums]

        def partial(*diff: Any) -> Any:
            full = list(args)
            for a, d in zip(nums, diff):
                full[a] = d
            return _batched.entry(func)(*full)

        out = vjp(partial, *sub, has_aux=has_aux)
        value, pull = out[0], out[1]
        out_leaves, out_rebuild = tree_flatten(value)
        in_leaves = [tree_flatten(s)[0] for s in sub]
        per_out = []
        for k, o in enumerate(out_leaves):

            def pull_one(ct_k: Tensor, k: int = k) -> tuple:
                ct = [ops.zeros_like(x) for x in out_leaves]
                ct[k] = ct_k
                return pull(tuple(ct) if len(ct) > 1 else ct[0])

            # the rows of the Jacobian: vjps of the basis of the output, one batched vjp (vmap)
            basis = creation.eye(o.numel(), dtype=o.dtype).reshape(o.numel(), *o.shape)
            rows = vmap(pull_one, randomness="same", chunk_size=chunk_size)(basis) if o.numel() else None
            blocks = []
            for a in range(len(nums)):
                leaves = []
                for m, x in enumerate(in_leaves[a]):
                    col = tree_flatten(rows[a])[0][m] if rows is not None else creation.zeros(0, *x.shape, dtype=x.dtype)
                    leaves.append(col.reshape(tuple(o.shape) + tuple(x.shape)))
                blocks.append(tree_flatten(sub[a])[1](leaves))
            per_out.append(blocks[0] if not isinstance(argnums, tuple) else tuple(blocks))
        result = out_rebuild(per_out)
        return (result, out[2]) if has_aux else result

    return wrapper


def jacrev(func: Callable, argnums: Any = 0, *, has_aux: bool = False, chunk_size: int | None = None,
           _preallocate_and_copy: bool = False) -> Callable:
    """The Jacobian of ``func`` with respect to ``args[argnums]``, shape ``output.shape + input.shape``:
    the vjps of every output element at once, as ``vmap`` of a vjp (``chunk_size`` rows at a time).

    >>> ember.func.jacrev(lambda x: x * x)(ember.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    return _jacobian(func, argnums, has_aux, "jacrev", chunk_size)
