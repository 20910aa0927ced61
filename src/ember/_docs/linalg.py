"""Docstrings of ``ember.linalg``'s functions whose code has none (see ``ember._docs``)."""

DOCS = {
    "cholesky_ex": """The Cholesky factor of ``A`` (lower, or upper with ``upper=True``) and an ``info`` int32 tensor:
0 where the factorisation succeeded, k > 0 where the leading k x k minor is not positive-definite.

Unlike ``cholesky`` it does not raise on failure unless ``check_errors=True``.
""",
    "inv_ex": """The inverse of the square matrix (or batch) ``A`` and an ``info`` int32 tensor, nonzero for a
singular matrix; it raises only with ``check_errors=True``.
""",
    "eigvalsh": """The eigenvalues, in ascending order, of the Hermitian (symmetric) matrix ``A``, using its lower
triangle (``UPLO='L'``) or upper triangle (``'U'``).
""",
    "matrix_power": """The square matrix (or batch) ``A`` multiplied by itself ``n`` times; ``n = 0`` gives the identity and
a negative ``n`` the power of the inverse.

>>> ember.linalg.matrix_power(ember.tensor([[1., 1.], [0., 1.]]), 3)
tensor([[1., 3.],
        [0., 1.]])
""",
}
