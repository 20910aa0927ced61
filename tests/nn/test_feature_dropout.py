"""Channel dropout draws torch's random stream with torch's mask shape (the mnist_rnn first-loss bug).

torch's dropout2d reads every input as (N, C, ...): a 2-D (N, C) input gets an elementwise mask and a
3-D input is (N, C, L); only dropout1d / dropout3d treat the input without batch dim as unbatched.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember

CASES = [("dropout2d", (64, 32)), ("dropout2d", (3, 4, 5)), ("dropout2d", (2, 3, 4, 5)), ("dropout2d", (2, 3, 2, 2, 2)),
         ("dropout1d", (4, 6)), ("dropout1d", (2, 4, 6)), ("dropout3d", (3, 2, 2, 2)), ("dropout3d", (2, 3, 2, 2, 2)),
         ("dropout", (64, 32))]


def _masked(lib: object, name: str, shape: tuple, p: float = 0.25) -> np.ndarray:
    lib.manual_seed(0)
    x = lib.arange(float(np.prod(shape))).reshape(shape) + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = getattr(lib.nn.functional, name)(x, p, True)
        after = lib.rand(3)  # the stream continues where torch's does
    return np.concatenate([out.numpy().ravel(), after.numpy()])


@pytest.mark.parametrize(("name", "shape"), CASES)
def test_channel_mask_and_stream_match_torch(name: str, shape: tuple) -> None:
    np.testing.assert_allclose(_masked(ember, name, shape), _masked(torch, name, shape), rtol=1e-6)


def test_module_on_2d_input_is_elementwise_like_torch() -> None:
    def run(lib: object) -> np.ndarray:
        lib.manual_seed(1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.nn.Dropout2d(0.5)(lib.ones(16, 8)).numpy()

    np.testing.assert_array_equal(run(ember), run(torch))


@pytest.mark.parametrize("shape", [(3, 4), (3, 4, 5), (1, 2, 3, 4, 5)])
def test_dropout2d_warnings_match_torch(shape: tuple) -> None:
    def messages(lib: object) -> list[str]:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.functional.dropout2d(lib.ones(shape), 0.5, True)
        return [str(m.message) for m in w if issubclass(m.category, UserWarning)]

    assert messages(ember) == messages(torch)


def test_dropout2d_needs_two_dims_when_training() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib in (torch, ember):
            with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions in the input"):
                lib.nn.functional.dropout2d(lib.ones(5), 0.5, True)
            assert lib.nn.functional.dropout2d(lib.ones(5), 0.5, False).shape == (5,)
