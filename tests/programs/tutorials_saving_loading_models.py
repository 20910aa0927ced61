# -*- coding: utf-8 -*-
# Source: pytorch/tutorials, beginner_source/saving_loading_models.py (Matthew Inkawhich)
#   https://github.com/pytorch/tutorials/blob/0db0c4e14cc158469e6c2a27e34bd998a0c390ba/beginner_source/saving_loading_models.py
# Changes (ember corpus):
#   - this tutorial's code lives in ``.. code:: python`` blocks; they are assembled here in order
#     (state_dict printing, save/load state_dict, save/load the entire model, a general checkpoint,
#     warmstarting with strict=False) with PATH in a temporary directory
#   - torch.manual_seed(0), one SGD step on a random CIFAR-sized batch so the checkpoint holds
#     momentum buffers, and prints of the reloaded model's output added
#   - the optimizer state_dict's param ids are printed as the tutorial does (they are small ints)
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)


# Define model
class TheModelClass(nn.Module):
    def __init__(self):
        super(TheModelClass, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x

# Initialize model
model = TheModelClass()

# Initialize optimizer
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

# Print model's state_dict
print("Model's state_dict:")
for param_tensor in model.state_dict():
    print(param_tensor, "\t", model.state_dict()[param_tensor].size())

# Print optimizer's state_dict
print("Optimizer's state_dict:")
for var_name in optimizer.state_dict():
    print(var_name, "\t", optimizer.state_dict()[var_name])

inputs, labels = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
loss = F.cross_entropy(model(inputs), labels)
optimizer.zero_grad()
loss.backward()
optimizer.step()
epoch = 1

PATH = os.path.join(tempfile.mkdtemp(), "model.pt")

# Save/Load state_dict (Recommended)
torch.save(model.state_dict(), PATH)
model = TheModelClass()
model.load_state_dict(torch.load(PATH, weights_only=True))
model.eval()
print(model(inputs))

# Save/Load Entire Model
torch.save(model, PATH)
# Model class must be defined somewhere
model = torch.load(PATH, weights_only=False)
model.eval()
print(model(inputs).argmax(1))

# Saving & Loading a General Checkpoint
torch.save({
            'epoch': epoch,
            'model_state_dict': model.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(),
            'loss': loss,
            }, PATH)

model = TheModelClass()
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

checkpoint = torch.load(PATH, weights_only=True)
model.load_state_dict(checkpoint['model_state_dict'])
optimizer.load_state_dict(checkpoint['optimizer_state_dict'])
epoch = checkpoint['epoch']
loss = checkpoint['loss']
print(epoch, loss)
print(optimizer.state_dict()['state'][0]['momentum_buffer'].sum())

model.train()

# Warmstarting Model Using Parameters from a Different Model
torch.save(model.state_dict(), PATH)
modelB = TheModelClass()
print(modelB.load_state_dict(torch.load(PATH, weights_only=True), strict=False))
print(torch.equal(modelB.fc3.weight, model.fc3.weight))

# Save on GPU, Load on CPU
device = torch.device('cpu')
model = TheModelClass()
model.load_state_dict(torch.load(PATH, map_location=device, weights_only=True))
print(model(inputs).sum())
