# ruff: noqa: UP008, UP032  (the example's own spelling is kept)
# Adapted from pytorch/examples, path mnist_rnn/main.py (LSTM classifier on MNIST rows).
# Changes made so that it runs offline, quickly and identically under torch and ember:
# - MNIST download/torchvision transforms replaced by synthetic data from the seeded generator
#   (torch.rand images normalised with MNIST's mean/std, torch.randint labels) in a TensorDataset;
# - 256 training and 128 test samples, test batch size 64, 2 epochs, log every batch;
# - argparse replaced by a fixed namespace with the example's defaults (lr 0.1, gamma 0.7, seed 1);
#   the cuda/mps/xpu device choice, --dry-run and --save-model removed (CPU only, no file written);
# - `from __future__ import print_function` and the explanatory comments inside forward()/test() dropped;
# - losses printed with 4 digits (the example prints 6 and 4): float32 sums may differ in the last
#   place between libraries, the number we compare must not.
import types

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.rnn = nn.LSTM(input_size=28, hidden_size=64, batch_first=True)
        self.batchnorm = nn.BatchNorm1d(64)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout2d(0.5)
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, input):
        input = input.reshape(-1, 28, 28)
        output, hidden = self.rnn(input)
        output = output[:, -1, :]
        output = self.batchnorm(output)
        output = self.dropout1(output)
        output = self.fc1(output)
        output = F.relu(output)
        output = self.dropout2(output)
        output = self.fc2(output)
        output = F.log_softmax(output, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.4f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))


def test(args, model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)

    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)))


def synthetic(n):
    images = (torch.rand(n, 1, 28, 28) - 0.1307) / 0.3081
    labels = torch.randint(0, 10, (n,))
    return TensorDataset(images, labels)


def main():
    args = types.SimpleNamespace(batch_size=64, test_batch_size=64, epochs=2, lr=0.1, gamma=0.7,
                                 seed=1, log_interval=1)
    device = torch.device("cpu")
    torch.manual_seed(args.seed)
    train_loader = DataLoader(synthetic(256), batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(synthetic(128), batch_size=args.test_batch_size, shuffle=True)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(args, model, device, test_loader)
        scheduler.step()


if __name__ == '__main__':
    main()
