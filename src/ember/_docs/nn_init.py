"""Docstrings of ``ember.nn.init``'s functions whose code has none (see ``ember._docs``).

Every initialiser fills its tensor in place, outside autograd, and returns it.
"""

DOCS = {
    "constant_": "Fill ``tensor`` with ``val``.",
    "ones_": "Fill ``tensor`` with 1.",
    "zeros_": "Fill ``tensor`` with 0.",
    "eye_": "Fill the 2-D ``tensor`` with the identity matrix (ones on the diagonal).",
    "dirac_": """Fill the 3-, 4- or 5-D convolution weight ``tensor`` with the Dirac delta, so the convolution
passes its input through (per group, with ``groups``).
""",
    "xavier_uniform_": """Glorot initialisation: uniform on [-a, a] with ``a = gain * sqrt(6 / (fan_in + fan_out))``, which
keeps activations' variance about equal across layers.

>>> w = ember.nn.init.xavier_uniform_(ember.empty(30, 20))
>>> bool(w.abs().max() <= (6 / 50) ** 0.5)
True
""",
    "xavier_normal_": "Glorot initialisation: normal with std ``gain * sqrt(2 / (fan_in + fan_out))``.",
    "kaiming_uniform_": """He initialisation: uniform on [-b, b] with ``b = gain * sqrt(3 / fan)``, ``gain`` from
``calculate_gain(nonlinearity, a)`` and ``fan`` the fan-in (``mode='fan_in'``) or fan-out.
""",
    "kaiming_normal_": """He initialisation: normal with std ``gain / sqrt(fan)``, ``gain`` from
``calculate_gain(nonlinearity, a)`` and ``fan`` the fan-in (``mode='fan_in'``) or fan-out.
""",
    "orthogonal_": """Fill ``tensor`` (at least 2-D; trailing dimensions are flattened) with a (semi-)orthogonal matrix
from the QR decomposition of a normal sample, scaled by ``gain``.
""",
    "sparse_": """Fill the 2-D ``tensor`` with normal values of std ``std``, then zero a fraction ``sparsity`` of the
entries in each column.
""",
}
