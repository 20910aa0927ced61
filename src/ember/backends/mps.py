"""``ember.backends.mps``: Apple's Metal backend, neither built nor available in ember."""


def is_available() -> bool:
    """Whether the MPS device can be used: no."""
    return False


def is_built() -> bool:
    """Whether ember was built with MPS: no."""
    return False
