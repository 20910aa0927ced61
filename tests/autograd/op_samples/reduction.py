"""Reductions, scans, sorting and selection, statistics."""

from __future__ import annotations

from ._spec import D, N, P, S

_CDIST2 = "torch does not implement the derivative of _cdist_backward"

SAMPLES = [
    S("sum", lambda m, x: x.sum(), N(2, 3), N()),
    S("sum_dim", lambda m, x: x.sum((0, 2), keepdim=True), N(2, 3, 2), N(1, 1, 1)),
    S("sum_dim_int", lambda m, x: x.sum(-1), N(2, 3), N(1)),
    S("nansum", lambda m, x: m.nansum(x, 1), N(2, 3), N(1, 1)),
    S("mean", lambda m, x: x.mean(), N(2, 3), N()),
    S("mean_dim", lambda m, x: x.mean(1, keepdim=True), N(2, 3), N(1, 1)),
    S("prod", lambda m, x: x.prod(), N(2, 3), N(1)),
    S("prod_dim", lambda m, x: x.prod(1), N(2, 3), N(3, 1)),
    S("max", lambda m, x: x.max(), D(2, 3), D(1)),
    S("min", lambda m, x: x.min(), D(2, 3), D(1)),
    S("max_dim", lambda m, x: x.max(1), D(2, 3), D(1, 2)),
    S("min_dim", lambda m, x: x.min(1, keepdim=True), D(2, 3), D(1, 1)),
    S("amax", lambda m, x: x.amax(-1), D(2, 3), D(1)),
    S("amin", lambda m, x: x.amin((0, 1)), D(2, 3), D(1, 1)),
    S("aminmax", lambda m, x: m.aminmax(x, dim=1), D(2, 3), D(3, 1)),
    S("median", lambda m, x: x.median(), D(2, 3), D(1)),
    S("median_dim", lambda m, x: x.median(1), D(2, 3), D(2, 1)),
    S("nanmedian", lambda m, x: x.nanmedian(), D(2, 3), D(1)),
    S("nanmedian_dim", lambda m, x: x.nanmedian(1), D(2, 3)),
    S("mode", lambda m, x: x.mode(1), D(2, 3), D(1, 2)),
    S("kthvalue", lambda m, x: x.kthvalue(2, 1), D(2, 3), D(1, 2)),
    S("sort", lambda m, x: x.sort(-1, descending=True), D(2, 3), D(1)),
    S("topk", lambda m, x: x.topk(2, 1), D(2, 3), D(1, 3)),
    S("logsumexp", lambda m, x: x.logsumexp(-1), N(2, 3), N(1)),
    S("softmax", lambda m, x: x.softmax(1), N(2, 3), N(1, 1)),
    S("log_softmax", lambda m, x: x.log_softmax(0), N(2, 3), N(1)),
    S("var", lambda m, x: x.var(1), N(2, 3), N(3, 4)),
    S("var_all", lambda m, x: x.var(correction=0), N(2, 3), N(1)),
    S("std", lambda m, x: x.std(1), N(2, 3), N(1, 3)),
    S("std_all", lambda m, x: x.std(), N(4)),
    S("var_mean", lambda m, x: m.var_mean(x, 1), N(2, 3), N(1, 3)),
    S("std_mean", lambda m, x: m.std_mean(x, 0, correction=0), N(2, 3), N(3, 1)),
    S("vector_norm", lambda m, x: m.linalg.vector_norm(x), N(2, 3), N(1)),
    S("vector_norm_p", lambda m, x: m.linalg.vector_norm(x, 3, dim=1), N(2, 3), N(1, 1)),
    S("vector_norm_inf", lambda m, x: m.linalg.vector_norm(x, float("inf"), dim=1), D(2, 3)),
    S("norm_p", lambda m, x: m.norm(x, 3), N(2, 3), N(1)),
    S("norm_fro_dim", lambda m, x: m.norm(x, dim=1), N(2, 3), N(1, 2)),
    S("dist", lambda m, a, b: m.dist(a, b), (N(2, 3), N(2, 3)), (N(2, 3), N(3))),
    S("dist_p", lambda m, a, b: m.dist(a, b, 3), (N(2, 3), N(2, 3)), (N(3), N(1))),
    S("cumsum", lambda m, x: x.cumsum(-1), N(2, 3), N(1)),
    S("cumprod", lambda m, x: x.cumprod(-1), N(2, 3), N(1)),
    S("cummax", lambda m, x: m.cummax(x, 1), D(2, 3), D(1, 2)),
    S("cummin", lambda m, x: m.cummin(x, 0), D(3, 2), D(1)),
    S("logcumsumexp", lambda m, x: m.logcumsumexp(x, -1), N(2, 3), N(1)),
    S("quantile", lambda m, x: m.quantile(x, 0.3, dim=1), D(2, 4), D(1, 2)),
    S("quantile_all", lambda m, x: m.quantile(x, m.tensor([0.25, 0.5], dtype=m.float64)), D(2, 3)),
    S("trapezoid", lambda m, y: m.trapezoid(y, dx=0.5), N(2, 3), N(1, 2)),
    S("trapezoid_x", lambda m, y, x: m.trapezoid(y, x), (N(2, 3), N(3))),
    S("cumulative_trapezoid_x", lambda m, y, x: m.cumulative_trapezoid(y, x), (N(2, 3), N(3))),
    S("ndtr", lambda m, x: m.special.ndtr(x), N(2, 3), N()),
    S("cdist", lambda m, a, b: m.cdist(a, b), (N(3, 2), N(4, 2)), (N(2, 2, 3), N(2, 1, 3)), double=_CDIST2),
    S("cdist_p1", lambda m, a, b: m.cdist(a, b, p=1.0), (N(3, 2), N(4, 2)), double=_CDIST2),
    S("renorm", lambda m, x: m.renorm(x, 2, 0, 1.0), P(3, 2), P(1, 3)),
]

EXEMPT = {
    "CdistBackwardBackward0": _CDIST2,
    "Unique2Backward0": "unique: not differentiable in torch (the derivative for '_unique2' is not implemented)",
    "UniqueConsecutiveBackward0": "unique_consecutive: not differentiable in torch",
}
