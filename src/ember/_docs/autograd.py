"""Docstrings of ``ember.autograd``'s names whose code has none, and examples (see ``ember._docs``)."""

DOCS = {
    "is_grad_enabled": "Whether operations are being recorded for autograd (False inside ``no_grad()``).",
    "InplaceFunction": """A ``Function`` that may modify its inputs in place; ``inplace`` (set by the constructor) says
whether it should.
""",
    "NestedIOFunction": """A legacy ``Function`` whose ``forward_extended`` / ``backward_extended`` take nested inputs
(kept for torch compatibility; write new code with ``Function``).
""",
}

EXAMPLES = {
    "no_grad": """>>> x = ember.ones(3, requires_grad=True)
>>> with ember.no_grad():
...     y = x * 2
>>> y.requires_grad
False""",
    "grad": """Args:
    outputs: the tensor(s) to differentiate (a scalar, or give ``grad_outputs``).
    inputs: the tensor(s) to differentiate with respect to.
    grad_outputs: the gradient flowing into each output (the vector of a vector-Jacobian product).
    create_graph: record the backward pass, so the result can be differentiated again.
    allow_unused: return ``None`` for an input that ``outputs`` does not depend on, instead of raising.

>>> x = ember.tensor(3.0, requires_grad=True)
>>> (dx,) = ember.autograd.grad(x ** 3, x, create_graph=True)
>>> dx
tensor(27., grad_fn=<MulBackward0>)
>>> ember.autograd.grad(dx, x)
(tensor(18.),)""",
    "backward": """>>> w = ember.tensor([1., 2.], requires_grad=True)
>>> ember.autograd.backward((w * w).sum())
>>> w.grad
tensor([2., 4.])""",
}
