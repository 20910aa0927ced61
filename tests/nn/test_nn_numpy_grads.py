"""NumPy-computed nn gradients against torch: embedding's weight gradient (rows summed per index
by nn/_ops._add_rows: repeated indices, padding_idx, scale_grad_by_freq, an empty batch), and
layer norm's saved x-hat kept apart from its output."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

R = np.random.default_rng(13)


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 3}, {"scale_grad_by_freq": True},
                                {"padding_idx": 0, "scale_grad_by_freq": True}])
@pytest.mark.parametrize("shape", [(40, 30), (7,), (0, 5)])
def test_embedding_weight_grad_matches_torch(kw, shape):
    idx = R.integers(0, 12, shape)  # many repeats
    w0 = R.standard_normal((12, 6))
    g0 = R.standard_normal(shape + (6,))
    res = []
    for lib in (ember, torch):
        w = lib.tensor(w0, requires_grad=True)
        out = lib.nn.functional.embedding(lib.tensor(idx), w, **kw)
        (out * lib.tensor(g0)).sum().backward()
        res.append((out.detach().numpy(), w.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_add_rows_equals_numpy_add_at():
    from ember.nn._ops import _add_rows

    idx = R.integers(0, 50, 5000)
    rows = R.standard_normal((5000, 8)).astype(np.float32)
    ref = np.zeros((50, 8), np.float32)
    np.add.at(ref, idx, rows)
    np.testing.assert_allclose(_add_rows(50, idx, rows), ref, rtol=1e-5, atol=1e-5)


def test_layer_norm_output_is_not_its_saved_normalised_input():
    # without weight and bias the output equals x-hat, which backward keeps: changing the output
    # in place must not change the gradient (torch: the same gradient)
    x0 = R.standard_normal((4, 6))
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = lib.nn.functional.layer_norm(x, (6,))
        z = y * lib.tensor(np.cos(np.arange(24.0)).reshape(4, 6))
        with lib.no_grad():
            y.mul_(10)
        z.sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw, whole", [({"scale_factor": 2}, True), ({"scale_factor": (3, 2)}, True),
                                       ({"size": (6, 10)}, True), ({"size": (5, 7)}, False), ({"scale_factor": 1.5}, False)])
def test_nearest_upsampling_matches_torch(kw, whole):
    # whole factors take the block-repeat op (torch's UpsampleNearest2DBackward0), others index_select
    x0 = R.standard_normal((2, 3, 3, 5))
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = lib.nn.functional.interpolate(x, mode="nearest", **kw)
        (y * lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))).sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy(), type(y.grad_fn).__name__))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12, atol=0)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12, atol=1e-12)
    if whole:  # (other ratios are index_selects in ember: IndexSelectBackward0)
        assert res[0][2] == res[1][2]


def test_nearest_upsampling_second_order():
    x0 = R.standard_normal((1, 2, 3, 3))
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = lib.nn.functional.interpolate(x, scale_factor=2)
        gx, = lib.autograd.grad((y ** 3).sum(), x, create_graph=True)
        (gx * gx).sum().backward()
        res.append(x.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-10)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_select_and_indexing_grads_with_repeats(dim):
    x0 = R.standard_normal((6, 5, 4))
    idx = np.array([0, 3, 3, -1 if dim != 0 else 5, 1, 0, 3])
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        pos = np.where(idx < 0, idx + x0.shape[dim], idx)
        a = x.index_select(dim, lib.tensor(pos))
        b = x[lib.tensor(idx)]
        ((a * a).sum() + (b * 2).sum()).backward()
        res.append(x.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
                                {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False},
                                {"kernel_size": (2, 3), "stride": (2, 1), "ceil_mode": True},
                                {"kernel_size": 2, "divisor_override": 3}])
def test_avg_pool_window_sums_match_torch(kw):
    x0 = R.standard_normal((2, 3, 7, 8))
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = lib.nn.functional.avg_pool2d(x, **kw)
        gx, = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        (gx * gx).sum().backward()
        res.append((y.detach().numpy(), gx.detach().numpy(), x.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("size", [1, (1, 1), (2, 3), (None, 1)])
def test_adaptive_avg_pool_matches_torch(size):
    x0 = R.standard_normal((2, 3, 5, 7))
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = lib.nn.functional.adaptive_avg_pool2d(x, size)
        (y * lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))).sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy()))
    for a, b in zip(*res):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kw", [{"kernel_size": 3, "stride": 2, "padding": 1}, {"kernel_size": 2},
                                {"kernel_size": 3, "stride": 1, "dilation": 2}, {"kernel_size": (3, 2), "stride": (2, 1),
                                                                              "ceil_mode": True, "padding": (1, 0)}])
@pytest.mark.parametrize("special", ["ties", "nan"])
def test_max_pool_general_matches_torch(kw, special):
    # ReLU-like zeros (ties: the first maximum wins) or NaNs (the last NaN wins), values, indices and grads
    x0 = np.maximum(R.standard_normal((2, 3, 9, 8)), 0).astype(np.float32)
    if special == "nan":
        x0[0, 0, 1, 1] = x0[0, 0, 2, 2] = x0[1, 2, 5, 3] = np.nan
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        y, idx = lib.nn.functional.max_pool2d(x, return_indices=True, **kw)
        (y.nan_to_num(0.0) * lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(np.float32))).sum().backward()
        res.append((y.detach().numpy(), idx.numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])
    # (where windows overlap, a position's gradients are summed in another order: an ulp apart)
    np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("shape, r", [((2, 8, 3, 4), 2), ((9, 2, 2), 3), ((2, 1, 4, 2, 2), 2)])
def test_pixel_shuffle_round_trip_matches_torch(shape, r):
    x0 = R.standard_normal(shape)
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = lib.nn.functional.pixel_shuffle(x, r)
        z = lib.nn.PixelUnshuffle(r)(lib.nn.PixelShuffle(r)(x) * 2)
        g, = lib.autograd.grad((y * y * y).sum() + z.sum(), x, create_graph=True)
        g2, = lib.autograd.grad((g * g).sum(), x)
        res.append((y.detach().numpy(), z.detach().numpy(), g.detach().numpy(), g2.numpy(), type(y.grad_fn).__name__,
                    type(z.grad_fn).__name__, repr(lib.nn.PixelShuffle(r))))
    for a, b in zip(res[0][:4], res[1][:4]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert res[0][4:] == res[1][4:]


def test_pixel_shuffle_errors_match_torch():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor"):
            lib.nn.functional.pixel_shuffle(lib.zeros(1, 7, 3, 3), 2)
        with pytest.raises(RuntimeError, match="expects height to be divisible"):
            lib.nn.functional.pixel_unshuffle(lib.zeros(1, 2, 5, 6), 2)


@pytest.mark.parametrize("cls, shape", [("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm2d", (2, 3, 4, 4)),
                                        ("InstanceNorm2d", (3, 4, 4)), ("InstanceNorm3d", (2, 3, 2, 3, 2))])
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"affine": True, "track_running_stats": True}])
def test_instance_norm_matches_torch(cls, shape, kw):
    x0 = R.standard_normal(shape)
    res = []
    for lib in (ember, torch):
        m = getattr(lib.nn, cls)(3, **kw).double()
        if kw.get("affine"):
            with lib.no_grad():
                m.weight.copy_(lib.tensor([0.5, 1.5, -1.0]))
                m.bias.copy_(lib.tensor([0.1, 0.0, -0.2]))
        x = lib.tensor(x0, requires_grad=True)
        y = m(x)
        g, = lib.autograd.grad((y * y * y).sum(), x, create_graph=True)
        g2, = lib.autograd.grad((g * g).sum(), x)
        out = [y.detach().numpy(), g.detach().numpy(), g2.numpy(), type(y.grad_fn).__name__, repr(m)]
        if kw.get("track_running_stats"):
            out += [m.running_mean.numpy(), m.running_var.numpy(), int(m.num_batches_tracked)]
            m.eval()
            out.append(m(x).detach().numpy())
        res.append(out)
    for a, b in zip(res[0], res[1]):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)
        else:
            assert a == b


def test_instance_norm_errors_match_torch():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
            lib.nn.functional.instance_norm(lib.zeros(2, 3, 1))
        with pytest.raises(ValueError, match="to match num_features"):
            lib.nn.InstanceNorm1d(3, affine=True)(lib.zeros(2, 4, 5))


@pytest.mark.parametrize("shape, kw", [((2, 3, 5, 6), {"kernel_size": (2, 3), "padding": 1, "stride": 2}),
                                       ((2, 3, 5, 6), {"kernel_size": 2}),
                                       ((3, 7, 7), {"kernel_size": 3, "dilation": 2, "padding": 2}),
                                       ((1, 2, 6, 6), {"kernel_size": 2, "stride": 2})])
def test_unfold_fold_match_torch(shape, kw):
    x0 = R.standard_normal(shape)
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        u = lib.nn.functional.unfold(x, **kw)
        f = lib.nn.Fold(tuple(shape[-2:]), **kw)(u * u)
        g, = lib.autograd.grad((f * f).sum(), x, create_graph=True)
        g2, = lib.autograd.grad((g * g).sum(), x)
        res.append((u.detach().numpy(), f.detach().numpy(), g.detach().numpy(), g2.numpy(),
                    type(u.grad_fn).__name__, type(f.grad_fn).__name__, repr(lib.nn.Unfold(**kw))))
    for a, b in zip(res[0][:4], res[1][:4]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
    assert res[0][4:] == res[1][4:]


def test_fold_errors_match_torch():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
            lib.nn.functional.fold(lib.zeros(2, 7, 4), (5, 6), 2)
        with pytest.raises(RuntimeError, match="match the calculated number of sliding blocks"):
            lib.nn.functional.fold(lib.zeros(2, 8, 7), (5, 6), 2)


@pytest.mark.parametrize("shape, size", [((2, 5, 3, 3), 3), ((2, 6, 4), 2), ((1, 4, 2, 3, 2), 5), ((2, 3, 4), 1)])
def test_local_response_norm_matches_torch(shape, size):
    x0 = R.standard_normal(shape)
    res = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = lib.nn.LocalResponseNorm(size, alpha=0.3, beta=0.6, k=1.5)(x)
        g, = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        g2, = lib.autograd.grad((g * g).sum(), x)
        res.append((y.detach().numpy(), g.detach().numpy(), g2.numpy(), type(y.grad_fn).__name__,
                    repr(lib.nn.LocalResponseNorm(size))))
    for a, b in zip(res[0][:3], res[1][:3]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert res[0][3:] == res[1][3:]
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality"):
        ember.nn.functional.local_response_norm(ember.zeros(2, 5), 3)


@pytest.mark.parametrize("call", [
    lambda L: L.nn.functional.unfold(L.zeros(4, 4), 2),
    lambda L: L.nn.functional.unfold(L.zeros(1, 1, 1, 4, 4), 2),
    lambda L: L.nn.functional.unfold(L.zeros(1, 1, 2, 2), 3),
    lambda L: L.nn.functional.fold(L.zeros(1, 4, 4, 1), (3, 3), 2),
    lambda L: L.nn.functional.instance_norm(L.zeros(2, 3)),
    lambda L: L.nn.functional.instance_norm(L.zeros(2, 3, 4), use_input_stats=False),
    lambda L: L.zeros(3).unfold(0, -1, 1),
    lambda L: L.rot90(L.zeros(3)),
    lambda L: L.linalg.matrix_exp(L.zeros(2, 2, dtype=L.int64)),
    lambda L: L.polygamma(-1, L.tensor([1.0])),
])
def test_new_functions_raise_as_torch(call):
    errors = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as err:
            call(lib)
        errors.append((type(err.value), str(err.value).replace("torch.", "ember.")))
    assert errors[0] == errors[1]
