"""torch.func's forward-mode transforms: jvp, jacfwd, and hessian (forward over reverse).

``jvp`` runs ``func`` once on dual tensors (autograd/forward_ad.py) at a level of its own, so jvps
nest (``jacfwd(jacfwd(f))``: each level's tangent carries the outer levels' tangents) and compose
with the reverse-mode transforms (``jvp(grad(f))``: the backward formulas run on the dual tensors,
so the gradient's tangent is the Hessian-vector product).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .. import ops
from .._tensor import Tensor
from ..autograd import _forward_levels as _lv
from ..autograd.forward_ad import dual_at, unpack_at
from ..ops import creation
from . import _batched
from ._grad_transforms import _argnums_tuple, _level, _Nested, _output_and_aux, jacrev
from ._pytree import tree_flatten

_JVP = "jvp(f, primals, tangents)"


def _tensors_only(xs: list, what: str) -> None:
    if not xs:
        raise RuntimeError(f"{_JVP}: Expected {what} to be a non-empty list of Tensors.")
    for x in xs:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{_JVP}: Expected {what} to only contain Tensors, got {type(x)}")


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False, has_aux: bool = False) -> tuple:
    """``(func(*primals), J @ tangents)``: the directional derivative of ``func`` along ``tangents``,
    in one forward pass with dual tensors (``has_aux``: ``func`` returns ``(output, aux)``, and aux
    comes third).

    >>> ember.func.jvp(lambda x: x * x, (ember.tensor([1.0, 2.0]),), (ember.ones(2),))
    (tensor([1., 4.]), tensor([2., 4.]))
    """
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{_JVP}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    flat_p, rebuild = tree_flatten(primals)
    flat_t, _ = tree_flatten(tangents)
    if not isinstance(tangents, tuple) or len(tangents) != len(primals) or len(flat_t) != len(flat_p):
        raise RuntimeError(f"{_JVP}: Expected primals and tangents to have the same python structure. For example, "
                           "if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{len(primals)} and tangents with structure "
                           f"{len(tangents) if isinstance(tangents, tuple) else type(tangents)}")
    _tensors_only(flat_p, "primals")
    _tensors_only(flat_t, "tangents")
    for p, t in zip(flat_p, flat_t):
        if p.shape != t.shape:  # (torch's make_dual error)
            raise RuntimeError(
                "Trying to set a forward gradient that has a different size than that of the original Tensor, this "
                f"is not supported. Tensor is of size {list(p.shape)} while the given forward gradient is of size "
                f"{list(t.shape)}.")
    keep = _level() > 0 or any(x.requires_grad for x in flat_p + flat_t)
    lv = _lv.push(public=False)
    try:
        with _Nested():
            out = _batched.entry(func)(*rebuild([_dual(p, t, lv) for p, t in zip(flat_p, flat_t)]))
        value, aux = _output_and_aux(out, has_aux, "jvp")
        outs, rebuild_out = tree_flatten(value)
        if not outs or not all(isinstance(o, Tensor) for o in outs):
            raise RuntimeError(f"{_JVP}: expected f(*primals) to return only tensors, got unsupported type "
                               f"{type(value)}")
        tans = []
        for o in outs:
            t = _tangent(o, lv)
            tans.append(creation.zeros_like(o) if t is None else t)
    finally:
        _lv.pop(lv)
    if not keep:
        outs, tans = [o.detach() for o in outs], [t.detach() for t in tans]
    result = (rebuild_out(outs), rebuild_out(tans))
    return result + (aux,) if has_aux else result


def _dual(p: Tensor, t: Tensor, lv: _lv.Level) -> Tensor:
    """``p`` carrying ``t`` at ``lv``. Inside vmap the tangent rides the plain tensor underneath: both
    are lifted to the vmap levels either has (``vmap(jvp)`` over batched tangents, primals or both),
    the plain primal made dual, and the result batched again; the batching rules run ops on the
    physical tensors, so the tangents flow through them as through any op."""
    if type(p) is not _batched.BatchedTensor and type(t) is not _batched.BatchedTensor:
        return dual_at(p, t, lv)
    levels = sorted(set(_batched.levels_of(p)) | set(_batched.levels_of(t)))
    pp, tt = _batched.lift(p, levels), _batched.lift(t, levels)
    return _batched.rewrap(dual_at(_batched.unwrap(pp), _batched.unwrap(tt), lv), levels)


def _tangent(o: Tensor, lv: _lv.Level) -> Tensor | None:
    """The tangent ``o`` carries at ``lv`` (batched as ``o`` is, inside vmap)."""
    if type(o) is not _batched.BatchedTensor:
        return unpack_at(o, lv).tangent
    t = unpack_at(_batched.unwrap(o), lv).tangent
    return None if t is None else _batched.rewrap(t, _batched.levels_of(o))


def jacfwd(func: Callable, argnums: Any = 0, has_aux: bool = False, *, randomness: str = "error") -> Callable:
    """The Jacobian of ``func`` with respect to ``args[argnums]`` in forward mode: one ``jvp`` per
    input element (a column each); shape ``output.shape + input.shape``.

    >>> ember.func.jacfwd(lambda x: x * x)(ember.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    @functools.wraps(func)
    def wrapper(*args: Any) -> Any:
        nums = _argnums_tuple(argnums, len(args), "jacfwd")
        sub = tuple(args[a] for a in nums)

        def partial(*diff: Any) -> Any:
            full = list(args)
            for a, d in zip(nums, diff):
                full[a] = d
            return _batched.entry(func)(*full)  # (ember.sin passed as a value: vmap's dispatch while it runs)

        flat_in, rebuild_in = tree_flatten(sub)
        cols: list[list] = [[] for _ in flat_in]  # per input leaf: per element, the outputs' tangents
        first = None
        for k, x in enumerate(flat_in):
            for e in range(x.numel()):
                # (plain basis tangents of each element's shape: inside vmap, jvp lifts them to the batch)
                basis = [creation.zeros(tuple(y.shape), dtype=y.dtype) for y in flat_in]
                basis[k].view(-1)[e] = 1
                r = jvp(partial, sub, rebuild_in(basis), has_aux=has_aux)
                first = first or r
                cols[k].append(tree_flatten(r[1])[0])
        if first is None:  # (no input elements: one call for the output's shapes)
            first = jvp(partial, sub, rebuild_in([creation.zeros(tuple(y.shape), dtype=y.dtype) for y in flat_in]),
                        has_aux=has_aux)
        outs, rebuild_out = tree_flatten(first[0])
        per_out = []
        for i, o in enumerate(outs):
            leaves = [ops.stack([c[i] for c in cols[k]], -1).reshape(tuple(o.shape) + tuple(x.shape)) if cols[k]
                      else creation.zeros(*o.shape, *x.shape, dtype=o.dtype) for k, x in enumerate(flat_in)]
            blocks = rebuild_in(leaves)
            per_out.append(blocks[0] if not isinstance(argnums, tuple) else blocks)
        result = rebuild_out(per_out)
        return (result, first[2]) if has_aux else result

    return wrapper


def hessian(func: Callable, argnums: Any = 0) -> Callable:
    """The Hessian of scalar-valued ``func``: the forward-mode Jacobian of its gradient.

    >>> ember.func.hessian(lambda x: (x ** 3).sum())(ember.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)

