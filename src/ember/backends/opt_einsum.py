"""``ember.backends.opt_einsum``: torch's optional einsum path optimiser, which ember does not use."""

from typing import Any

enabled = False
strategy = None


def is_available() -> bool:
    """Whether the opt_einsum package is in use: no."""
    return False


def get_opt_einsum() -> Any:
    """The opt_einsum module when in use: None."""
    return None
