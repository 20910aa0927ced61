"""Docstrings of ``ember.nn.functional``'s functions whose code has none, and examples (see ``ember._docs``).

``reduction`` in the losses: ``'mean'`` (the default) averages the per-element losses, ``'sum'``
adds them, ``'none'`` returns them unreduced. ``size_average`` and ``reduce`` are torch's
deprecated spellings of it.
"""

DOCS = {
    # ---------------------------------------------------------------- layers
    "linear": """``input @ weight.T + bias``: the affine map of ``nn.Linear``.

Shapes: ``input`` (*, in_features), ``weight`` (out_features, in_features), ``bias``
(out_features,); the result is (*, out_features).

>>> F = ember.nn.functional
>>> F.linear(ember.ones(2, 3), ember.ones(4, 3), ember.zeros(4))
tensor([[3., 3., 3., 3.],
        [3., 3., 3., 3.]])
""",
    "bilinear": """``x1^T A x2 + b`` for each output feature:
``out[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]``.

Shapes: ``input1`` (*, in1), ``input2`` (*, in2), ``weight`` (out, in1, in2), ``bias`` (out,).
""",
    "embedding": """Rows of the lookup table ``weight`` (num_embeddings, dim) at the integer indices ``input``; the
result has shape ``input.shape + (dim,)``.

``padding_idx``: that row gets no gradient. ``max_norm``: rows looked up are first renormalised in
place to at most that ``norm_type``-norm.

>>> ember.nn.functional.embedding(ember.tensor([2, 0]), ember.arange(6.).reshape(3, 2))
tensor([[4., 5.],
        [0., 1.]])
""",
    "batch_norm": """Normalise each channel (dimension 1) of ``input`` to zero mean and unit variance, then scale by
``weight`` and shift by ``bias``.

In training the batch statistics are used and ``running_mean`` / ``running_var`` are updated in
place with ``momentum``; in evaluation the running statistics are used. ``eps`` is added to the
variance. Shape: (N, C) or (N, C, *).
""",
    "layer_norm": """Normalise over the trailing dimensions ``normalized_shape`` to zero mean and unit (biased)
variance, then apply the elementwise affine ``weight`` and ``bias`` (of that shape). ``eps`` is
added to the variance.

>>> ember.nn.functional.layer_norm(ember.tensor([[1., 3.]]), (2,))
tensor([[-1.0000,  1.0000]])
""",
    "group_norm": """Split the channels (dimension 1) into ``num_groups`` groups and normalise each group of each sample
to zero mean and unit variance, then apply per-channel ``weight`` and ``bias``. Shape (N, C, *).
""",
    "normalize": """``input`` divided by its ``p``-norm along ``dim`` (the norm clamped below at ``eps``), so each slice
has unit norm.

>>> ember.nn.functional.normalize(ember.tensor([[3., 4.]]), dim=1)
tensor([[0.6000, 0.8000]])
""",
    "one_hot": """Int64 tensor with a trailing dimension of size ``num_classes`` (default: ``input.max() + 1``) that is
1 at each index of ``tensor`` and 0 elsewhere.

>>> ember.nn.functional.one_hot(ember.tensor([0, 2]), num_classes=3)
tensor([[1, 0, 0],
        [0, 0, 1]])
""",
    "pad": """Pad ``input``'s last dimensions: ``pad`` lists (before, after) amounts starting from the last
dimension, e.g. ``(1, 1, 2, 0)`` pads the last dimension by 1 on each side and the one before by
2 at the start. Modes: ``'constant'`` (with ``value``, default 0), ``'reflect'``, ``'replicate'``,
``'circular'``. Negative amounts crop.

>>> ember.nn.functional.pad(ember.tensor([[1, 2]]), (1, 2))
tensor([[0, 1, 2, 0, 0]])
""",
    "flatten": "Merge dimensions ``start_dim`` .. ``end_dim`` of ``input`` into one (``ember.flatten``).",
    "pairwise_distance": """The ``p``-norm of ``x1 - x2 + eps`` along the last dimension, for each row (broadcasting).""",
    "interpolate": """Resize the spatial dimensions of a (N, C, *spatial) batch to ``size`` or by ``scale_factor``.

Modes: ``'nearest'``, ``'linear'`` (1-D), ``'bilinear'`` (2-D), ``'bicubic'`` (2-D), ``'trilinear'``
(3-D), ``'area'``. ``align_corners`` (for the linear modes) maps the corner pixels' centres onto
each other instead of the corners of the grid.
""",
    "upsample": "Resize a batch of images; an older name for ``interpolate`` (same arguments).",
    "prelu": """``max(0, x) + weight * min(0, x)`` with a learned slope ``weight``: one value, or one per channel
(dimension 1).
""",
    # ---------------------------------------------------------------- activations
    "relu": """``max(0, x)`` elementwise; with ``inplace=True`` ``input`` is overwritten.

>>> ember.nn.functional.relu(ember.tensor([-1., 2.]))
tensor([0., 2.])
""",
    "relu_": "``max(0, x)`` elementwise, written into ``input``.",
    "relu6": "``min(max(0, x), 6)`` elementwise.",
    "leaky_relu": """``x`` where positive, ``negative_slope * x`` elsewhere.

>>> ember.nn.functional.leaky_relu(ember.tensor([-2., 2.]), 0.1)
tensor([-0.2000,  2.0000])
""",
    "elu": "``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.",
    "celu": "``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``: ELU continuously differentiable in ``alpha``.",
    "selu": "``scale * elu(x, alpha)`` with the fixed self-normalising constants alpha = 1.6733 and scale = 1.0507.",
    "gelu": """``x * Phi(x)``, Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh formula
``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

>>> ember.nn.functional.gelu(ember.tensor([0., 1.]))
tensor([0.0000, 0.8413])
""",
    "silu": "``x * sigmoid(x)`` (also called swish).",
    "mish": "``x * tanh(softplus(x))``.",
    "hardtanh": "``x`` clamped to [``min_val``, ``max_val``] (default [-1, 1]).",
    "hardsigmoid": "A piecewise-linear sigmoid: 0 below -3, 1 above 3, ``x / 6 + 1/2`` between.",
    "hardswish": "``x * hardsigmoid(x)``: 0 below -3, ``x`` above 3, ``x (x + 3) / 6`` between.",
    "hardshrink": "``x`` where ``|x| > lambd``, else 0.",
    "softshrink": "``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between.",
    "softsign": "``x / (1 + |x|)``.",
    "tanhshrink": "``x - tanh(x)``.",
    "threshold": "``x`` where ``x > threshold``, else ``value``.",
    "glu": """Gated linear unit: split ``input`` in two halves ``a``, ``b`` along ``dim`` and return
``a * sigmoid(b)`` (the size along ``dim`` must be even).
""",
    "softmin": "``softmax(-input)`` along ``dim``: weights summing to 1 that favour the smallest values.",
    "rrelu": """Randomised leaky ReLU: in training each negative element is scaled by a slope drawn uniformly from
[``lower``, ``upper``]; in evaluation by their mean.
""",
    # ---------------------------------------------------------------- dropout
    "alpha_dropout": """Dropout that keeps SELU activations' mean and variance: dropped elements are set to SELU's
negative saturation value and the result is scaled and shifted back (training only).
""",
    "dropout1d": "Zero whole channels of a (N, C, L) or (C, L) input with probability ``p`` and scale the rest by 1 / (1 - p) (training only).",
    "dropout3d": "Zero whole channels of a (N, C, D, H, W) or (C, D, H, W) input with probability ``p``, scaling the rest by 1 / (1 - p).",
    # ---------------------------------------------------------------- losses
    "huber_loss": """Huber loss: ``0.5 d^2`` where ``|d| < delta``, ``delta (|d| - 0.5 delta)`` elsewhere, d = input - target.""",
    "smooth_l1_loss": """Smooth L1 loss: ``0.5 d^2 / beta`` where ``|d| < beta``, ``|d| - 0.5 beta`` elsewhere, d = input - target.""",
    "kl_div": """Kullback-Leibler divergence ``target * (log(target) - input)`` with ``input`` given as
log-probabilities (and ``target`` as probabilities, or log-probabilities with ``log_target=True``).

Use ``reduction='batchmean'`` (sum divided by the batch size) for the mathematical KL divergence.
""",
    "poisson_nll_loss": """Negative log-likelihood of ``target`` under a Poisson distribution with rate ``input``:
``exp(input) - target * input`` when ``log_input`` (the default), else ``input - target * log(input + eps)``;
``full`` adds Stirling's approximation of ``log(target!)``.
""",
    "gaussian_nll_loss": """Negative log-likelihood of ``target`` under a normal distribution with mean ``input`` and variance
``var``: ``0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps))`` (plus ``0.5 log(2 pi)`` with ``full``).
""",
    "cosine_embedding_loss": """``1 - cos(x1, x2)`` for pairs labelled 1 and ``max(0, cos(x1, x2) - margin)`` for pairs labelled -1.""",
    "hinge_embedding_loss": """``x`` where the label is 1 and ``max(0, margin - x)`` where it is -1.""",
    "margin_ranking_loss": """``max(0, -y (x1 - x2) + margin)``: asks ``x1`` to rank above ``x2`` where ``y = 1`` and below where ``y = -1``.""",
    "soft_margin_loss": """Two-class logistic loss ``log(1 + exp(-y x))`` with labels y in {-1, 1}.""",
    "multilabel_soft_margin_loss": """Multi-label one-versus-all loss: the binary cross-entropy of ``sigmoid(input)`` against the 0/1
``target`` of each class, averaged over the classes (optionally weighted per class).
""",
    "triplet_margin_loss": """``max(d(a, p) - d(a, n) + margin, 0)`` with d the ``p``-norm pairwise distance: pulls ``anchor``
towards ``positive`` and away from ``negative``; ``swap`` also uses d(p, n) when smaller.
""",
}

