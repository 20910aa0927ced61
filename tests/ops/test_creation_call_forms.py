"""Creation functions' call forms (randint(high, size=), zeros(size=) ...), checked against torch."""

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


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_by_keyword(name):
    # torch.rand(size=(1, 1, 224, 224)) is how d2l's ResNet chapter writes it
    torch.manual_seed(5)
    ember.manual_seed(5)
    expected = getattr(torch, name)(size=(2, 3))
    got = getattr(ember, name)(size=(2, 3))
    assert tuple(got.shape) == tuple(expected.shape)
    if name != "empty":
        assert got.tolist() == expected.tolist()


def test_size_both_ways_is_an_error():
    with pytest.raises(TypeError):
        torch.zeros(2, size=(2,))
    with pytest.raises(TypeError):
        ember.zeros(2, size=(2,))
