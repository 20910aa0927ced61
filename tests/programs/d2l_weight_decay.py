# Source: d2l-ai/d2l-zh, chapter_multilayer-perceptrons/weight-decay.md (the PyTorch cells)
#   https://github.com/d2l-ai/d2l-zh/blob/078ab0db39ca0f35d64cd9bdd0d72f5f9a3a913c/chapter_multilayer-perceptrons/weight-decay.md
# Changes (ember corpus):
#   - `from d2l import torch as d2l` replaced by the d2l/torch.py helpers the chapter calls
#     (ones, synthetic_data, load_array, linreg, squared_loss, sgd, evaluate_loss), written as
#     in the linear-regression chapters
#   - d2l.Animator replaced by a print of what it is given: epoch, train loss, test loss every 5
#     epochs; torch.manual_seed(0) added
import torch
from torch import nn
from torch.utils import data


class d2l:  # the helpers of d2l/torch.py this chapter uses
    ones = torch.ones

    @staticmethod
    def synthetic_data(w, b, num_examples):
        """生成 y = Xw + b + 噪声。"""
        X = torch.normal(0, 1, (num_examples, len(w)))
        y = torch.matmul(X, w) + b
        y += torch.normal(0, 0.01, y.shape)
        return X, y.reshape((-1, 1))

    @staticmethod
    def load_array(data_arrays, batch_size, is_train=True):
        """构造一个PyTorch数据迭代器"""
        dataset = data.TensorDataset(*data_arrays)
        return data.DataLoader(dataset, batch_size, shuffle=is_train)

    @staticmethod
    def linreg(X, w, b):
        """线性回归模型。"""
        return torch.matmul(X, w) + b

    @staticmethod
    def squared_loss(y_hat, y):
        """均方损失。"""
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

    @staticmethod
    def sgd(params, lr, batch_size):
        """小批量随机梯度下降。"""
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad.zero_()

    @staticmethod
    def evaluate_loss(net, data_iter, loss):
        """评估给定数据集上模型的损失。"""
        total, n = 0.0, 0
        for X, y in data_iter:
            out = net(X)
            y = y.reshape(out.shape)
            l = loss(out, y)
            total += float(l.sum())
            n += l.numel()
        return total / n


torch.manual_seed(0)

n_train, n_test, num_inputs, batch_size = 20, 100, 200, 5
true_w, true_b = d2l.ones((num_inputs, 1)) * 0.01, 0.05
train_data = d2l.synthetic_data(true_w, true_b, n_train)
train_iter = d2l.load_array(train_data, batch_size)
test_data = d2l.synthetic_data(true_w, true_b, n_test)
test_iter = d2l.load_array(test_data, batch_size, is_train=False)


def init_params():
    w = torch.normal(0, 1, size=(num_inputs, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return [w, b]


def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2


def train(lambd):
    w, b = init_params()
    net, loss = lambda X: d2l.linreg(X, w, b), d2l.squared_loss
    num_epochs, lr = 100, 0.003
    for epoch in range(num_epochs):
        for X, y in train_iter:
            # 增加了L2范数惩罚项，广播机制使l2_penalty(w)成为一个长度为`batch_size`的向量。
            l = loss(net(X), y) + lambd * l2_penalty(w)
            l.sum().backward()
            d2l.sgd([w, b], lr, batch_size)
        if (epoch + 1) % 5 == 0:
            with torch.no_grad():
                print(epoch + 1, (d2l.evaluate_loss(net, train_iter, loss),
                                  d2l.evaluate_loss(net, test_iter, loss)))
    print('w的L2范数是：', torch.norm(w).item())


train(lambd=0)
train(lambd=3)


def train_concise(wd):
    net = nn.Sequential(nn.Linear(num_inputs, 1))
    for param in net.parameters():
        param.data.normal_()
    loss = nn.MSELoss()
    num_epochs, lr = 100, 0.003
    # 偏置参数没有衰减。
    trainer = torch.optim.SGD([
        {"params":net[0].weight,'weight_decay': wd},
        {"params":net[0].bias}], lr=lr)
    for epoch in range(num_epochs):
        for X, y in train_iter:
            trainer.zero_grad()
            l = loss(net(X), y)
            l.backward()
            trainer.step()
        if (epoch + 1) % 5 == 0:
            with torch.no_grad():
                print(epoch + 1, (d2l.evaluate_loss(net, train_iter, loss),
                                  d2l.evaluate_loss(net, test_iter, loss)))
    print('w的L2范数：', net[0].weight.norm().item())


train_concise(0)
train_concise(3)
