"""Fit y = sin(x) on [-pi, pi] with a cubic a + b x + c x^2 + d x^3, two ways.

1. By hand: four tensors with requires_grad=True, the loss written out, ``loss.backward()``
   for the gradients and a plain gradient-descent update inside ``ember.no_grad()``.
2. With the toolkit: the same cubic as an ``nn.Linear(3, 1)`` over the features (x, x^2, x^3),
   ``nn.MSELoss`` and an ``optim.Adam`` optimizer doing the update.

Run:  python examples/fit_polynomial.py            (add --tiny for a few-step smoke run)
      python examples/fit_polynomial.py --compile  (each training step through torch.compile)
Write ``torch`` for ``ember`` in the imports and it runs on PyTorch, giving the same numbers.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Callable

import ember as torch


def make_data(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.linspace(-math.pi, math.pi, n)
    return x, torch.sin(x)


def train(train_step: Callable[..., torch.Tensor], args: tuple, steps: int, log_every: int, compile: bool) -> list[float]:
    """Run ``train_step(*args)`` ``steps`` times (compiled with torch.compile when asked), printing
    the loss every ``log_every`` steps; returns every step's loss."""
    run_step = torch.compile(train_step) if compile else train_step
    losses = []
    for step in range(steps):
        loss = run_step(*args)
        losses.append(loss.item())
        if step % log_every == 0 or step == steps - 1:
            print(f"  step {step:5d}  loss {loss.item():.6f}")
    return losses


def fit_by_hand(x: torch.Tensor, y: torch.Tensor, steps: int, lr: float, log_every: int,
                compile: bool = False) -> tuple[list[float], list[float]]:
    """Gradient descent written out: the loss, backward(), and the update of each coefficient."""
    a, b, c, d = (torch.randn((), requires_grad=True) for _ in range(4))

    def train_step(x, y):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = ((y_pred - y) ** 2).mean()
        loss.backward()                     # fills a.grad, b.grad, c.grad, d.grad
        with torch.no_grad():               # the update itself must not be recorded
            for p in (a, b, c, d):
                p -= lr * p.grad
                p.grad = None
        return loss

    losses = train(train_step, (x, y), steps, log_every, compile)
    coeffs = [a.item(), b.item(), c.item(), d.item()]
    return losses, coeffs


def fit_with_nn(x: torch.Tensor, y: torch.Tensor, steps: int, lr: float, log_every: int,
                compile: bool = False) -> tuple[list[float], list[float]]:
    """The same cubic with nn.Linear over the features (x, x^2, x^3), MSELoss and an optimizer."""
    features = torch.stack([x, x ** 2, x ** 3], dim=1)     # (n, 3)
    target = y.unsqueeze(1)                                 # (n, 1)
    model = torch.nn.Linear(3, 1)
    loss_fn = torch.nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def train_step(features, target):
        loss = loss_fn(model(features), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    losses = train(train_step, (features, target), steps, log_every, compile)
    w = model.weight.detach().flatten().tolist()
    coeffs = [model.bias.item(), *w]
    return losses, coeffs


def show(coeffs: list[float]) -> str:
    a, b, c, d = coeffs
    return f"y = {a:+.4f} {b:+.4f} x {c:+.4f} x^2 {d:+.4f} x^3"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="gradient steps for each method")
    parser.add_argument("--points", type=int, default=2000, help="sample points on [-pi, pi]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", action="store_true", help="run each training step through torch.compile")
    parser.add_argument("--tiny", action="store_true", help="a few steps on a few points (for the tests)")
    args = parser.parse_args(argv)
    if args.tiny:
        args.steps, args.points = 200, 200
    torch.manual_seed(args.seed)
    x, y = make_data(args.points)
    log_every = max(1, args.steps // 5)
    t0 = time.perf_counter()

    print("1) manual gradient descent on four tensors")
    manual_losses, manual = fit_by_hand(x, y, args.steps, lr=3e-3, log_every=log_every, compile=args.compile)
    print("   result:", show(manual))

    print("2) nn.Linear(3, 1) + nn.MSELoss + optim.Adam")
    nn_losses, fitted = fit_with_nn(x, y, args.steps, lr=1e-2, log_every=log_every, compile=args.compile)
    print("   result:", show(fitted))

    # the best cubic in the least-squares sense on [-pi, pi] is about y = 0.857 x - 0.0933 x^3
    # (the Taylor cubic x - x^3/6 is exact near 0 but far off at the ends)
    print("   best cubic (least squares): y = 0.857 x - 0.0933 x^3")
    print(f"done in {time.perf_counter() - t0:.1f}s")
    return {"manual_losses": manual_losses, "manual_coeffs": manual, "nn_losses": nn_losses, "nn_coeffs": fitted}


if __name__ == "__main__":
    main()
