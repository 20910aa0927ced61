"""Docstrings of ``ember``'s top-level functions whose code has none (see ``ember._docs``).

A function that is also a Tensor method (``ember.sum`` and ``Tensor.sum``) is one object: its doc
here serves both.
"""

DOCS = {
    # ---------------------------------------------------------------- creation
    "zeros": """A tensor of the given shape filled with 0.

Args:
    *shape: the sizes, as separate ints or one sequence (``zeros(2, 3)`` or ``zeros((2, 3))``).
    dtype: the element type (default: ``ember.get_default_dtype()``, float32).
    requires_grad: record operations on the result for autograd.

>>> ember.zeros(2, 3)
tensor([[0., 0., 0.],
        [0., 0., 0.]])
""",
    "ones": """A tensor of the given shape filled with 1.

Args:
    *shape: the sizes, as separate ints or one sequence.
    dtype: the element type (default: the default dtype, float32).
    requires_grad: record operations on the result for autograd.

>>> ember.ones(2, dtype=ember.int64)
tensor([1, 1])
""",
    "empty": """A tensor of the given shape whose values are not set (ember fills it with whatever NumPy's
allocator returns); use it only when every element is written before being read.

Args: ``*shape`` (ints or one sequence), ``dtype``, ``requires_grad``.
""",
    "full": """A tensor of shape ``size`` with every element equal to ``fill_value``.

The dtype, when not given, follows the value: bool for a bool, int64 for an int, the default
float dtype for a float.

>>> ember.full((2, 2), 7)
tensor([[7, 7],
        [7, 7]])
""",
    "zeros_like": """A tensor of zeros with ``input``'s shape (and dtype, unless ``dtype`` is given).

>>> ember.zeros_like(ember.tensor([[1, 2], [3, 4]]))
tensor([[0, 0],
        [0, 0]])
""",
    "ones_like": """A tensor of ones with ``input``'s shape (and dtype, unless ``dtype`` is given).

>>> ember.ones_like(ember.tensor([1.5, 2.5]))
tensor([1., 1.])
""",
    "empty_like": "An uninitialised tensor with ``input``'s shape and dtype (see ``ember.empty``).",
    "full_like": "A tensor with ``input``'s shape (and dtype, unless given) filled with ``fill_value``.",
    "rand_like": "Uniform samples on [0, 1) with ``input``'s shape and (floating) dtype.",
    "randn_like": "Standard normal samples with ``input``'s shape and (floating) dtype.",
    "randint_like": """Random integers in [low, high) with ``input``'s shape and dtype.

Called as ``randint_like(input, high)`` the single bound is ``high`` and ``low`` is 0.
""",
    "eye": """The ``n`` x ``m`` identity matrix (``m`` defaults to ``n``): ones on the diagonal, zeros elsewhere.

>>> ember.eye(2)
tensor([[1., 0.],
        [0., 1.]])
""",
    "linspace": """``steps`` values evenly spaced from ``start`` to ``end``, both included.

>>> ember.linspace(0, 1, steps=5)
tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
""",
    "logspace": "``steps`` values ``base ** x`` for x evenly spaced from ``start`` to ``end`` (both included).",
    "bernoulli": """Draw 0 or 1 for each element: 1 with the probability held in ``input`` (or ``p``, when given).

Args:
    input: probabilities in [0, 1]; the result has its shape and dtype.
    generator: the ``ember.Generator`` to draw from (default: the global one).
""",
    "multinomial": """Draw ``num_samples`` category indices from each row of weights ``input`` (1-D or 2-D, non-negative,
not necessarily normalised).

Without ``replacement`` an index is drawn at most once per row, so ``num_samples`` may not exceed
the number of categories. Returns int64 indices of shape ``(rows, num_samples)`` (or
``(num_samples,)`` for 1-D input).
""",
    # ---------------------------------------------------------------- dtype and predicates
    "get_default_dtype": "The floating dtype that factories and Python floats produce (float32 unless changed).",
    "set_default_dtype": """Set the floating dtype that ``ember.tensor([1.0])``, ``ember.zeros`` and friends produce.

``d`` must be a floating dtype (float32 or float64, also float16/bfloat16); complex defaults follow
it (float64 gives complex128).
""",
    "is_tensor": "Whether ``obj`` is an ``ember.Tensor`` (a Parameter counts).",
    "is_floating_point": "Whether ``input``'s dtype is a floating type (float16, bfloat16, float32, float64).",
    "numel": "The number of elements of ``input`` (the product of its shape).",
    "result_type": """The dtype an arithmetic op on ``tensor1`` and ``tensor2`` would return, by torch's promotion rules
(a Python scalar does not raise a tensor's dtype within the same category).
""",
    "can_cast": """Whether casting from dtype ``from_`` to ``to`` is allowed by torch's casting rule: never from a
higher category to a lower one (complex to float, float to integer, integer to bool).
""",
    "set_rng_state": "Restore the default generator's state from a uint8 tensor returned by ``get_rng_state()``.",
    "detach": "A tensor sharing ``input``'s data but cut from the graph: it does not require grad.",
    "is_inference_mode_enabled": "Whether code is running inside ``ember.inference_mode()``.",
    # ---------------------------------------------------------------- comparisons and logic
    "eq": """Elementwise ``input == other`` as a bool tensor (``other`` may be a tensor or a number; shapes broadcast).

>>> ember.eq(ember.tensor([1, 2, 3]), 2)
tensor([False,  True, False])
""",
    "ne": "Elementwise ``input != other`` as a bool tensor (shapes broadcast).",
    "lt": "Elementwise ``input < other`` as a bool tensor (shapes broadcast).",
    "le": "Elementwise ``input <= other`` as a bool tensor (shapes broadcast).",
    "gt": """Elementwise ``input > other`` as a bool tensor (shapes broadcast).

>>> ember.tensor([1., 5.]) > 2
tensor([False,  True])
""",
    "ge": "Elementwise ``input >= other`` as a bool tensor (shapes broadcast).",
    "equal": "``True`` if ``input`` and ``other`` have the same shape and the same elements, else ``False`` (a Python bool).",
    "allclose": """Whether every element satisfies ``|input - other| <= atol + rtol * |other|`` (a Python bool).

NaNs compare equal only with ``equal_nan=True``.

>>> ember.allclose(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0 + 1e-9]))
True
""",
    "isclose": "Elementwise ``|input - other| <= atol + rtol * |other|`` as a bool tensor (see ``allclose``).",
    "isnan": "Elementwise test for NaN, as a bool tensor.",
    "isinf": "Elementwise test for +inf or -inf, as a bool tensor.",
    "isfinite": "Elementwise test for a finite value (not inf, not NaN), as a bool tensor.",
    "logical_and": "Elementwise logical AND of the truth values of ``input`` and ``other`` (nonzero is true); bool result.",
    "logical_or": "Elementwise logical OR of the truth values of ``input`` and ``other`` (nonzero is true); bool result.",
    "logical_xor": "Elementwise logical XOR of the truth values of ``input`` and ``other`` (nonzero is true); bool result.",
    "bitwise_and": "Elementwise bitwise AND of integer or bool tensors (``&``).",
    "bitwise_or": "Elementwise bitwise OR of integer or bool tensors (``|``).",
    "bitwise_xor": "Elementwise bitwise XOR of integer or bool tensors (``^``).",
    "bitwise_not": "Elementwise bitwise NOT of an integer tensor, logical NOT of a bool tensor (``~``).",
    "bitwise_left_shift": "Elementwise ``input << other`` for integer tensors.",
    "bitwise_right_shift": "Elementwise ``input >> other`` for integer tensors (arithmetic shift for signed types).",
    # ---------------------------------------------------------------- arithmetic
    "true_divide": "``input / other`` with true (floating) division; the same as ``ember.div`` without ``rounding_mode``.",
    "reciprocal": "Elementwise ``1 / input``; integer inputs give the default float dtype.",
    "clamp_min": "Elementwise ``max(input, min)``: values below ``min`` are raised to it.",
    "clamp_max": "Elementwise ``min(input, max)``: values above ``max`` are lowered to it.",
    "addmv": """``beta * input + alpha * (mat @ vec)``: a matrix-vector product added to a vector.

Shapes: ``mat`` (n, m), ``vec`` (m,), ``input`` broadcastable to (n,).
""",
    "inner": "Inner product over the last dimension of both inputs (a dot product for 1-D tensors).",
    "trace": "The sum of the main diagonal of a 2-D tensor.",
    # ---------------------------------------------------------------- reductions
    "amax": "The maximum over ``dim`` (an int or tuple; all dims by default), values only; the gradient is shared evenly among ties.",
    "amin": "The minimum over ``dim`` (an int or tuple; all dims by default), values only; the gradient is shared evenly among ties.",
    "argmax": """The index of the largest value: of the flattened tensor, or along ``dim`` (int64).

>>> ember.argmax(ember.tensor([[1, 9, 3], [7, 2, 8]]), dim=1)
tensor([1, 2])
""",
    "argmin": "The index of the smallest value: of the flattened tensor, or along ``dim`` (int64).",
    "any": "Whether any element is true (nonzero): over all elements, or along ``dim``; bool result.",
    "argsort": "The indices that sort ``input`` along ``dim`` (ascending unless ``descending=True``).",
    "msort": "``input`` sorted along its first dimension (ascending).",
    "count_nonzero": "The number of nonzero elements, in total or along ``dim`` (int64).",
    "cummin": "Running minimum along ``dim``: a (values, indices) pair, indices of where each minimum occurred.",
    # ---------------------------------------------------------------- shape
    "atleast_1d": "Each input as a tensor of at least 1 dimension (a scalar becomes shape (1,)); one tensor or a tuple.",
    "atleast_2d": "Each input as a tensor of at least 2 dimensions (1-D of size n becomes (1, n)); one tensor or a tuple.",
    "atleast_3d": "Each input as a tensor of at least 3 dimensions ((n,) becomes (1, n, 1), (m, n) becomes (m, n, 1)).",
    "broadcast_shapes": """The shape that tensors of the given shapes broadcast to, as an ``ember.Size``; raises RuntimeError
if they cannot broadcast.

>>> ember.broadcast_shapes((2, 1), (1, 3))
ember.Size([2, 3])
""",
    "broadcast_to": "A view of ``input`` expanded to ``size`` by broadcasting (no copy).",
    "expand": """A view with size-1 dimensions repeated to the given sizes (no copy); -1 keeps a dimension's size.

>>> ember.tensor([[1], [2]]).expand(2, 3)
tensor([[1, 1, 1],
        [2, 2, 2]])
""",
    "column_stack": "Stack 1-D or 2-D tensors side by side as columns of a 2-D result.",
    "dstack": "Stack tensors along the third dimension (depth), after making each at least 3-D.",
    "chunk": """Split ``input`` into ``chunks`` pieces of (nearly) equal size along ``dim``; the pieces are views.

>>> ember.arange(5).chunk(2)
(tensor([0, 1, 2]), tensor([3, 4]))
""",
    "split": """Split ``input`` along ``dim`` into pieces of ``split_size_or_sections`` elements each (an int: the
last piece may be smaller) or of the listed sizes; the pieces are views.

>>> ember.arange(5).split([1, 4])
(tensor([0]), tensor([1, 2, 3, 4]))
""",
    "tensor_split": "Split ``input`` along ``dim`` into n nearly equal parts (an int) or at the given indices (a list).",
    "clone": "A copy of ``input`` with its own data; the copy stays in the graph (gradients flow back to ``input``).",
    "contiguous": "``input`` itself if its data is contiguous in memory, else a contiguous copy.",
    "flatten": """Merge dimensions ``start_dim`` .. ``end_dim`` into one.

>>> ember.zeros(2, 3, 4).flatten(1).shape
ember.Size([2, 12])
""",
    "unflatten": "Split dimension ``dim`` of ``input`` into the dimensions ``sizes`` (their product must equal its size).",
    "ravel": "``input`` as a 1-D tensor (a view when possible).",
    "fliplr": "``input`` reversed along dimension 1 (left/right); needs at least 2 dimensions.",
    "flipud": "``input`` reversed along dimension 0 (up/down).",
    "movedim": "Move dimension(s) ``source`` of ``input`` to position(s) ``destination``, keeping the others' order.",
    "permute": """A view with the dimensions reordered: dimension i of the result is dimension ``dims[i]`` of ``input``.

>>> ember.zeros(2, 3, 4).permute(2, 0, 1).shape
ember.Size([4, 2, 3])
""",
    "transpose": """A view with dimensions ``dim0`` and ``dim1`` swapped.

>>> ember.tensor([[1, 2, 3]]).transpose(0, 1)
tensor([[1],
        [2],
        [3]])
""",
    "t": "Transpose of a tensor of at most 2 dimensions (1-D and 0-D tensors are returned as they are).",
    "squeeze": """Remove dimensions of size 1: all of them, or only ``dim`` (an int or tuple) when given.

>>> ember.zeros(2, 1, 3).squeeze().shape
ember.Size([2, 3])
""",
    "unsqueeze": """Insert a dimension of size 1 at position ``dim`` (negative counts from the end).

>>> ember.tensor([1, 2]).unsqueeze(0)
tensor([[1, 2]])
""",
    "select": "The slice of ``input`` at ``index`` along ``dim``, with that dimension removed (a view).",
    "view_as": "``input.view(other.shape)``: a view of ``input`` with ``other``'s shape.",
    "diagflat": "A 2-D tensor with the flattened ``input`` on its ``offset``-th diagonal and zeros elsewhere.",
    "triu": "The upper triangle of the last two dimensions: elements below the ``diagonal``-th diagonal set to 0.",
    # ---------------------------------------------------------------- indexing
    "index_select": """The entries of ``input`` at the positions ``index`` (1-D integer tensor) along ``dim``.

>>> ember.tensor([[1, 2], [3, 4], [5, 6]]).index_select(0, ember.tensor([2, 0]))
tensor([[5, 6],
        [1, 2]])
""",
    "masked_fill": """``input`` with the elements where ``mask`` (bool, broadcastable) is true replaced by ``value``.

>>> ember.tensor([1., 2., 3.]).masked_fill(ember.tensor([True, False, True]), 0.)
tensor([0., 2., 0.])
""",
    "nonzero": """Indices of the nonzero elements: an (n, ndim) int64 tensor, or with ``as_tuple=True`` one 1-D index
tensor per dimension.
""",
    "fill_": "Fill ``input`` with ``value`` in place and return it.",
    "zero_": "Fill ``input`` with zeros in place and return it.",
}

