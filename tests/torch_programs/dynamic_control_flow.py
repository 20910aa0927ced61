# Define-by-run: the graph follows Python control flow, rebuilt on every forward.
import torch

torch.manual_seed(1)


def f(x, steps):
    h = x
    for _ in range(steps):
        if h.sum() > 0:
            h = torch.tanh(h * 1.5)
        else:
            h = torch.sigmoid(h) - 0.25
    return (h * h).sum()


x = torch.randn(5, requires_grad=True)
for steps in (1, 3, 6):
    x.grad = None
    out = f(x, steps)
    out.backward()
    print(steps, out, x.grad)

w = torch.randn(3, 4, requires_grad=True)
inputs = [torch.randn(4) for _ in range(3)]
total = 0
for i, v in enumerate(inputs):
    score = (w @ v).max()
    total = total + (score if i % 2 == 0 else -score)
total.backward()
print(total)
print(w.grad + 0.0)  # + 0.0: entries that are exactly zero print without a sign
g = torch.autograd.grad((w ** 3).sum(), w, create_graph=True)[0]
print(torch.autograd.grad(g.sum(), w)[0])
