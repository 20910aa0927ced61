"""Docstrings of ``ember.Tensor``'s methods and properties whose code has none (see ``ember._docs``).

Methods that are the same function as an ``ember.X`` (``Tensor.sum`` is ``ember.sum``) take their
doc from ``_docs/torch.py``.
"""

DOCS = {
    # ---------------------------------------------------------------- metadata
    "shape": """The sizes of the dimensions, as an ``ember.Size`` (a tuple).

>>> ember.zeros(2, 3).shape
ember.Size([2, 3])
""",
    "dtype": "The element type (``ember.float32``, ``ember.int64`` ...).",
    "device": "The device holding the data: always ``device(type='cpu')`` in ember.",
    "layout": "The memory layout: always ``ember.strided`` (ember has no sparse tensors).",
    "ndim": "The number of dimensions (0 for a scalar tensor).",
    "dim": "The number of dimensions (the same as ``ndim``).",
    "ndimension": "The number of dimensions (the same as ``ndim``).",
    "numel": "The number of elements (the product of the shape).",
    "nelement": "The number of elements (the same as ``numel()``).",
    "size": """The shape as an ``ember.Size``, or with ``dim`` the size of that one dimension (an int).

>>> ember.zeros(2, 3).size(1)
3
""",
    "stride": "The steps, in elements, between neighbours along each dimension (or along ``dim``).",
    "itemsize": "The size of one element in bytes.",
    "element_size": "The size of one element in bytes (the same as ``itemsize``).",
    "nbytes": "The size of the data in bytes (``numel() * itemsize``).",
    "is_contiguous": "Whether the elements are laid out in row-major order without gaps.",
    "is_floating_point": "Whether the dtype is a floating type.",
    "is_complex": "Whether the dtype is complex (complex64 or complex128).",
    "is_cpu": "Whether the tensor is on the CPU: always ``True`` in ember.",
    "is_cuda": "Whether the tensor is on a CUDA device: always ``False`` in ember.",
    "is_mps": "Whether the tensor is on an Apple MPS device: always ``False`` in ember.",
    "is_pinned": "Whether the memory is pinned for fast transfer to a GPU: always ``False`` in ember.",
    "data_ptr": "The address of the first element in memory.",
    "get_device": "The index of the device holding the tensor: -1 for the CPU.",
    "cpu": "The tensor on the CPU: itself, since ember keeps every tensor there.",
    # ---------------------------------------------------------------- autograd
    "requires_grad": """Whether operations on this tensor are recorded for autograd. Settable on a leaf tensor.

>>> w = ember.ones(2)
>>> w.requires_grad = True
>>> (w * 3).sum().backward()
>>> w.grad
tensor([3., 3.])
""",
    "requires_grad_": "Set ``requires_grad`` in place (on a leaf tensor) and return the tensor.",
    "is_leaf": "Whether the tensor is a leaf of the graph: created by the user, not computed from tensors that require grad.",
    "grad": """The gradient accumulated into this leaf by ``backward()`` (``None`` until then). Settable; the
gradient of a non-leaf is kept only after ``retain_grad()``.
""",
    "retains_grad": "Whether this non-leaf tensor keeps its ``.grad`` after backward (see ``retain_grad()``).",
    "output_nr": "Which output of its ``grad_fn`` this tensor is (0 for single-output ops).",
    "data": """The tensor's data as a tensor outside the graph (``requires_grad=False``); assigning to it replaces
the data without autograd noticing.
""",
    "detach_": "Cut this tensor from the graph in place: it becomes a leaf that does not require grad.",
    "register_post_accumulate_grad_hook": """Call ``hook(tensor)`` after backward has accumulated this leaf's ``.grad``.

Returns a handle whose ``remove()`` unregisters the hook.
""",
    # ---------------------------------------------------------------- conversion
    "item": """The value of a one-element tensor as a Python number.

>>> ember.tensor([2.5]).item()
2.5
""",
    "tolist": """The data as (nested) Python lists of numbers.

>>> ember.tensor([[1, 2], [3, 4]]).tolist()
[[1, 2], [3, 4]]
""",
    "numpy": """The data as a NumPy array that shares memory with the tensor.

Raises RuntimeError for a tensor that requires grad (call ``detach()`` first), unless ``force=True``.
""",
    "float": "A copy converted to ``ember.float32`` (the tensor itself if it is float32).",
    "double": "A copy converted to ``ember.float64`` (the tensor itself if it is float64).",
    "half": "A copy converted to ``ember.float16`` (the tensor itself if it is float16).",
    "bfloat16": "A copy converted to ``ember.bfloat16`` (the tensor itself if it is bfloat16).",
    "int": "A copy converted to ``ember.int32`` (the tensor itself if it is int32).",
    "long": "A copy converted to ``ember.int64`` (the tensor itself if it is int64).",
    "short": "A copy converted to ``ember.int16`` (the tensor itself if it is int16).",
    "char": "A copy converted to ``ember.int8`` (the tensor itself if it is int8).",
    "byte": "A copy converted to ``ember.uint8`` (the tensor itself if it is uint8).",
    "bool": "A copy converted to ``ember.bool`` (the tensor itself if it is bool).",
    "type_as": "The tensor converted to ``other``'s dtype.",
    "copy_": "Copy the values of ``src`` (broadcast to this shape, cast to this dtype) into this tensor, in place.",
    # ---------------------------------------------------------------- new tensors
    "new_tensor": "A new tensor holding ``data``, with this tensor's dtype unless ``dtype`` is given.",
    "new_zeros": "A tensor of zeros of the given size, with this tensor's dtype unless ``dtype`` is given.",
    "new_ones": "A tensor of ones of the given size, with this tensor's dtype unless ``dtype`` is given.",
    "new_empty": "An uninitialised tensor of the given size, with this tensor's dtype unless ``dtype`` is given.",
    "new_full": "A tensor of the given size filled with ``fill_value``, with this tensor's dtype unless ``dtype`` is given.",
    "bernoulli": "0 or 1 for each element, 1 with the probability held in the element (or ``p``); see ``ember.bernoulli``.",
    "multinomial": "Draw ``num_samples`` category indices from the weights in each row; see ``ember.multinomial``.",
    # ---------------------------------------------------------------- shape and others
    "T": "The tensor with its dimensions reversed (the transpose, for a matrix).",
    "mT": "The transpose of the last two dimensions (a batch of matrices transposed).",
    "H": "The conjugate transpose of a matrix (the transpose, for a real tensor).",
    "mH": "The conjugate transpose of the last two dimensions.",
    "expand_as": "``self.expand(other.shape)``: a broadcast view with ``other``'s shape.",
    "unflatten": "Split dimension ``dim`` into the dimensions ``sizes`` (see ``ember.unflatten``).",
    "reshape_as": "``self.reshape(other.shape)``.",
    "where": "``ember.where(condition, self, other)``: this tensor's elements where ``condition`` holds, else ``other``'s.",
    "matrix_power": "The square matrix (or batch) raised to the integer power ``n`` (negative ``n`` inverts first).",
    "pinverse": "The Moore-Penrose pseudo-inverse, treating singular values below ``rcond`` times the largest as zero.",
    "polygamma": "The ``n``-th derivative of the digamma function at each element (``ember.polygamma(n, self)``).",
}

# examples added to methods documented in their code
EXAMPLES = {
    "view": """>>> ember.arange(6).view(3, 2)
tensor([[0, 1],
        [2, 3],
        [4, 5]])""",
    "detach": """>>> x = ember.ones(2, requires_grad=True)
>>> (x * 2).detach().requires_grad
False""",
    "to": """>>> ember.tensor([1, 2]).to(ember.float64)
tensor([1., 2.], dtype=ember.float64)""",
}
