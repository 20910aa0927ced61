"""Classify handwritten digits with a small MLP: scikit-learn's bundled 8x8 digits, no download.

1,797 grey-scale images of the digits 0-9 are split 80/20 into training and held-out sets; a
two-hidden-layer MLP is trained with Adam and cross-entropy, a tqdm bar shows the running loss
and accuracy, the held-out accuracy is printed at the end and the loss curve is saved as a PNG.

Run:  python examples/train_digits_mlp.py [--compile] [--epochs 30] [--out runs/digits_mlp.png] [--tiny]
Needs the optional libraries of the ``examples`` extra; from the checkout:  pip install -e '.[examples]'
Write ``torch`` for ``ember`` in the imports and it runs on PyTorch, giving the same numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import ember as torch
import ember.nn.functional as F
from ember import nn
from ember.utils.data import DataLoader, TensorDataset, random_split


def require_examples_extra():
    """Import scikit-learn, tqdm and matplotlib, or exit naming the extra that provides them."""
    try:
        import matplotlib
        matplotlib.use("Agg")                     # draw to files; no display needed
        import matplotlib.pyplot as plt
        from sklearn.datasets import load_digits
        from tqdm import tqdm
    except ImportError as e:
        sys.exit(f"this example needs scikit-learn, tqdm and matplotlib (could not import {e.name!r}); "
                 f"from ember's checkout: pip install -e '.[examples]' (or: pip install scikit-learn tqdm matplotlib)")
    return load_digits, tqdm, plt


def load_data(load_digits, seed: int, limit: int | None = None) -> tuple[TensorDataset, TensorDataset]:
    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16.0      # (1797, 64), pixels in [0, 1]
    y = torch.tensor(digits.target, dtype=torch.int64)              # (1797,), labels 0..9
    if limit is not None:
        x, y = x[:limit], y[:limit]
    train, test = random_split(TensorDataset(x, y), [0.8, 0.2], generator=torch.Generator().manual_seed(seed))
    return train, test


def make_model() -> nn.Module:
    return nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )


def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over a loader, without recording a graph."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(dim=1) == y).sum().item()
            count += len(y)
    model.train()
    return total_loss / count, correct / count


def plot_curves(plt, history: dict, out: str, title: str) -> None:
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    steps_per_epoch = len(history["batch_loss"]) / max(1, len(history["test_loss"]))
    batch_x = [(i + 1) / steps_per_epoch for i in range(len(history["batch_loss"]))]
    epochs = list(range(1, len(history["test_loss"]) + 1))
    ax_loss.plot(batch_x, history["batch_loss"], color="tab:blue", alpha=0.3, lw=0.8, label="train (each batch)")
    ax_loss.plot(epochs, history["train_loss"], color="tab:blue", marker="o", ms=3, label="train (epoch mean)")
    ax_loss.plot(epochs, history["test_loss"], color="tab:orange", marker="o", ms=3, label="held-out")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log", title="loss")
    ax_loss.legend()
    ax_acc.plot(epochs, history["train_acc"], color="tab:blue", marker="o", ms=3, label="train")
    ax_acc.plot(epochs, history["test_acc"], color="tab:orange", marker="o", ms=3, label="held-out")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title="accuracy")
    ax_acc.grid(alpha=0.3)
    ax_acc.legend(loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, help="passes over the training set (default 30, 5 with --tiny)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join("runs", "digits_mlp.png"),
                        help="where to save the loss curve (PNG; its folder is created)")
    parser.add_argument("--compile", action="store_true", help="run the training step through torch.compile")
    parser.add_argument("--tiny", action="store_true", help="a quick run on a part of the data (for the tests)")
    args = parser.parse_args(argv)
    load_digits, tqdm, plt = require_examples_extra()

    torch.manual_seed(args.seed)
    limit = 800 if args.tiny else None
    epochs = args.epochs or (5 if args.tiny else 30)
    train_set, test_set = load_data(load_digits, args.seed, limit)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=256)
    print(f"digits: {len(train_set)} training and {len(test_set)} held-out images of 8x8 pixels")

    model = make_model()
    print(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    def train_step(x, y):
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss, logits

    # --compile: the step traced once and replayed as a NumPy program (same numbers as eager)
    step = torch.compile(train_step) if args.compile else train_step
    history = {k: [] for k in ("batch_loss", "train_loss", "train_acc", "test_loss", "test_acc")}
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        seen, correct, loss_sum = 0, 0, 0.0
        with tqdm(total=len(train_loader), desc=f"epoch {epoch:2d}/{epochs}", unit="batch", file=sys.stdout) as bar:
            for x, y in train_loader:
                loss, logits = step(x, y)

                history["batch_loss"].append(loss.item())
                seen += len(y)
                loss_sum += loss.item() * len(y)
                correct += (logits.argmax(dim=1) == y).sum().item()
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.3f}", refresh=False)
                bar.update()
            test_loss, test_acc = evaluate(model, test_loader)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.3f}", test_acc=f"{test_acc:.3f}")
        history["train_loss"].append(loss_sum / seen)
        history["train_acc"].append(correct / seen)
        history["test_loss"].append(test_loss)
        history["test_acc"].append(test_acc)
    seconds = time.perf_counter() - t0

    test_acc = history["test_acc"][-1]
    print(f"held-out accuracy: {test_acc:.2%} ({len(test_set)} images) after {epochs} epochs in {seconds:.1f}s")
    plot_curves(plt, history, args.out, f"MLP on scikit-learn digits: held-out accuracy {test_acc:.1%}")
    print(f"loss curve saved to {args.out}")
    return {**history, "seconds": seconds, "out": args.out}


if __name__ == "__main__":
    main()