# examples added to functions documented in their code
EXAMPLES = {
    "from_numpy": """>>> import numpy as np
>>> a = np.array([1, 2])
>>> t = ember.from_numpy(a)
>>> a[0] = 5
>>> t
tensor([5, 2])""",
    "tensor": """>>> ember.tensor([[1, 2], [3, 4]])
tensor([[1, 2],
        [3, 4]])
>>> ember.tensor([1.0, 2.0], requires_grad=True)
tensor([1., 2.], requires_grad=True)""",
    "arange": """>>> ember.arange(4)
tensor([0, 1, 2, 3])
>>> ember.arange(0, 1, 0.25)
tensor([0.0000, 0.2500, 0.5000, 0.7500])""",
    "randn": """>>> ember.randn(2, 3).shape
ember.Size([2, 3])""",
    "rand": """>>> x = ember.rand(1000)
>>> bool((x >= 0).all() and (x < 1).all())
True""",
    "matmul": """>>> a = ember.tensor([[1., 2.], [3., 4.]])
>>> a @ ember.tensor([1., 1.])
tensor([3., 7.])
>>> ember.matmul(ember.ones(5, 2, 3), ember.ones(3, 4)).shape
ember.Size([5, 2, 4])""",
    "mm": """>>> ember.mm(ember.tensor([[1., 2.]]), ember.tensor([[3.], [4.]]))
tensor([[11.]])""",
    "sum": """>>> x = ember.tensor([[1., 2.], [3., 4.]])
>>> x.sum()
tensor(10.)
>>> x.sum(dim=0)
tensor([4., 6.])""",
    "mean": """>>> ember.tensor([[1., 2.], [3., 4.]]).mean(dim=1, keepdim=True)
tensor([[1.5000],
        [3.5000]])""",
    "cat": """>>> ember.cat([ember.zeros(1, 2), ember.ones(2, 2)]).shape
ember.Size([3, 2])""",
    "stack": """>>> ember.stack([ember.tensor([1, 2]), ember.tensor([3, 4])], dim=1)
tensor([[1, 3],
        [2, 4]])""",
    "reshape": """>>> ember.arange(6).reshape(2, -1)
tensor([[0, 1, 2],
        [3, 4, 5]])""",
    "exp": """>>> ember.exp(ember.tensor([0., 1.]))
tensor([1.0000, 2.7183])""",
    "log": """>>> ember.log(ember.tensor([1., 100.]))
tensor([0.0000, 4.6052])""",
    "relu": """>>> ember.relu(ember.tensor([-1., 0., 2.]))
tensor([0., 0., 2.])""",
    "sigmoid": """>>> ember.sigmoid(ember.tensor([0.]))
tensor([0.5000])""",
    "tanh": """>>> ember.tanh(ember.tensor([0., 1.]))
tensor([0.0000, 0.7616])""",
    "softmax": """>>> ember.softmax(ember.tensor([1., 1., 2.]), dim=0)
tensor([0.2119, 0.2119, 0.5761])""",
    "log_softmax": """>>> ember.log_softmax(ember.tensor([0., 0.]), dim=0)
tensor([-0.6931, -0.6931])""",
    "max": """>>> x = ember.tensor([[1, 5], [4, 2]])
>>> x.max()
tensor(5)
>>> x.max(dim=1)
ember.return_types.max(
values=tensor([5, 4]),
indices=tensor([1, 0]))""",
    "min": """>>> ember.tensor([[1, 5], [4, 2]]).min(dim=0).values
tensor([1, 2])""",
    "where": """>>> x = ember.tensor([-1., 2., -3.])
>>> ember.where(x > 0, x, ember.zeros(3))
tensor([0., 2., 0.])""",
    "clamp": """>>> ember.clamp(ember.tensor([-2., 0.5, 3.]), min=0, max=1)
tensor([0.0000, 0.5000, 1.0000])""",
    "gather": """>>> ember.gather(ember.tensor([[1, 2], [3, 4]]), 1, ember.tensor([[1], [0]]))
tensor([[2],
        [3]])""",
    "add": """>>> ember.add(ember.tensor([1., 2.]), ember.tensor([10., 20.]), alpha=2)
tensor([21., 42.])""",
    "mul": """>>> ember.tensor([1, 2, 3]) * 2
tensor([2, 4, 6])""",
    "sqrt": """>>> ember.sqrt(ember.tensor([4., 9.]))
tensor([2., 3.])""",
    "pow": """>>> ember.pow(ember.tensor([1., 2., 3.]), 2)
tensor([1., 4., 9.])""",
    "topk": """>>> ember.topk(ember.tensor([3., 1., 4., 1., 5.]), k=2)
ember.return_types.topk(
values=tensor([5., 4.]),
indices=tensor([4, 2]))""",
    "sort": """>>> ember.sort(ember.tensor([3, 1, 2])).values
tensor([1, 2, 3])""",
    "manual_seed": """>>> _ = ember.manual_seed(42)
>>> a = ember.rand(2)
>>> _ = ember.manual_seed(42)
>>> bool((ember.rand(2) == a).all())
True""",
}
