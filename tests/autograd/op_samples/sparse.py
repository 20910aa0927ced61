"""Sparse COO tensors: the ops whose values carry the gradient (see ember._sparse_tensor).

Each sample builds sparse tensors from differentiated values at fixed indices (one place repeated,
so coalescing sums) and returns a dense result.
"""

from __future__ import annotations

from ._spec import N, S

IDX = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]]  # (0, 2) twice: uncoalesced
IDX2 = [[1, 2, 0], [0, 1, 1]]


def _sp(m, v, idx=IDX):
    return m.sparse_coo_tensor(idx, v, (3, 3))


# torch's own limits, where ember's answer is the mathematically right one (its gradcheck and
# gradgradcheck pass): torch.sum(sparse, dim) has no backward ("expand is unsupported for Sparse
# tensors"), and a sparse x dense product's gradient w.r.t. the sparse values builds no graph under
# create_graph, so torch's second derivatives through them are 0
_SUM_DIM = "torch: backward of torch.sum(sparse, dim) raises 'expand is unsupported for Sparse tensors'"
_NO_DOUBLE = {k: "torch has no double backward through the sparse operand (its second derivative there is 0)"
              for k in ("torch", "requires_grad")}

SAMPLES = [
    S("sparse_to_dense", lambda m, v: _sp(m, v).to_dense(), N(5)),
    S("sparse_coalesce_values", lambda m, v: _sp(m, v).coalesce().values(), N(5)),
    S("sparse_to_sparse", lambda m, a: (a.to_sparse() * 2).to_dense() + a.to_sparse(1).to_dense(), N(3, 2)),
    S("sparse_transpose", lambda m, v: _sp(m, v).t().to_dense() + _sp(m, v).transpose(0, 1).to_dense(), N(5)),
    S("sparse_add_sub", lambda m, v, w: (_sp(m, v) + _sp(m, w, IDX2)).to_dense() - (_sp(m, v) - _sp(m, w, IDX2) * 2).to_dense(),
      (N(5), N(3))),
    S("sparse_sum", lambda m, v: m.sparse.sum(_sp(m, v), 0).to_dense() + m.sparse.sum(_sp(m, v), (0, 1)), N(5)),
    S("sparse_sum_dim", lambda m, v: m.sum(_sp(m, v), 1).to_dense(), N(5),
      xfail={"torch": _SUM_DIM, "requires_grad": _SUM_DIM}),
    S("sparse_mm", lambda m, v, d: m.mm(_sp(m, v), d), (N(5), N(3, 2)), xfail=_NO_DOUBLE),
    S("sparse_mm_right", lambda m, d, v: d @ _sp(m, v), (N(2, 3), N(5)), xfail=_NO_DOUBLE),
    S("sparse_addmm", lambda m, c, v, d: m.sparse.addmm(c, _sp(m, v), d, beta=0.5, alpha=2.0) + m.sparse.mm(_sp(m, v), d),
      (N(3, 2), N(5), N(3, 2)), xfail=_NO_DOUBLE),
]

EXEMPT: dict = {}
