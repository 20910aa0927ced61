# Source: pytorch/tutorials, beginner_source/examples_nn/two_layer_net_optim.py
#   https://github.com/pytorch/tutorials/blob/29c5caad33fdcd34418e62e7cfdddab5c3bd2021/beginner_source/examples_nn/two_layer_net_optim.py
# Changes (ember corpus):
#   - torch.manual_seed(0) added (the tutorial is unseeded)
#   - 500 iterations -> 100, printing every 10th; `loss.data[0]` -> `loss.item()` (indexing a
#     0-dim tensor fails since torch 0.4); docstring dropped
import torch
from torch.autograd import Variable

torch.manual_seed(0)

# N is batch size; D_in is input dimension;
# H is hidden dimension; D_out is output dimension.
N, D_in, H, D_out = 64, 1000, 100, 10

# Create random Tensors to hold inputs and outputs, and wrap them in Variables.
x = Variable(torch.randn(N, D_in))
y = Variable(torch.randn(N, D_out), requires_grad=False)

# Use the nn package to define our model and loss function.
model = torch.nn.Sequential(
          torch.nn.Linear(D_in, H),
          torch.nn.ReLU(),
          torch.nn.Linear(H, D_out),
        )
loss_fn = torch.nn.MSELoss(size_average=False)

learning_rate = 1e-4
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
for t in range(100):
  # Forward pass: compute predicted y by passing x to the model.
  y_pred = model(x)

  # Compute and print loss.
  loss = loss_fn(y_pred, y)
  if t % 10 == 0:
    print(t, loss.item())

  optimizer.zero_grad()

  # Backward pass: compute gradient of the loss with respect to model parameters
  loss.backward()

  # Calling the step function on an Optimizer makes an update to its parameters
  optimizer.step()
