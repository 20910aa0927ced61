"""``ember.version``: build information, as ``torch.version`` (no CUDA or ROCm in this build)."""

__version__ = "0.1.0"
cuda = None
hip = None
debug = False
