"""A character-level language model (Embedding + LSTM + Linear) trained on Python's own source.

The training text is on every machine: the source files of a few standard-library modules,
read with ``inspect.getsource``. The model reads a window of characters and learns to predict
each next one (cross-entropy over the vocabulary); after training it writes a sample, one
character at a time, drawing each from the predicted distribution.

Run:  python examples/char_model.py [--steps 300] [--compile] [--tiny]
Write ``torch`` for ``ember`` in the imports and it runs on PyTorch, giving the same numbers.

The default run, 300 steps of 32 windows of 64 characters, takes about 40 s of CPU time on a
2-core machine (a step is ~0.1 s; benchmark W9 times one against torch) and brings the loss from
~5.0 to ~2.0: enough for a sample with Python's shape (indentation, ``self.``, ``def``, ``return``,
brackets). More steps keep improving it, in proportion more time (``--steps 1000``: about 3x).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import time

import ember as torch
import ember.nn.functional as F
from ember import nn

MODULES = ("textwrap", "heapq", "bisect", "fnmatch", "colorsys", "shlex", "string")


def stdlib_text(modules=MODULES, max_chars: int | None = None) -> str:
    """The source code of some standard-library modules, concatenated."""
    parts = []
    for name in modules:
        try:
            parts.append(inspect.getsource(importlib.import_module(name)))
        except (ImportError, OSError, TypeError):   # a build without .py sources: skip that module
            continue
    if not parts:
        raise SystemExit("no standard-library source files found to train on")
    text = "\n".join(parts)
    return text[:max_chars] if max_chars else text


class CharLSTM(nn.Module):
    def __init__(self, vocab_size: int, embed: int = 32, hidden: int = 128, layers: int = 1) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, idx: torch.Tensor, state=None):
        out, state = self.lstm(self.embed(idx), state)     # (batch, time, hidden)
        return self.head(out), state                       # logits (batch, time, vocab)


def random_windows(data: torch.Tensor, batch: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` random windows of the text; the targets are the inputs shifted by one character."""
    starts = torch.randint(0, len(data) - length - 1, (batch,))
    offsets = torch.arange(length + 1)
    chunk = data[starts.unsqueeze(1) + offsets]              # (batch, length + 1)
    return chunk[:, :-1], chunk[:, 1:]


@torch.no_grad()
def sample(model: CharLSTM, stoi: dict, itos: list, prompt: str, n: int, temperature: float = 0.8) -> str:
    model.eval()
    idx = torch.tensor([[stoi[c] for c in prompt if c in stoi]])
    logits, state = model(idx)
    out = []
    for _ in range(n):
        probs = F.softmax(logits[0, -1] / temperature, dim=-1)
        nxt = torch.multinomial(probs, 1)                   # one character id, drawn from probs
        out.append(itos[nxt.item()])
        logits, state = model(nxt.view(1, 1), state)       # feed it back with the carried state
    model.train()
    return prompt + "".join(out)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300,
                        help="training steps (batches); the default 300 takes about 40 s of CPU time and "
                             "reaches loss ~2.0; more steps, a better sample")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=64, help="characters per training window")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--sample-len", type=int, default=300)
    parser.add_argument("--prompt", default="def ")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", action="store_true", help="run the training step through torch.compile")
    parser.add_argument("--tiny", action="store_true", help="a small model for a few steps (for the tests)")
    args = parser.parse_args(argv)
    if args.tiny:
        args.steps, args.batch_size, args.seq_len, args.hidden, args.sample_len = 60, 16, 24, 48, 80
    torch.manual_seed(args.seed)

    text = stdlib_text(max_chars=20_000 if args.tiny else None)
    itos = sorted(set(text))                                # the vocabulary: every character seen
    stoi = {c: i for i, c in enumerate(itos)}
    data = torch.tensor([stoi[c] for c in text])
    print(f"training text: {len(text):,} characters of standard-library source, {len(itos)} distinct")

    model = CharLSTM(len(itos), hidden=args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    print(model)
    losses = []
    log_every = max(1, args.steps // 10)
    t0 = time.perf_counter()

    def train_step(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(itos)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # LSTMs train steadier with clipped gradients
        optimizer.step()
        return loss

    # --compile: the step traced once and replayed as a NumPy program (same numbers as eager)
    train = torch.compile(train_step) if args.compile else train_step
    for step in range(1, args.steps + 1):
        x, y = random_windows(data, args.batch_size, args.seq_len)
        loss = train(x, y)
        losses.append(loss.item())
        if step % log_every == 0 or step == 1:
            recent = sum(losses[-log_every:]) / len(losses[-log_every:])
            print(f"step {step:5d}/{args.steps}  loss {recent:.3f}  ({time.perf_counter() - t0:.1f}s)", flush=True)

    text_out = sample(model, stoi, itos, args.prompt, args.sample_len)
    print("\n--- sample " + "-" * 60)
    print(text_out)
    print("-" * 71)
    return {"losses": losses, "sample": text_out, "vocab": len(itos)}


if __name__ == "__main__":
    main()
