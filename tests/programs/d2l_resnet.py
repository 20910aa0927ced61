# Source: d2l-ai/d2l-zh, chapter_convolutional-modern/resnet.md (the PyTorch cells)
#   https://github.com/d2l-ai/d2l-zh/blob/083e869ed29cd32fbf25ebc7296b1e1a33c7014f/chapter_convolutional-modern/resnet.md
# Changes (ember corpus):
#   - torch.manual_seed(0) added; the notebook's bare `Y.shape` / `blk(X).shape` lines printed
#   - the ResNet-18 shape walk runs on a 1x1x96x96 image instead of 224x224
#   - `d2l.train_ch6` on Fashion-MNIST (10 epochs, 96x96) replaced by two SGD steps (lr 0.05) on 8
#     seeded random 1x32x32 images, printing the loss, then one eval-mode forward whose logits are
#     printed to 1 decimal: float32 rounding in the two conv backward passes (1e-5 relative) grows
#     to ~1e-3 in those logits through 18 layers with BatchNorm's running statistics (checked layer
#     by layer: parameters, statistics and the untrained eval forward agree)
import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)


class Residual(nn.Module):  #@save
    def __init__(self, input_channels, num_channels,
                 use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels,
                               kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels,
                               kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels,
                                   kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


blk = Residual(3,3)
X = torch.rand(4, 3, 6, 6)
Y = blk(X)
print(Y.shape)

blk = Residual(3,6, use_1x1conv=True, strides=2)
print(blk(X).shape)

b1 = nn.Sequential(nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
                   nn.BatchNorm2d(64), nn.ReLU(),
                   nn.MaxPool2d(kernel_size=3, stride=2, padding=1))


def resnet_block(input_channels, num_channels, num_residuals,
                 first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels,
                                use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk


b2 = nn.Sequential(*resnet_block(64, 64, 2, first_block=True))
b3 = nn.Sequential(*resnet_block(64, 128, 2))
b4 = nn.Sequential(*resnet_block(128, 256, 2))
b5 = nn.Sequential(*resnet_block(256, 512, 2))

net = nn.Sequential(b1, b2, b3, b4, b5,
                    nn.AdaptiveAvgPool2d((1,1)),
                    nn.Flatten(), nn.Linear(512, 10))

X = torch.rand(size=(1, 1, 96, 96))
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__,'output shape:\t', X.shape)

lr = 0.05
optimizer = torch.optim.SGD(net.parameters(), lr=lr)
loss = nn.CrossEntropyLoss()
X, y = torch.rand(8, 1, 32, 32), torch.randint(0, 10, (8,))
net.train()
for step in range(2):
    optimizer.zero_grad()
    l = loss(net(X), y)
    l.backward()
    optimizer.step()
    print(step, l.item())
net.eval()
with torch.no_grad():
    print(net(X).argmax(dim=1), net(X)[0, :4].round(decimals=1))
