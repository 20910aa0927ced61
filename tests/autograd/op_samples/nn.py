"""nn.functional: activations, linear and convolution, pooling, padding, normalisation, losses,
embeddings, resampling, attention, recurrent layers, and the samplers' zero gradients."""

from __future__ import annotations

from ._spec import PR, D, I, K, N, P, S, U


def F(m):  # noqa: N802
    return m.nn.functional


def _weight_norm(m, v, g):
    if m.__name__ == "torch":  # (torch._weight_norm's fused second derivative fails torch's own gradgradcheck)
        return v * (g / v.norm(dim=1, keepdim=True))
    from ember.nn.utils._weight_norm import _weight_norm

    return _weight_norm(v, g, 0)


def _lstm(m, x, w_ih, w_hh, b_ih, b_hh):
    m.manual_seed(0)
    layer = m.nn.LSTM(2, 3).double()
    for name, t in (("weight_ih_l0", w_ih), ("weight_hh_l0", w_hh), ("bias_ih_l0", b_ih), ("bias_hh_l0", b_hh)):
        delattr(layer, name)
        setattr(layer, name, t)
    out, (h, c) = layer(x)
    return out, h, c


def _packed(m, x):
    p = m.nn.utils.rnn.pack_padded_sequence(x, m.tensor([3, 2]), enforce_sorted=True)
    return p.data


def _sampler(fn):
    def f(m, p):
        m.manual_seed(0)
        return fn(m, p) * p
    return f


def _pool_backward(pool):
    def f(m, x, v):
        return m.autograd.grad(pool(m, x), x, v, create_graph=True)[0]
    return f


_MP2 = lambda m, x: F(m).max_pool2d(x, 2, 1)  # noqa: E731
_MP3 = lambda m, x: F(m).max_pool3d(x, 2, 1)  # noqa: E731
_AMP2 = lambda m, x: F(m).adaptive_max_pool2d(x, 2)  # noqa: E731
_AMP3 = lambda m, x: F(m).adaptive_max_pool3d(x, 2)  # noqa: E731
_AP2 = lambda m, x: F(m).avg_pool2d(x, 2, 1)  # noqa: E731
_AP3 = lambda m, x: F(m).avg_pool3d(x, 2, 1)  # noqa: E731
_NO_MARGIN2 = "torch does not implement the second derivative of this margin loss"

