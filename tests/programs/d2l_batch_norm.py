# Source: d2l-ai/d2l-zh, chapter_convolutional-modern/batch-norm.md (the PyTorch cells: batch_norm,
#   BatchNorm and the LeNet that uses it)
#   https://github.com/d2l-ai/d2l-zh/blob/00ed7d89f3196881daa2b901de8d79b7fa1598ce/chapter_convolutional-modern/batch-norm.md
# Changes (ember corpus):
#   - `d2l.load_data_fashion_mnist` replaced by seeded random 1x28x28 images and labels (128 train,
#     64 test) in DataLoaders; `d2l.train_ch6(net, train_iter, test_iter, num_epochs, lr, device)`
#     replaced by a short loop doing what d2l's train_ch6 does (xavier_uniform_ init of Linear and
#     Conv2d, SGD, CrossEntropyLoss, per-epoch loss / train acc / test acc), without its plot
#   - lr 1.0 and num_epochs 10 -> 2, batch size 256 -> 32; torch.manual_seed(0) added
#   - the final learned gamma/beta prints of the chapter kept (`net[1].gamma.reshape((-1,))`)
import torch
from torch import nn


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    # 通过is_grad_enabled来判断当前模式是训练模式还是预测模式
    if not torch.is_grad_enabled():
        # 如果是在预测模式下，直接使用传入的移动平均所得的均值和方差
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            # 使用全连接层的情况，计算特征维上的均值和方差
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            # 使用二维卷积层的情况，计算通道维上（axis=1）的均值和方差。
            # 这里我们需要保持X的形状以便后面可以做广播运算
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        # 训练模式下，用当前的均值和方差做标准化
        X_hat = (X - mean) / torch.sqrt(var + eps)
        # 更新移动平均的均值和方差
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    Y = gamma * X_hat + beta  # 缩放和移位
    return Y, moving_mean.data, moving_var.data


class BatchNorm(nn.Module):
    # num_features：完全连接层的输出数量或卷积层的输出通道数。
    # num_dims：2表示完全连接层，4表示卷积层
    def __init__(self, num_features, num_dims):
        super().__init__()
        if num_dims == 2:
            shape = (1, num_features)
        else:
            shape = (1, num_features, 1, 1)
        # 参与求梯度和迭代的拉伸和偏移参数，分别初始化成1和0
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        # 非模型参数的变量初始化为0和1
        self.register_buffer("moving_mean", torch.zeros(shape))
        self.register_buffer("moving_var", torch.ones(shape))

    def forward(self, X):
        # 如果X不在内存上，将moving_mean和moving_var
        # 复制到X所在显存上
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        # 保存更新过的moving_mean和moving_var
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean,
            self.moving_var, eps=1e-5, momentum=0.9)
        return Y


torch.manual_seed(0)

net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5), BatchNorm(6, num_dims=4), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), BatchNorm(16, num_dims=4), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
    nn.Linear(16*4*4, 120), BatchNorm(120, num_dims=2), nn.Sigmoid(),
    nn.Linear(120, 84), BatchNorm(84, num_dims=2), nn.Sigmoid(),
    nn.Linear(84, 10))

lr, num_epochs, batch_size = 1.0, 2, 32
data = torch.utils.data
train_iter = data.DataLoader(data.TensorDataset(torch.rand(128, 1, 28, 28), torch.randint(0, 10, (128,))),
                             batch_size, shuffle=True)
test_iter = data.DataLoader(data.TensorDataset(torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))),
                            batch_size, shuffle=False)


def evaluate_accuracy(net, data_iter):
    net.eval()
    correct, total = 0.0, 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += float((net(X).argmax(axis=1) == y).sum())
            total += y.numel()
    return correct / total


def train_ch6(net, train_iter, test_iter, num_epochs, lr):
    def init_weights(m):
        if type(m) == nn.Linear or type(m) == nn.Conv2d:
            nn.init.xavier_uniform_(m.weight)
    net.apply(init_weights)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    for epoch in range(num_epochs):
        net.train()
        total_loss, total_correct, n = 0.0, 0.0, 0
        for X, y in train_iter:
            optimizer.zero_grad()
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            with torch.no_grad():
                total_loss += l * X.shape[0]
                total_correct += float((y_hat.argmax(axis=1) == y).sum())
                n += X.shape[0]
        test_acc = evaluate_accuracy(net, test_iter)
        print(f'epoch {epoch + 1}, loss {float(total_loss) / n:.3f}, train acc {total_correct / n:.3f}, '
              f'test acc {test_acc:.3f}')


train_ch6(net, train_iter, test_iter, num_epochs, lr)

print(net[1].gamma.reshape((-1,)), net[1].beta.reshape((-1,)))

# the concise version of the chapter
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5), nn.BatchNorm2d(6), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
    nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(),
    nn.Linear(84, 10))

train_ch6(net, train_iter, test_iter, num_epochs, lr)
print(net[1].running_mean, net[1].running_var)
