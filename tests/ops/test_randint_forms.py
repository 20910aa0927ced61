"""randint's call forms, checked against torch's draws after the same seed."""

import pytest

import ember

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("call", [
    lambda m: m.randint(7, size=(5,)),          # high and size by keyword (pytorch/examples mnist_forward_forward)
    lambda m: m.randint(7, (5,)),
    lambda m: m.randint(2, 9, (3, 2)),
    lambda m: m.randint(low=2, high=9, size=(4,)),
    lambda m: m.randint(high=9, size=(4,)),
])
def test_randint_forms_draw_torch_numbers(call):
    torch.manual_seed(3)
    ember.manual_seed(3)
    expected = call(torch)
    got = call(ember)
    assert got.tolist() == expected.tolist()
    assert str(got.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