SAMPLES = [
    # activations
    S("elu", lambda m, x: F(m).elu(x, 0.7), N(2, 3), N()),
    S("selu", lambda m, x: F(m).selu(x), N(2, 3), N()),
    S("celu", lambda m, x: F(m).celu(x, 0.5), N(2, 3), N(1)),
    S("gelu", lambda m, x: F(m).gelu(x), N(2, 3), N()),
    S("gelu_tanh", lambda m, x: F(m).gelu(x, approximate="tanh"), N(2, 3), N(1)),
    S("silu", lambda m, x: F(m).silu(x), N(2, 3), N()),
    S("mish", lambda m, x: F(m).mish(x), N(2, 3), N()),
    S("hardtanh", lambda m, x: F(m).hardtanh(x, -0.5, 0.5), D(2, 3), D(1)),
    S("relu6", lambda m, x: F(m).relu6(x * 4), D(2, 3), D()),
    S("hardsigmoid", lambda m, x: F(m).hardsigmoid(x * 3), D(2, 3), double="torch does not implement the derivative of "
      "hardsigmoid_backward"),
    S("hardswish", lambda m, x: F(m).hardswish(x * 3), D(2, 3), D(1)),
    S("logsigmoid", lambda m, x: F(m).logsigmoid(x), N(2, 3), N()),
    S("threshold", lambda m, x: F(m).threshold(x, 0.1, 2.0), D(2, 3), D(1)),
    S("softshrink", lambda m, x: F(m).softshrink(x, 0.5), D(2, 3), D(1)),
    S("hardshrink", lambda m, x: F(m).hardshrink(x, 0.5), D(2, 3), D()),
    S("leaky_relu", lambda m, x: F(m).leaky_relu(x, 0.1), D(2, 3), D(1)),
    S("softplus", lambda m, x: F(m).softplus(x, beta=2.0), N(2, 3), N()),
    S("prelu", lambda m, x, w: F(m).prelu(x, w), (N(2, 3, 2), N(3)), (N(2, 3), N(1))),
    S("glu", lambda m, x: F(m).glu(x, -1), N(2, 4), N(2)),
    S("softmin", lambda m, x: F(m).softmin(x, 1), N(2, 3), N(1, 1)),
    S("normalize", lambda m, x: F(m).normalize(x, dim=1), N(2, 3), N(1, 2)),
    # linear, bilinear, convolution
    S("linear", lambda m, x, w, b: F(m).linear(x, w, b), (N(2, 3), N(4, 3), N(4)), (N(1, 3), N(1, 3), N(1))),
    S("linear_3d", lambda m, x, w, b: F(m).linear(x, w, b), (N(2, 2, 3), N(4, 3), N(4))),
    S("linear_nobias", lambda m, x, w: F(m).linear(x, w), (N(2, 3), N(4, 3)), (N(3), N(2, 3))),
    S("bilinear", lambda m, a, b, w, c: F(m).bilinear(a, b, w, c), (N(2, 3), N(2, 2), N(2, 3, 2), N(2)), (N(1, 1), N(1, 1), N(1, 1, 1), N(1))),
    S("conv1d", lambda m, x, w, b: F(m).conv1d(x, w, b, padding=1), (N(1, 2, 5), N(3, 2, 3), N(3)), (N(2, 1, 3), N(1, 1, 3), N(1))),
    S("conv2d", lambda m, x, w, b: F(m).conv2d(x, w, b, stride=2, padding=1), (N(2, 2, 4, 4), N(3, 2, 3, 3), N(3)),
      (N(1, 1, 3, 3), N(1, 1, 2, 2), N(1))),
    S("conv2d_groups", lambda m, x, w: F(m).conv2d(x, w, groups=2, dilation=2), (N(1, 4, 5, 5), N(2, 2, 2, 2))),
    S("conv3d", lambda m, x, w: F(m).conv3d(x, w), (N(1, 1, 3, 3, 3), N(2, 1, 2, 2, 2)), (N(1, 2, 2, 2, 2), N(1, 2, 1, 1, 1))),
    S("conv_transpose2d", lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, stride=2), (N(1, 2, 3, 3), N(2, 3, 2, 2), N(3))),
    S("conv_transpose1d", lambda m, x, w: F(m).conv_transpose1d(x, w, padding=1), (N(2, 2, 4), N(2, 1, 3)), (N(1, 2, 2), N(2, 2, 2))),
    # pooling
    S("max_pool2d", _MP2, D(1, 2, 3, 3), D(2, 3, 3)),
    S("max_pool2d_tiled", lambda m, x: F(m).max_pool2d(x, 2), D(1, 2, 4, 4)),
    S("max_pool2d_indices", lambda m, x: F(m).max_pool2d(x, 2, 1, return_indices=True)[0], D(1, 1, 3, 3)),
    S("max_pool1d", lambda m, x: F(m).max_pool1d(x, 2), D(1, 2, 4), D(2, 1, 3)),
    S("max_pool3d", _MP3, D(1, 1, 3, 3, 3), D(1, 2, 2, 2, 2)),
    S("adaptive_max_pool2d", _AMP2, D(1, 2, 3, 3), D(1, 1, 2, 3)),
    S("adaptive_max_pool3d", _AMP3, D(1, 1, 3, 3, 3)),
    S("max_pool2d_backward", _pool_backward(_MP2), (D(1, 1, 3, 3), N(1, 1, 2, 2))),
    S("max_pool2d_tiled_backward", _pool_backward(lambda m, x: F(m).max_pool2d(x, 2)), (D(1, 1, 4, 4), N(1, 1, 2, 2))),
    S("max_pool3d_backward", _pool_backward(_MP3), (D(1, 1, 3, 3, 3), N(1, 1, 2, 2, 2))),
    S("adaptive_max_pool2d_backward", _pool_backward(_AMP2), (D(1, 1, 3, 3), N(1, 1, 2, 2))),
    S("adaptive_max_pool3d_backward", _pool_backward(_AMP3), (D(1, 1, 3, 3, 3), N(1, 1, 2, 2, 2))),
    S("avg_pool2d", _AP2, N(1, 2, 3, 3), N(2, 3, 3)),
    S("avg_pool2d_pad", lambda m, x: F(m).avg_pool2d(x, 3, 2, 1, count_include_pad=False, ceil_mode=True), N(1, 1, 4, 4)),
    S("avg_pool1d", lambda m, x: F(m).avg_pool1d(x, 2), N(1, 2, 4), N(2, 1, 3)),
    S("avg_pool3d", _AP3, N(1, 1, 3, 3, 3), N(1, 2, 2, 2, 2)),
    S("avg_pool2d_backward", _pool_backward(_AP2), (N(1, 1, 3, 3), N(1, 1, 2, 2))),
    S("avg_pool3d_backward", _pool_backward(_AP3), (N(1, 1, 3, 3, 3), N(1, 1, 2, 2, 2))),
    S("adaptive_avg_pool2d", lambda m, x: F(m).adaptive_avg_pool2d(x, (2, 3)), N(1, 2, 3, 4), N(2, 1, 1, 2)),
    S("adaptive_avg_pool2d_global", lambda m, x: F(m).adaptive_avg_pool2d(x, 1), N(1, 2, 3, 3)),
    S("adaptive_avg_pool3d", lambda m, x: F(m).adaptive_avg_pool3d(x, 2), N(1, 1, 3, 3, 3), N(1, 1, 2, 2, 2)),
    S("max_unpool2d", lambda m, x, y: F(m).max_unpool2d(x, F(m).max_pool2d(y, 2, return_indices=True)[1], 2),
      (N(1, 1, 2, 2), K(1, 1, 4, 4, kind="distinct"))),
    S("max_unpool3d", lambda m, x, y: F(m).max_unpool3d(x, F(m).max_pool3d(y, 2, return_indices=True)[1], 2),
      (N(1, 1, 1, 1, 1), K(1, 1, 2, 2, 2, kind="distinct"))),
    # padding, resampling, folding
    S("pad_constant", lambda m, x: F(m).pad(x, (1, 2, 0, 1), value=0.5), N(1, 2, 3), N(2, 2)),
    S("pad_reflect", lambda m, x: F(m).pad(x, (1, 1, 2, 1), mode="reflect"), N(1, 1, 3, 3)),
    S("pad_replicate", lambda m, x: F(m).pad(x, (1, 0, 2, 1), mode="replicate"), N(1, 1, 2, 3), N(1, 2, 1, 1)),
    S("pad_circular", lambda m, x: F(m).pad(x, (1, 1, 1, 0), mode="circular"), N(1, 1, 2, 3), N(1, 1, 1, 1)),
    S("interpolate_nearest", lambda m, x: F(m).interpolate(x, scale_factor=2, mode="nearest"), N(1, 1, 2, 3), N(1, 2, 1, 1)),
    S("interpolate_bilinear", lambda m, x: F(m).interpolate(x, size=(3, 4), mode="bilinear", align_corners=False), N(1, 1, 2, 3)),
    S("pixel_shuffle", lambda m, x: F(m).pixel_shuffle(x, 2), N(1, 4, 2, 3), N(1, 4, 1, 1)),
    S("pixel_unshuffle", lambda m, x: F(m).pixel_unshuffle(x, 2), N(1, 1, 4, 2)),
    S("channel_shuffle", lambda m, x: F(m).channel_shuffle(x, 2), N(2, 4, 3)),
    S("unfold_im2col", lambda m, x: F(m).unfold(x, 2, padding=1), N(1, 2, 3, 3), N(1, 1, 2, 2)),
    S("fold_col2im", lambda m, x: F(m).fold(x, (3, 3), 2), N(1, 4, 4)),
    S("affine_grid", lambda m, t: F(m).affine_grid(t, (1, 1, 2, 3), align_corners=False), N(1, 2, 3)),
    S("grid_sample", lambda m, x, g: F(m).grid_sample(x, g, align_corners=False), (N(1, 1, 3, 3), U(1, 2, 2, 2))),
    S("grid_sample_3d", lambda m, x, g: F(m).grid_sample(x, g, align_corners=True), (N(1, 1, 2, 2, 2), U(1, 1, 2, 2, 3))),
    # normalisation
    S("layer_norm", lambda m, x, w, b: F(m).layer_norm(x, (3,), w, b), (N(2, 3), N(3), N(3)), (N(2, 2, 3), N(3), N(3))),
    S("layer_norm_plain", lambda m, x: F(m).layer_norm(x, (2, 3)), N(2, 2, 3), N(1, 2, 3)),
    S("group_norm", lambda m, x, w, b: F(m).group_norm(x, 2, w, b), (N(2, 4, 3), N(4), N(4)), (N(1, 2, 2), N(2), N(2))),
    S("batch_norm", lambda m, x, w, b: F(m).batch_norm(x, None, None, w, b, training=True), (N(3, 2), N(2), N(2)), (N(2, 2, 3), N(2), N(2))),
    S("batch_norm_eval", lambda m, x, w, b, rm, rv: F(m).batch_norm(x, rm, rv, w, b), (N(3, 2), N(2), N(2), K(2), K(2, kind="pos"))),
    S("instance_norm", lambda m, x: F(m).instance_norm(x), N(2, 2, 3), N(1, 1, 4)),
    S("local_response_norm", lambda m, x: F(m).local_response_norm(x, 2), N(1, 3, 2)),
    S("weight_norm", _weight_norm, (N(3, 2), P(3, 1))),
    # losses
    S("mse_loss", lambda m, a, b: F(m).mse_loss(a, b), (N(2, 3), N(2, 3)), (N(3), N(3))),
    S("mse_loss_none", lambda m, a, b: F(m).mse_loss(a, b, reduction="none"), (N(2, 3), N(2, 3)), (N(3), N(1))),
    S("l1_loss", lambda m, a, b: F(m).l1_loss(a, b), (D(2, 3), D(2, 3)), (D(1), D(1))),
    S("binary_cross_entropy", lambda m, p, t: F(m).binary_cross_entropy(p, t), (PR(2, 3), K(2, 3, kind="prob")), (PR(1), K(1, kind="prob"))),
    S("binary_cross_entropy_weight", lambda m, p, t, w: F(m).binary_cross_entropy(p, t, w, reduction="sum"),
      (PR(2, 3), PR(2, 3), K(3, kind="pos"))),
    S("bce_with_logits", lambda m, x, t: F(m).binary_cross_entropy_with_logits(x, t), (N(2, 3), PR(2, 3)), (N(3), PR(3))),
    S("bce_with_logits_pos_weight", lambda m, x, t, w: F(m).binary_cross_entropy_with_logits(x, t, pos_weight=w),
      (N(2, 3), PR(2, 3), K(3, kind="pos"))),
    S("nll_loss", lambda m, x, t: F(m).nll_loss(x, t), (N(3, 4), I(4, 3)), (N(4), I(4))),
    S("nll_loss_weight", lambda m, x, t, w: F(m).nll_loss(x, t, w, ignore_index=1), (N(3, 4), I(4, 3), K(4, kind="pos")), (N(1, 4), I(4, 1), K(4, kind="pos"))),
    S("nll_loss2d", lambda m, x, t: F(m).nll_loss(x, t), (N(1, 3, 2, 2), I(3, 1, 2, 2))),
    S("cross_entropy", lambda m, x, t: F(m).cross_entropy(x, t, label_smoothing=0.1), (N(3, 4), I(4, 3)), (N(4), I(4))),
    S("cross_entropy_probs", lambda m, x, t: F(m).cross_entropy(x, t), (N(3, 4), PR(3, 4))),
    S("kl_div", lambda m, x, t: F(m).kl_div(x, t, reduction="batchmean"), (N(2, 3), P(2, 3)), (N(1, 3), P(1, 3))),
    S("smooth_l1_loss", lambda m, a, b: F(m).smooth_l1_loss(a, b, beta=0.5), (D(2, 3), D(2, 3)), (D(3), D(1))),
    S("huber_loss", lambda m, a, b: F(m).huber_loss(a, b, delta=0.5), (D(2, 3), D(2, 3)), (D(1), D(1))),
    S("soft_margin_loss", lambda m, a, b: F(m).soft_margin_loss(a, b), (N(2, 3), K(2, 3)), (N(1), K(1))),
    S("multi_margin_loss", lambda m, x, t: F(m).multi_margin_loss(x, t), (D(3, 4), I(4, 3)), (D(1, 3), I(3, 1)), double=_NO_MARGIN2),
    S("multilabel_margin_loss", lambda m, x: F(m).multilabel_margin_loss(x, m.tensor([[3, 0, -1, 1], [1, 2, 3, -1]])), D(2, 4),
      double=_NO_MARGIN2),
    S("ctc_loss", lambda m, lp, t: F(m).ctc_loss(lp.log_softmax(2), t + 1, [4, 4], [2, 1]), (N(4, 2, 3), I(2, 2, 2)),
      double="torch does not implement the derivative of _ctc_loss_backward"),
    S("cosine_similarity", lambda m, a, b: F(m).cosine_similarity(a, b), (N(2, 3), N(2, 3)), (N(1, 3), N(2, 3))),
    S("pairwise_distance", lambda m, a, b: F(m).pairwise_distance(a, b), (N(2, 3), N(2, 3)), (N(3), N(1, 3))),
    # embeddings
    S("embedding", lambda m, w, i: F(m).embedding(i, w), (N(4, 3), I(4, 2, 3)), (N(4, 3), I(4, 5))),
    S("embedding_backward", lambda m, w, v, i: m.autograd.grad(F(m).embedding(i, w) ** 2, w, v, create_graph=True)[0],
      (N(4, 3), N(5, 3), I(4, 5))),
    S("embedding_bag", lambda m, w, i: F(m).embedding_bag(i, w, m.tensor([0, 2]), mode="mean"), (N(4, 3), I(4, 5)), (N(2, 1), I(2, 3))),
    # attention, recurrent layers
    S("sdpa", lambda m, q, k, v: F(m).scaled_dot_product_attention(q, k, v), (N(1, 2, 3), N(1, 4, 3), N(1, 4, 2)), (N(2, 1, 3), N(2, 1, 3), N(2, 1, 1))),
    S("sdpa_fused", lambda m, q, k, v: F(m).scaled_dot_product_attention(q, k, v), (N(1, 2, 2, 3), N(1, 2, 4, 3), N(1, 2, 4, 3)),
      double="torch does not implement the derivative of _scaled_dot_product_flash_attention_for_cpu_backward"),
    S("lstm", _lstm, (N(3, 1, 2), N(12, 2), N(12, 3), N(12), N(12)), (N(1, 2, 2), N(12, 2), N(12, 3), N(12), N(12))),
    S("pack_padded_sequence", _packed, N(3, 2, 2)),
    # samplers: the sample does not depend on the probabilities or rates
    S("bernoulli", _sampler(lambda m, p: m.bernoulli(p)), PR(2, 3), PR(1), random=True),
    S("poisson", _sampler(lambda m, p: m.poisson(p)), P(2, 3), P(), random=True),
    S("dropout", lambda m, x: (m.manual_seed(0), F(m).dropout(x, 0.0))[1], N(2, 3), N()),
]

EXEMPT = {"HardsigmoidBackwardBackward0": "torch does not differentiate hardsigmoid twice (hardsigmoid_backward has no "
                                          "derivative), so no sample runs the selection node ember records for it"}
