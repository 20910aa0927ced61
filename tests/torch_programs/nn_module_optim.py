# Learn a noisy nonlinear function with a small MLP: an nn.Module trained by torch.optim.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

# synthetic data: y = sin(x @ w) + noise
N, D_in, H, D_out = 128, 8, 32, 1
x = torch.randn(N, D_in)
w_true = torch.randn(D_in, D_out)
y = torch.sin(x @ w_true) + 0.05 * torch.randn(N, D_out)


class MLP(nn.Module):
    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, d_out)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return self.out(x)


model = MLP(D_in, H, D_out)
print(model)
print("parameters:", sum(p.numel() for p in model.parameters()))
print("initial fc1 weight[0, :4]:", [round(v, 4) for v in model.fc1.weight[0, :4].tolist()])

loss_fn = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
batch_size = 32

for epoch in range(30):
    perm = torch.randperm(N)
    total = 0.0
    for i in range(0, N, batch_size):
        idx = perm[i:i + batch_size]
        pred = model(x[idx])
        loss = loss_fn(pred, y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * idx.numel()
    if epoch % 5 == 0 or epoch == 29:
        print(f"epoch {epoch:2d}  loss {total / N:.4f}")

# fine-tune with plain SGD and momentum on the full batch
sgd = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for step in range(20):
    loss = loss_fn(model(x), y)
    sgd.zero_grad()
    loss.backward()
    sgd.step()
    if step % 5 == 4:
        print(f"sgd step {step + 1}  loss {loss.item():.4f}")

with torch.no_grad():
    final = loss_fn(model(x), y).item()
    norm = torch.sqrt(sum((p ** 2).sum() for p in model.parameters()))
print(f"final loss {final:.4f}")
print(f"weight norm {norm.item():.3f}")
print("fc1 weight norm", f"{model.fc1.weight.norm().item():.3f}")
