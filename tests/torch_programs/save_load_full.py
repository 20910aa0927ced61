# Whole-model and NumPy checkpoints: torch.save(model) and a dict holding NumPy arrays load back only
# with torch.load(weights_only=False); the default (weights-only) loader refuses them and says so.
import os
import pickle
import tempfile

import numpy as np
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.BatchNorm1d(8), nn.Linear(8, 2))

    def forward(self, x):
        return self.body(x).log_softmax(1)


torch.manual_seed(0)
net = Net()
net.eval()
x = torch.randn(4, 3)
series = np.linspace(0.0, 1.0, 6).reshape(2, 3)

with tempfile.TemporaryDirectory() as d:
    model_path, data_path = os.path.join(d, "net.pt"), os.path.join(d, "data.pt")
    torch.save(net, model_path)
    torch.save({"series": series, "step": 7}, data_path)
    try:
        torch.load(model_path)
    except pickle.UnpicklingError as e:
        print("weights-only load refused:", str(e).splitlines()[3].split("GLOBAL ")[1].split(" ")[0])
    loaded = torch.load(model_path, weights_only=False)
    data = torch.load(data_path, weights_only=False)

print(type(loaded).__name__, type(loaded.body[2]).__name__, loaded.training)
print(torch.equal(loaded(x), net(x)), loaded(x).detach().numpy().round(3).tolist())
print(type(data["series"]).__name__, data["series"].tolist(), data["step"])