EXAMPLES = {
    "cross_entropy": """>>> logits = ember.tensor([[2.0, 0.5, 0.1]], requires_grad=True)
>>> loss = ember.nn.functional.cross_entropy(logits, ember.tensor([0]))
>>> loss
tensor(0.3168, grad_fn=<NllLossBackward0>)
>>> loss.backward()""",
    "mse_loss": """>>> ember.nn.functional.mse_loss(ember.tensor([1., 2.]), ember.tensor([1., 4.]))
tensor(2.)""",
    "l1_loss": """>>> ember.nn.functional.l1_loss(ember.tensor([1., 2.]), ember.tensor([1., 4.]))
tensor(1.)""",
    "nll_loss": """>>> logp = ember.log(ember.tensor([[0.5, 0.5], [0.9, 0.1]]))
>>> ember.nn.functional.nll_loss(logp, ember.tensor([0, 0]))
tensor(0.3993)""",
    "binary_cross_entropy_with_logits": """>>> ember.nn.functional.binary_cross_entropy_with_logits(ember.tensor([0.]), ember.tensor([1.]))
tensor(0.6931)""",
    "conv2d": """>>> x = ember.ones(1, 1, 4, 4)
>>> ember.nn.functional.conv2d(x, ember.ones(2, 1, 3, 3), padding=1).shape
ember.Size([1, 2, 4, 4])""",
    "max_pool2d": """>>> ember.nn.functional.max_pool2d(ember.arange(16.).reshape(1, 1, 4, 4), 2)
tensor([[[[ 5.,  7.],
          [13., 15.]]]])""",
    "dropout": """>>> ember.nn.functional.dropout(ember.ones(3), p=0.5, training=False)
tensor([1., 1., 1.])""",
    "softmax": """>>> ember.nn.functional.softmax(ember.tensor([[0., 0.]]), dim=-1)
tensor([[0.5000, 0.5000]])""",
}
