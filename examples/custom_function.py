"""Write your own differentiable op with ``autograd.Function``, check it, and train with it.

``Softplus`` below computes softplus(x) = log(1 + exp(beta x)) / beta in a numerically stable
way and gives autograd its derivative by hand: d softplus / dx = sigmoid(beta x). Then:

1. the naive formula overflows for large inputs, the Function does not;
2. ``autograd.gradcheck`` compares the hand-written backward with finite differences (float64);
3. gradcheck also catches a wrong backward: a clamp whose gradient passes straight through;
4. the Function is the activation of a small network fitted to a curve with SGD.

Run:  python examples/custom_function.py [--steps 1500] [--compile] [--tiny]
Write ``torch`` for ``ember`` in the imports and it runs on PyTorch, giving the same numbers.
"""

from __future__ import annotations

import argparse
import math

import ember as torch
from ember.autograd import Function, gradcheck


class Softplus(Function):
    """softplus(x) = log(1 + exp(beta x)) / beta, written as max(x, 0) + log1p(exp(-|beta x|)) / beta."""

    @staticmethod
    def forward(ctx, x, beta=1.0):
        # forward runs with autograd off: nothing here is recorded; backward below is the derivative
        bx = x * beta
        ctx.save_for_backward(bx)
        ctx.beta = beta                               # plain Python values can be kept on ctx
        return bx.clamp(min=0) / beta + torch.log1p(torch.exp(-bx.abs())) / beta

    @staticmethod
    def backward(ctx, grad_out):
        bx, = ctx.saved_tensors
        # one gradient per forward argument: x gets grad * sigmoid(beta x); beta (a float) gets None
        return grad_out * torch.sigmoid(bx), None


def softplus(x, beta=1.0):
    return Softplus.apply(x, beta)


class StraightThroughClamp(Function):
    """Clamp to [lo, hi] in forward but pass the gradient through unchanged (a deliberate 'lie')."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        return x.clamp(lo, hi)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out, None, None


def check_stability() -> tuple[float, float]:
    x = torch.tensor([-100.0, 0.0, 100.0])
    naive = torch.log(1 + torch.exp(x))
    ours = softplus(x)
    print("naive log(1 + exp(x)) at x = -100, 0, 100:", ", ".join(f"{v:.4g}" for v in naive.tolist()))
    print("Softplus.apply                           :", ", ".join(f"{v:.4g}" for v in ours.tolist()))
    return naive[2].item(), ours[2].item()


def check_gradients() -> tuple[bool, bool]:
    x = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)    # gradcheck wants float64
    ok = gradcheck(lambda t: softplus(t, 2.0), (x,))
    print(f"gradcheck(Softplus)             -> {ok}")
    # inputs around the clamp edges: where the clamp is flat, the true derivative is 0, not 1
    y = torch.linspace(-2, 2, 9, dtype=torch.float64).add(0.05).requires_grad_()
    st_ok = gradcheck(lambda t: StraightThroughClamp.apply(t, -1.0, 1.0), (y,), raise_exception=False)
    print(f"gradcheck(StraightThroughClamp) -> {st_ok}  (expected: its gradient is not the clamp's)")
    return ok, st_ok


def train(steps: int, hidden: int, lr: float, compile: bool = False) -> list[float]:
    """Fit y = |x| - 0.5 sin(3x) on [-2, 2] with Linear -> Softplus -> Linear and SGD with momentum
    (``compile``: the training step through torch.compile, Softplus's forward and backward inside)."""
    x = torch.linspace(-2, 2, 256).unsqueeze(1)
    y = x.abs() - 0.5 * torch.sin(3 * x)
    layer1, layer2 = torch.nn.Linear(1, hidden), torch.nn.Linear(hidden, 1)
    params = list(layer1.parameters()) + list(layer2.parameters())
    optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9)

    def train_step(x, y):
        pred = layer2(softplus(layer1(x), 2.0))        # the custom Function inside a network
        loss = torch.nn.functional.mse_loss(pred, y)
        optimizer.zero_grad()
        loss.backward()                                # runs Softplus.backward for the hidden layer
        optimizer.step()
        return loss

    run_step = torch.compile(train_step) if compile else train_step
    losses = []
    for step in range(steps):
        loss = run_step(x, y)
        losses.append(loss.item())
        if step % max(1, steps // 5) == 0 or step == steps - 1:
            print(f"  step {step:5d}  mse {loss.item():.5f}")
    return losses


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", action="store_true", help="run the training step through torch.compile")
    parser.add_argument("--tiny", action="store_true", help="a short training run (for the tests)")
    args = parser.parse_args(argv)
    if args.tiny:
        args.steps = 150
    torch.manual_seed(args.seed)

    print("1) stability")
    naive_big, ours_big = check_stability()
    print("2) gradient checks")
    ok, st_ok = check_gradients()
    print("3) training Linear(1, %d) -> Softplus -> Linear(%d, 1)" % (args.hidden, args.hidden))
    losses = train(args.steps, args.hidden, args.lr, args.compile)
    assert math.isinf(naive_big) and ours_big == 100.0
    return {"gradcheck": ok, "straight_through_gradcheck": st_ok, "losses": losses}


if __name__ == "__main__":
    main()
